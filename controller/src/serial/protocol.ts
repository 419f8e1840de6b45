/**
 * The knob-box serial protocol (firmware-notes/PROTOCOL.md), host side and device side, as pure
 * functions over text lines. A line on the wire is `<payload>*<CRC-8 as two uppercase hex>\n`;
 * everything here either builds such a line or takes one apart and says precisely why it is bad.
 * The reference firmware's C++ core implements the same rules; firmware-core.test.ts holds the
 * two to the same wire strings.
 */

export const PROTOCOL_MAJOR = 1;
export const PROTOCOL_MINOR = 0;
export const DEVICE_KIND = 'rig-knob-box';
/** USB CDC ignores it; a USB-UART bridge (CH340, FT232) needs it on both ends. 8N1. */
export const BAUD_RATE = 115200;
/** Longest line either side may send, payload plus `*XX`, not counting `\r`/`\n`. */
export const MAX_LINE_BYTES = 80;
/** Knob, ring and motor positions are 10-bit: the ADC scale of an Arduino-class board. */
export const POSITION_MAX = 1023;
/** One encoder message carries at most this many detents either way; the rest follows. */
export const ENCODER_DELTA_MAX = 127;
/** Highest control index either side may name; counts in HELLO are at most this plus one. */
export const INDEX_MAX = 63;
export const TOKEN_MAX = 65535;

export interface ProtocolVersion {
  readonly major: number;
  readonly minor: number;
}

export type DeviceMessage =
  | {
      type: 'hello';
      protocol: ProtocolVersion;
      kind: string;
      firmwareVersion: string;
      serialNumber: string;
      knobs: number;
      buttons: number;
      encoders: number;
      motors: number;
    }
  | { type: 'knob'; index: number; value: number }
  | { type: 'encoder'; index: number; delta: number }
  | { type: 'button'; index: number; down: boolean }
  | { type: 'pong'; token: number }
  | { type: 'error'; code: string; detail: string };

export type HostMessage =
  /** Majors the host speaks, in any order. */
  | { type: 'hello?'; majors: number[] }
  /** LED ring `index`: knob rings first (0..knobs-1), then encoder rings (knobs..knobs+encoders-1). */
  | { type: 'ring'; index: number; value: number }
  | { type: 'led'; index: number; on: boolean }
  | { type: 'motor'; index: number; value: number }
  | { type: 'ping?'; token: number };

/**
 * Why a line was refused. `overlong` and `frame` are decided by the line assembler and the
 * framing check, `checksum` by the CRC, the rest after the CRC has vouched for the bytes.
 */
export type LineFault = 'overlong' | 'frame' | 'checksum' | 'syntax' | 'unknown' | 'range';
export const LINE_FAULTS: readonly LineFault[] = [
  'overlong',
  'frame',
  'checksum',
  'syntax',
  'unknown',
  'range',
];

export type Parsed<T> = { ok: true; message: T } | { ok: false; fault: LineFault; reason: string };

/**
 * CRC-8 with polynomial x^8+x^2+x+1 (0x07), initial value 0, no reflection, no final XOR
 * ("CRC-8/SMBUS" in the reveng catalogue; check value over "123456789" is 0xF4). Chosen over a
 * plain XOR because XOR misses swapped characters ("K 1 23" vs "K 1 32"), and a bitwise CRC-8
 * costs an AVR only a few dozen cycles per byte without a table.
 */
