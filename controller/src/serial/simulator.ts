/**
 * A knob box in software: the device side of PROTOCOL.md over any byte stream or a serial path
 * (a pty end, a USB-serial loopback). Tests turn its knobs and read back the LED rings the host
 * drives; it can also misbehave on purpose (garbage, floods, a reset, silence, a wrong identity).
 *
 *   npx tsx controller/src/serial/simulator.ts /path/to/pty     an interactive box on a pty
 */
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { SerialPort } from 'serialport';
import {
  BAUD_RATE,
  DEVICE_KIND,
  ENCODER_DELTA_MAX,
  LINE_FAULTS,
  LineAssembler,
  POSITION_MAX,
  PROTOCOL_MAJOR,
  PROTOCOL_MINOR,
  encodeDeviceMessage,
  parseHostLine,
  type DeviceMessage,
  type HostMessage,
  type LineFault,
  type ProtocolVersion,
} from './protocol.ts';

export interface SimulatorOptions {
  knobs?: number;
  buttons?: number;
  encoders?: number;
  motors?: number;
  serialNumber?: string;
  firmwareVersion?: string;
  /** What HELLO claims; change it to play a device that is not a knob box. */
  kind?: string;
  protocol?: ProtocolVersion;
  /** Initial knob positions (default: all at 512). */
  knobPositions?: number[];
}

/** Everything the simulator has been told by the host, for tests to assert on. */
export interface SimulatorFeedback {
  readonly rings: readonly number[];
  readonly leds: readonly boolean[];
  readonly motors: readonly number[];
}

export class KnobBoxSimulator {
  readonly knobs: number;
  readonly buttons: number;
  readonly encoders: number;
  readonly motorCount: number;
  readonly serialNumber: string;
  readonly firmwareVersion: string;
  readonly kind: string;
  readonly protocol: ProtocolVersion;

  /** LED ring values, knob rings then encoder rings (PROTOCOL.md). */
  readonly rings: number[];
  readonly leds: boolean[];
  readonly motors: number[];
  /** Valid host lines received, oldest first (capped, newest kept). */
  readonly received: HostMessage[] = [];
  /** Host lines refused, by fault (and answered with ERR). */
  readonly faults: Record<LineFault | 'hello' | 'version', number>;
  handshakes = 0;
  /** When set, the box neither answers nor reports anything (a hung firmware). */
  frozen = false;

  private stream: Duplex | undefined;
  private closeStream: (() => Promise<void>) | undefined;
  private readonly assembler = new LineAssembler();
  private readonly positions: number[];
  private readonly pressed: boolean[];
  private inSession = false;
  private readonly listeners = new Set<(message: HostMessage) => void>();

  private static readonly RECEIVED_KEPT = 1000;

  constructor(options: SimulatorOptions = {}) {
    this.knobs = options.knobs ?? 8;
    this.buttons = options.buttons ?? 4;
    this.encoders = options.encoders ?? 2;
    this.motorCount = options.motors ?? 0;
    this.serialNumber = options.serialNumber ?? 'SIM-0001';
    this.firmwareVersion = options.firmwareVersion ?? 'sim-1.0';
    this.kind = options.kind ?? DEVICE_KIND;
    this.protocol = options.protocol ?? { major: PROTOCOL_MAJOR, minor: PROTOCOL_MINOR };
    this.positions = Array.from({ length: this.knobs }, (_, index) => options.knobPositions?.[index] ?? 512);
    this.pressed = new Array<boolean>(this.buttons).fill(false);
    this.rings = new Array<number>(this.knobs + this.encoders).fill(0);
    this.leds = new Array<boolean>(this.buttons).fill(false);
    this.motors = new Array<number>(this.motorCount).fill(0);
    this.faults = Object.fromEntries(
      [...LINE_FAULTS, 'hello', 'version'].map((fault) => [fault, 0]),
    ) as Record<LineFault | 'hello' | 'version', number>;
  }

  /** Opens a serial path (e.g. one end of a socat pty pair) and serves it. */
  static async open(path: string, options: SimulatorOptions = {}): Promise<KnobBoxSimulator> {
    const simulator = new KnobBoxSimulator(options);
    await simulator.openPath(path);
    return simulator;
  }

