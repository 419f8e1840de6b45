/**
 * easymidi's message objects <-> raw MIDI bytes. easymidi parses every incoming message into an
 * object and offers no raw output; the rig decodes and encodes bytes in one place (bytes.ts), so
 * the adapter turns easymidi's objects back into the bytes they came from, and feedback bytes
 * into easymidi sends. Shapes and type names follow easymidi 3 (node_modules/easymidi/index.js);
 * status values follow the MIDI 1.0 specification's message tables.
 */
import type { EasyMidiMessage } from './ports.ts';

const CHANNEL_TYPES: Record<string, number> = {
  noteoff: 0x80,
  noteon: 0x90,
  'poly aftertouch': 0xa0,
  cc: 0xb0,
  program: 0xc0,
  'channel aftertouch': 0xd0,
  pitch: 0xe0,
};
const CHANNEL_TYPE_BY_STATUS = new Map(Object.entries(CHANNEL_TYPES).map(([type, status]) => [status, type]));

const SYSTEM_STATUS: Record<string, number> = {
  mtc: 0xf1,
  position: 0xf2,
  select: 0xf3,
  tune: 0xf6,
  clock: 0xf8,
  start: 0xfa,
  continue: 0xfb,
  stop: 0xfc,
  activesense: 0xfe,
  reset: 0xff,
};

const SYSEX_START = 0xf0;
const SYSEX_END = 0xf7;

const hex = (byte: number): string => `0x${byte.toString(16).padStart(2, '0')}`;
const data7 = (value: number | undefined): number => (value ?? 0) & 0x7f;

/** The bytes easymidi parsed `message` from; empty for a type easymidi could not name. */
export function easymidiMessageToBytes(message: EasyMidiMessage): number[] {
  const type = message._type;
  const channelStatus = CHANNEL_TYPES[type];
  if (channelStatus !== undefined) {
    const status = channelStatus | ((message.channel ?? 0) & 0x0f);
    switch (type) {
      case 'noteoff':
      case 'noteon':
        return [status, data7(message.note), data7(message.velocity)];
      case 'poly aftertouch':
        return [status, data7(message.note), data7(message.pressure)];
      case 'cc':
        return [status, data7(message.controller), data7(message.value)];
      case 'program':
        return [status, data7(message.number)];
      case 'channel aftertouch':
        return [status, data7(message.pressure)];
      case 'pitch':
        return [status, data7(message.value), data7((message.value ?? 0) >> 7)];
    }
  }
  if (type === 'sysex') return Array.from(message.bytes ?? []);
  const systemStatus = SYSTEM_STATUS[type];
  if (systemStatus === undefined) return [];
  switch (type) {
    case 'mtc':
      return [systemStatus, (((message.type ?? 0) & 0x07) << 4) | ((message.value ?? 0) & 0x0f)];
    case 'position':
      return [systemStatus, data7(message.value), data7((message.value ?? 0) >> 7)];
    case 'select':
      return [systemStatus, data7(message.song)];
    default:
      return [systemStatus];
  }
}

export interface EasyMidiSend {
  type: string;
  message: Record<string, number> | number[];
}

/**
 * easymidi `send` calls that put `bytes` on the wire. Accepts what feedback is made of: channel
 * voice messages (running status allowed) and complete SysEx; anything else is a RangeError.
 */
export function bytesToEasymidiSends(bytes: readonly number[]): EasyMidiSend[] {
  const sends: EasyMidiSend[] = [];
  let status = 0;
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i];
    if (byte === SYSEX_START) {
      const end = bytes.indexOf(SYSEX_END, i + 1);
      if (end < 0) throw new RangeError('MIDI send: SysEx without its closing 0xF7');
      sends.push({ type: 'sysex', message: bytes.slice(i, end + 1) });
      status = 0;
      i = end + 1;
      continue;
    }
    const at = i;
    if (byte & 0x80) {
      status = byte;
      i++;
    }
    const type = status >= SYSEX_START ? undefined : CHANNEL_TYPE_BY_STATUS.get(status & 0xf0);
    if (type === undefined)
      throw new RangeError(`MIDI send: byte ${hex(byte)} at ${at} is not part of a channel message or SysEx`);
    const length = type === 'program' || type === 'channel aftertouch' ? 1 : 2;
    const data = bytes.slice(i, i + length);
    if (data.length < length || data.some((b) => b > 0x7f)) {
      throw new RangeError(
        `MIDI send: ${type} message at ${at} needs ${length} data bytes 0..127, got [${data.map(hex).join(', ')}]`,
      );
    }
    const [first, second] = data;
    const channel = status & 0x0f;
    switch (type) {
      case 'noteoff':
      case 'noteon':
        sends.push({ type, message: { channel, note: first, velocity: second } });
        break;
      case 'poly aftertouch':
        sends.push({ type, message: { channel, note: first, pressure: second } });
        break;
      case 'cc':
        sends.push({ type, message: { channel, controller: first, value: second } });
        break;
      case 'program':
        sends.push({ type, message: { channel, number: first } });
        break;
      case 'channel aftertouch':
        sends.push({ type, message: { channel, pressure: first } });
        break;
      case 'pitch':
        sends.push({ type, message: { channel, value: first | (second << 7) } });
        break;
    }
    i += length;
  }
  return sends;
}