export function crc8(text: string): number {
  let crc = 0;
  for (let i = 0; i < text.length; i++) {
    crc ^= text.charCodeAt(i) & 0xff;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

function hex2(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}

/** `payload` -> `payload*XX\n`. Refuses payloads that could not be read back. */
export function frameLine(payload: string): string {
  if (!/^[\x20-\x29\x2b-\x7e]+$/.test(payload))
    throw new Error(`knob-box line "${payload}": payload must be printable ASCII without "*"`);
  if (payload.length + 3 > MAX_LINE_BYTES)
    throw new Error(`knob-box line "${payload}": longer than ${MAX_LINE_BYTES} bytes with its checksum`);
  return `${payload}*${hex2(crc8(payload))}\n`;
}

function requireInteger(what: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`knob-box ${what} ${value} is not an integer in ${min}..${max}`);
  return value;
}

export function encodeHostMessage(message: HostMessage): string {
  switch (message.type) {
    case 'hello?':
      if (message.majors.length === 0)
        throw new RangeError('knob-box HELLO? needs at least one protocol major');
      return frameLine(
        `HELLO? ${message.majors.map((major) => requireInteger('protocol major', major, 1, 999)).join(' ')}`,
      );
    case 'ring':
      return frameLine(
        `R ${requireInteger('ring index', message.index, 0, INDEX_MAX)} ${requireInteger('ring value', message.value, 0, POSITION_MAX)}`,
      );
    case 'led':
      return frameLine(`L ${requireInteger('led index', message.index, 0, INDEX_MAX)} ${message.on ? 1 : 0}`);
    case 'motor':
      return frameLine(
        `M ${requireInteger('motor index', message.index, 0, INDEX_MAX)} ${requireInteger('motor value', message.value, 0, POSITION_MAX)}`,
      );
    case 'ping?':
      return frameLine(`PING? ${requireInteger('ping token', message.token, 0, TOKEN_MAX)}`);
  }
}

export function encodeDeviceMessage(message: DeviceMessage): string {
  switch (message.type) {
    case 'hello': {
      const { protocol, kind, firmwareVersion, serialNumber } = message;
      const counts = [message.knobs, message.buttons, message.encoders, message.motors].map((count) =>
        requireInteger('control count', count, 0, INDEX_MAX + 1),
      );
      return frameLine(
        `HELLO ${protocol.major}.${protocol.minor} ${kind} ${firmwareVersion} ${serialNumber} ${counts.join(' ')}`,
      );
    }
    case 'knob':
      return frameLine(
        `K ${requireInteger('knob index', message.index, 0, INDEX_MAX)} ${requireInteger('knob value', message.value, 0, POSITION_MAX)}`,
      );
    case 'encoder': {
      const delta = requireInteger('encoder delta', message.delta, -ENCODER_DELTA_MAX, ENCODER_DELTA_MAX);
      if (delta === 0) throw new RangeError('knob-box encoder delta 0 says nothing; send no line');
      return frameLine(`E ${requireInteger('encoder index', message.index, 0, INDEX_MAX)} ${delta}`);
    }
    case 'button':
      return frameLine(
        `B ${requireInteger('button index', message.index, 0, INDEX_MAX)} ${message.down ? 1 : 0}`,
      );
    case 'pong':
      return frameLine(`PONG ${requireInteger('pong token', message.token, 0, TOKEN_MAX)}`);
    case 'error':
      return frameLine(message.detail ? `ERR ${message.code} ${message.detail}` : `ERR ${message.code}`);
  }
}

type Fields = readonly string[];
const refuse = (fault: LineFault, reason: string): { ok: false; fault: LineFault; reason: string } => ({
  ok: false,
  fault,
  reason,
});

/**
 * Checks framing and CRC; on success gives the payload's space-separated fields. `line` is one
 * line without its terminator (the assembler strips `\n` and an optional `\r`).
 */
export function unframeLine(line: string): Parsed<Fields> {
  if (line.length > MAX_LINE_BYTES)
    return refuse('overlong', `${line.length} bytes, more than ${MAX_LINE_BYTES}`);
  if (!/^[\x20-\x7e]*$/.test(line)) return refuse('frame', 'contains bytes outside printable ASCII');
  const star = line.length - 3;
  if (star < 1 || line[star] !== '*') return refuse('frame', 'does not end in "*XX"');
  const checksum = line.slice(star + 1);
  if (!/^[0-9A-F]{2}$/.test(checksum))
    return refuse('frame', `checksum "${checksum}" is not two uppercase hex digits`);
  const payload = line.slice(0, star);
  if (payload.includes('*')) return refuse('frame', 'payload contains "*"');
  const expected = hex2(crc8(payload));
  if (checksum !== expected) return refuse('checksum', `checksum ${checksum}, payload gives ${expected}`);
  const fields = payload.split(' ');
  if (fields.some((field) => field === ''))
    return refuse('syntax', 'fields must be separated by exactly one space');
  return { ok: true, message: fields };
}

/** Decimal integer field; `undefined` when the field is not one (a syntax fault for the caller). */
function integerField(field: string | undefined): number | undefined {
  if (field === undefined || !/^-?[0-9]{1,5}$/.test(field)) return undefined;
  return Number(field);
}

/**
 * The common shape `VERB <index> <value>`: returns the two numbers or the refusal. Trailing
 * fields are ignored: a later minor version may append them (PROTOCOL.md, "Versions").
 */
function indexAndValue(fields: Fields, min: number, max: number, what: string): Parsed<[number, number]> {
  const index = integerField(fields[1]);
  const value = integerField(fields[2]);
  if (index === undefined || value === undefined)
    return refuse('syntax', `${fields[0]} needs <index> <${what}> as decimal integers`);
  if (index < 0 || index > INDEX_MAX)
    return refuse('range', `${fields[0]} index ${index} is not 0..${INDEX_MAX}`);
  if (value < min || value > max)
    return refuse('range', `${fields[0]} ${what} ${value} is not ${min}..${max}`);
  return { ok: true, message: [index, value] };
}

function tokenField(fields: Fields): Parsed<number> {
  const token = integerField(fields[1]);
  if (token === undefined) return refuse('syntax', `${fields[0]} needs a decimal token`);
  if (token < 0 || token > TOKEN_MAX)
    return refuse('range', `${fields[0]} token ${token} is not 0..${TOKEN_MAX}`);
  return { ok: true, message: token };
}

const PROTOCOL_VERSION = /^([0-9]{1,3})\.([0-9]{1,3})$/;
const KIND = /^[a-z0-9-]{1,24}$/;
const FIRMWARE_VERSION = /^[0-9A-Za-z.+-]{1,16}$/;
const SERIAL_NUMBER = /^[0-9A-Za-z-]{1,24}$/;

function parseHello(fields: Fields): Parsed<DeviceMessage> {
  if (fields.length < 9)
    return refuse(
      'syntax',
      `HELLO needs 8 fields (version kind firmware serial knobs buttons encoders motors), got ${fields.length - 1}`,
    );
  const [, version, kind, firmwareVersion, serialNumber] = fields;
  const versionMatch = PROTOCOL_VERSION.exec(version);
  if (!versionMatch) return refuse('syntax', `HELLO protocol version "${version}" is not MAJOR.MINOR`);
  if (!KIND.test(kind)) return refuse('syntax', `HELLO device kind "${kind}" is not 1..24 of [a-z0-9-]`);
  if (!FIRMWARE_VERSION.test(firmwareVersion))
    return refuse('syntax', `HELLO firmware version "${firmwareVersion}" is not 1..16 of [0-9A-Za-z.+-]`);
  if (!SERIAL_NUMBER.test(serialNumber))
    return refuse('syntax', `HELLO serial number "${serialNumber}" is not 1..24 of [0-9A-Za-z-]`);
  const counts = fields.slice(5, 9).map(integerField);
  if (counts.some((count) => count === undefined))
    return refuse('syntax', 'HELLO control counts must be decimal integers');
  const [knobs, buttons, encoders, motors] = counts as number[];
  if (counts.some((count) => count! < 0 || count! > INDEX_MAX + 1))
    return refuse('range', `HELLO control counts must be 0..${INDEX_MAX + 1}`);
  if (knobs + encoders > INDEX_MAX + 1)
    return refuse('range', `HELLO knobs + encoders (rings) must be at most ${INDEX_MAX + 1}`);
  if (motors > knobs) return refuse('range', `HELLO claims ${motors} motors for ${knobs} knobs`);
  const protocol = { major: Number(versionMatch[1]), minor: Number(versionMatch[2]) };
  return {
    ok: true,
    message: {
      type: 'hello',
      protocol,
      kind,
      firmwareVersion,
      serialNumber,
      knobs,
      buttons,
      encoders,
      motors,
    },
  };
}

/** A line from the device, as the host reads it. */
export function parseDeviceLine(line: string): Parsed<DeviceMessage> {
  const framed = unframeLine(line);
  if (!framed.ok) return framed;
  const fields = framed.message;
  switch (fields[0]) {
    case 'K': {
      const parsed = indexAndValue(fields, 0, POSITION_MAX, 'value');
      return parsed.ok
        ? { ok: true, message: { type: 'knob', index: parsed.message[0], value: parsed.message[1] } }
        : parsed;
    }
    case 'E': {
      const parsed = indexAndValue(fields, -ENCODER_DELTA_MAX, ENCODER_DELTA_MAX, 'delta');
      if (!parsed.ok) return parsed;
      if (parsed.message[1] === 0) return refuse('range', 'E delta 0 (an encoder line must move)');
      return { ok: true, message: { type: 'encoder', index: parsed.message[0], delta: parsed.message[1] } };
    }
    case 'B': {
      const parsed = indexAndValue(fields, 0, 1, 'state');
      return parsed.ok
        ? { ok: true, message: { type: 'button', index: parsed.message[0], down: parsed.message[1] === 1 } }
        : parsed;
    }
    case 'HELLO':
      return parseHello(fields);
    case 'PONG': {
      const parsed = tokenField(fields);
      return parsed.ok ? { ok: true, message: { type: 'pong', token: parsed.message } } : parsed;
    }
    case 'ERR':
      if (fields.length < 2) return refuse('syntax', 'ERR needs a code');
      return { ok: true, message: { type: 'error', code: fields[1], detail: fields.slice(2).join(' ') } };
    default:
      return refuse('unknown', `unknown device message "${fields[0].slice(0, 16)}"`);
  }
}

/** A line from the host, as the device (or the simulator) reads it. */
export function parseHostLine(line: string): Parsed<HostMessage> {
  const framed = unframeLine(line);
  if (!framed.ok) return framed;
  const fields = framed.message;
  switch (fields[0]) {
    case 'HELLO?': {
      const majors = fields.slice(1).map(integerField);
      if (majors.length === 0 || majors.some((major) => major === undefined))
        return refuse('syntax', 'HELLO? needs one or more protocol majors');
      if (majors.some((major) => major! < 1 || major! > 999))
        return refuse('range', 'HELLO? majors must be 1..999');
      return { ok: true, message: { type: 'hello?', majors: majors as number[] } };
    }
    case 'R': {
      const parsed = indexAndValue(fields, 0, POSITION_MAX, 'value');
      return parsed.ok
        ? { ok: true, message: { type: 'ring', index: parsed.message[0], value: parsed.message[1] } }
        : parsed;
    }
    case 'L': {
      const parsed = indexAndValue(fields, 0, 1, 'state');
      return parsed.ok
        ? { ok: true, message: { type: 'led', index: parsed.message[0], on: parsed.message[1] === 1 } }
        : parsed;
    }
    case 'M': {
      const parsed = indexAndValue(fields, 0, POSITION_MAX, 'value');
      return parsed.ok
        ? { ok: true, message: { type: 'motor', index: parsed.message[0], value: parsed.message[1] } }
        : parsed;
    }
    case 'PING?': {
      const parsed = tokenField(fields);
      return parsed.ok ? { ok: true, message: { type: 'ping?', token: parsed.message } } : parsed;
    }
    default:
      return refuse('unknown', `unknown host message "${fields[0].slice(0, 16)}"`);
  }
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** What the assembler does with the bytes it is fed. */
export interface LineSink {
  line(text: string): void;
  /** A line thrown away before parsing; `bytes` counts what was dropped, terminator excluded. */
  overlong(bytes: number): void;
}

/**
 * Splits a byte stream into lines in a buffer of fixed size, so a sender that never sends a
 * newline (line noise, a wrong baud rate, a different device) costs no memory: once the buffer
 * is full the rest of the line is counted and dropped, and the next newline resynchronises.
 */
export class LineAssembler {
  /** One spare byte so a full-length line may still end in `\r\n`. */
  private readonly buffer: Uint8Array;
  private length = 0;
  private discarding = false;
  private discarded = 0;

  constructor(readonly maxLineBytes: number = MAX_LINE_BYTES) {
    this.buffer = new Uint8Array(maxLineBytes + 1);
  }

  get capacity(): number {
    return this.buffer.length;
  }

  get bufferedBytes(): number {
    return this.length;
  }

  /** Bytes of the overlong line being dropped right now (0: none), so far. */
  get discardingBytes(): number {
    return this.discarding ? this.discarded : 0;
  }

  push(chunk: Uint8Array, sink: LineSink): void {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === NEWLINE) {
        this.endLine(sink);
      } else if (this.discarding) {
        this.discarded++;
      } else if (this.length === this.buffer.length) {
        this.discarding = true;
        this.discarded = this.length + 1;
        this.length = 0;
      } else {
        this.buffer[this.length++] = byte;
      }
    }
  }

  /** Forgets a partial line (after a reconnect the old half-line means nothing). */
  reset(): void {
    this.length = 0;
    this.discarding = false;
    this.discarded = 0;
  }

  private endLine(sink: LineSink): void {
    if (this.discarding) {
      const dropped = this.discarded;
      this.reset();
      sink.overlong(dropped);
      return;
    }
    let end = this.length;
    if (end > 0 && this.buffer[end - 1] === CARRIAGE_RETURN) end--;
    this.length = 0;
    if (end === 0) return; // blank lines are how a sender flushes a stale half-line: not a fault
    if (end > this.maxLineBytes) {
      sink.overlong(end);
      return;
    }
    sink.line(String.fromCharCode(...this.buffer.subarray(0, end)));
  }
}
