/**
 * What a knob-box surface talks through: a byte stream plus the right way to let go of it, which
 * differs between a serial port (close it, if still open) and any other stream (destroy it).
 */
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { BAUD_RATE } from './protocol.ts';

export interface Link {
  readonly stream: Duplex;
  close(): Promise<void>;
}

export async function openSerialLink(path: string): Promise<Link> {
  const port = new SerialPort({
    path,
    baudRate: BAUD_RATE,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    autoOpen: false,
  });
  await new Promise<void>((resolve, reject) => {
    port.open((error) => (error ? reject(new Error(`${path}: cannot open: ${error.message}`)) : resolve()));
  });
  return {
    stream: port,
    close: () =>
      new Promise<void>((resolve) => {
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }),
  };
}

export function streamLink(stream: Duplex): Link {
  return {
    stream,
    close: () =>
      new Promise<void>((resolve) => {
        if (stream.destroyed) return resolve();
        stream.once('close', () => resolve());
        stream.destroy();
      }),
  };
}