  async openPath(path: string): Promise<void> {
    const port = new SerialPort({ path, baudRate: BAUD_RATE, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((error) => (error ? reject(new Error(`${path}: cannot open: ${error.message}`)) : resolve())),
    );
    this.attach(
      port,
      () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
    );
  }

  /** Serves a stream; a previous one is let go. The box keeps its state, as across a cable swap. */
  attach(stream: Duplex, close: () => Promise<void> = () => Promise.resolve(void stream.destroy())): void {
    this.stream = stream;
    this.closeStream = close;
    this.inSession = false;
    this.assembler.reset();
    stream.on('data', (chunk: Buffer) => {
      if (this.stream === stream) this.assembler.push(chunk, this.lineSink);
    });
    // A pty whose other side went away reports an error; the test decides what happens next.
    stream.on('error', () => {});
  }

  get connected(): boolean {
    return this.stream !== undefined && !this.stream.destroyed && this.stream.writable;
  }

  get sessionOpen(): boolean {
    return this.inSession;
  }

  feedback(): SimulatorFeedback {
    return { rings: [...this.rings], leds: [...this.leds], motors: [...this.motors] };
  }

  /** Called with every valid host line. Returns an unsubscribe function. */
  onHostMessage(listener: (message: HostMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  position(index: number): number {
    return this.positions[index];
  }

  turnKnob(index: number, value: number): void {
    this.checkIndex('knob', index, this.knobs);
    if (!Number.isInteger(value) || value < 0 || value > POSITION_MAX)
      throw new RangeError(`simulator: knob value ${value} is not 0..${POSITION_MAX}`);
    this.positions[index] = value;
    this.report({ type: 'knob', index, value });
  }

  /** Detents, clockwise positive; large turns go out in several lines, as the firmware does. */
  turnEncoder(index: number, detents: number): void {
    this.checkIndex('encoder', index, this.encoders);
    let rest = Math.trunc(detents);
    while (rest !== 0) {
      const delta = Math.max(-ENCODER_DELTA_MAX, Math.min(ENCODER_DELTA_MAX, rest));
      this.report({ type: 'encoder', index, delta });
      rest -= delta;
    }
  }

  pressButton(index: number): void {
    this.setButton(index, true);
  }

  releaseButton(index: number): void {
    this.setButton(index, false);
  }

  tapButton(index: number): void {
    this.setButton(index, true);
    this.setButton(index, false);
  }

  /**
   * Raw bytes straight onto the wire: garbage, half lines, lines with wrong checksums. Resolves
   * once they have left (and so has everything written before them).
   */
  injectRaw(bytes: string | Uint8Array): Promise<void> {
    return this.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** A device message framed properly, sent whether or not a session is open. */
  injectMessage(message: DeviceMessage): Promise<void> {
    return this.write(encodeDeviceMessage(message));
  }

  /** A watchdog reset without the USB link dropping: session, LEDs and rings are gone. */
  reboot(): void {
    this.inSession = false;
    this.assembler.reset();
    this.rings.fill(0);
    this.leds.fill(false);
    this.motors.fill(0);
  }

  /** Lets go of the stream (closing a serial path); the box's state stays for a later attach. */
  async detach(): Promise<void> {
    const close = this.closeStream;
    this.stream = undefined;
    this.closeStream = undefined;
    this.inSession = false;
    await close?.();
  }

  async close(): Promise<void> {
    await this.detach();
    this.listeners.clear();
  }

  private setButton(index: number, down: boolean): void {
    this.checkIndex('button', index, this.buttons);
    if (this.pressed[index] === down) return;
    this.pressed[index] = down;
    this.report({ type: 'button', index, down });
  }

  private checkIndex(what: string, index: number, count: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= count)
      throw new RangeError(`simulator: ${what} ${index} is not 0..${count - 1}`);
  }

  /** Controls report only inside a session, as the firmware does. */
  private report(message: DeviceMessage): void {
    if (this.inSession) void this.write(encodeDeviceMessage(message));
  }

  private write(data: string | Uint8Array): Promise<void> {
    const stream = this.stream;
    if (this.frozen || !stream || stream.destroyed || !stream.writable) return Promise.resolve();
    return new Promise<void>((resolve) => stream.write(data, () => resolve()));
  }

  private readonly lineSink = {
    line: (text: string) => this.handleLine(text),
    overlong: () => this.refuse('overlong'),
  };

  private refuse(code: LineFault | 'hello' | 'version', detail = ''): void {
    this.faults[code]++;
    this.write(encodeDeviceMessage({ type: 'error', code, detail }));
  }

  private handleLine(text: string): void {
    if (this.frozen) return;
    const parsed = parseHostLine(text);
    if (!parsed.ok) return this.refuse(parsed.fault);
    const message = parsed.message;
    if (message.type === 'hello?') {
      if (!message.majors.includes(this.protocol.major))
        return this.refuse('version', String(this.protocol.major));
      this.inSession = true;
      this.handshakes++;
      this.write(
        encodeDeviceMessage({
          type: 'hello',
          protocol: this.protocol,
          kind: this.kind,
          firmwareVersion: this.firmwareVersion,
          serialNumber: this.serialNumber,
          knobs: this.knobs,
          buttons: this.buttons,
          encoders: this.encoders,
          motors: this.motorCount,
        }),
      );
      this.positions.forEach((value, index) =>
        this.write(encodeDeviceMessage({ type: 'knob', index, value })),
      );
      return this.record(message);
    }
    if (!this.inSession) return this.refuse('hello');
    switch (message.type) {
      case 'ring':
        if (message.index >= this.rings.length) return this.refuse('range');
        this.rings[message.index] = message.value;
        break;
      case 'led':
        if (message.index >= this.leds.length) return this.refuse('range');
        this.leds[message.index] = message.on;
        break;
      case 'motor':
        if (message.index >= this.motors.length) return this.refuse('range');
        this.motors[message.index] = message.value;
        break;
      case 'ping?':
        this.write(encodeDeviceMessage({ type: 'pong', token: message.token }));
        break;
    }
    this.record(message);
  }

  private record(message: HostMessage): void {
    this.received.push(message);
    if (this.received.length > KnobBoxSimulator.RECEIVED_KEPT)
      this.received.splice(0, this.received.length - KnobBoxSimulator.RECEIVED_KEPT);
    for (const listener of this.listeners) listener(message);
  }
}

function ringBar(value: number): string {
  const width = 20;
  const filled = Math.round((value / POSITION_MAX) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${value}`;
}

const HELP = `commands:
  k <knob> <0..1023>    turn a knob to a position
  e <encoder> <detents> turn an encoder (negative = counter-clockwise)
  b <button>            tap a button (d <button> / u <button> to hold / release)
  g                     send a burst of garbage
  r                     reset (forget the session, as a watchdog reset would)
  s                     show rings and LEDs
  q                     quit`;

async function main(path: string | undefined): Promise<void> {
  if (!path) {
    console.error('usage: npx tsx controller/src/serial/simulator.ts /path/to/serial-or-pty');
    process.exitCode = 2;
    return;
  }
  const simulator = await KnobBoxSimulator.open(path);
  console.log(
    `knob-box simulator ${simulator.serialNumber} on ${path}: ${simulator.knobs} knobs, ${simulator.buttons} buttons, ${simulator.encoders} encoders`,
  );
  console.log(HELP);
  const show = () => {
    simulator.rings.forEach((value, index) =>
      console.log(
        `  ring ${index}${index >= simulator.knobs ? ` (encoder ${index - simulator.knobs})` : ''} ${ringBar(value)}`,
      ),
    );
    console.log(`  leds ${simulator.leds.map((on) => (on ? '●' : '○')).join(' ')}`);
  };
  simulator.onHostMessage((message) => {
    if (message.type === 'hello?') console.log('host said HELLO?, session open');
    else if (message.type === 'ring') console.log(`  ring ${message.index} ${ringBar(message.value)}`);
    else if (message.type === 'led') console.log(`  led ${message.index} ${message.on ? 'on' : 'off'}`);
  });
  const input = createInterface({ input: process.stdin });
  for await (const line of input) {
    const [command, first, second] = line.trim().split(/\s+/);
    try {
      if (command === 'k') simulator.turnKnob(Number(first), Number(second));
      else if (command === 'e') simulator.turnEncoder(Number(first), Number(second));
      else if (command === 'b') simulator.tapButton(Number(first));
      else if (command === 'd') simulator.pressButton(Number(first));
      else if (command === 'u') simulator.releaseButton(Number(first));
      else if (command === 'g') simulator.injectRaw('\x00\xff garbage without a checksum\nK 1 2*00\n');
      else if (command === 'r') simulator.reboot();
      else if (command === 's') show();
      else if (command === 'q') break;
      else if (command) console.log(HELP);
    } catch (error) {
      console.log(error instanceof Error ? error.message : String(error));
    }
  }
  await simulator.close();
  input.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv[2]).catch((error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
