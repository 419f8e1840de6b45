/** naudiodon, the PortAudio binding, as the audio worker uses it. */
import { createRequire } from 'node:module';
import type { AudioDevice } from './devices.ts';

export type AudioStream = NodeJS.EventEmitter & {
  start(): void;
  quit(callback?: () => void): void;
  write(chunk: Buffer, callback?: () => void): boolean;
  readonly writableLength: number;
};

export interface Naudiodon {
  getDevices(): AudioDevice[];
  SampleFormatFloat32: number;
  AudioIO: new (options: Record<string, unknown>) => AudioStream;
}

/** naudiodon, loaded only here: its PortAudio context and crash handler belong to the audio worker. */
export function loadNaudiodon(): Naudiodon {
  return createRequire(import.meta.url)('naudiodon') as Naudiodon;
}
