/**
 * MIDI bytes <-> control events. The decoder is a small state machine over the raw stream
 * (MIDI 1.0 Detailed Specification 4.2, chapter "Data Types" and the Control Change tables), so
 * it copes with whatever framing a port delivers: split messages, running status, realtime bytes
 * in the middle of a message, SysEx dumps, and stray data bytes after a cable is plugged in.
 *
 * 14-bit pairs and NRPN follow the spec's rule that a new MSB resets the LSB to 0: an MSB is
 * reported at once as `msb << 7`, and a following LSB refines it. Devices that send MSB only
 * therefore still work (at 7-bit resolution), and a device that sends both costs one extra event
 * whose value is at most 127/16383 below the final one.
 */
import type { ControlEvent, FeedbackMessage, MidiDecoderConfig } from '../events.ts';

const NOTE_OFF = 0x80;
const NOTE_ON = 0x90;
const CONTROL_CHANGE = 0xb0;
const PITCH_BEND = 0xe0;
const SYSEX_START = 0xf0;
const SYSEX_END = 0xf7;
const FIRST_REALTIME = 0xf8;

const CC_DATA_ENTRY_MSB = 6;
const CC_DATA_ENTRY_LSB = 38;
const CC_NRPN_LSB = 98;
const CC_NRPN_MSB = 99;
const CC_RPN_LSB = 100;
const CC_RPN_MSB = 101;
/** Offset from a 14-bit controller's MSB number to its LSB number (spec: CC 0-31 pair with 32-63). */
const LSB_OFFSET = 32;

/** Data bytes that follow a channel-voice status (by high nibble) or a system-common status. */
function dataLength(status: number): number {
  switch (status & 0xf0) {
    case 0xc0: // program change
    case 0xd0: // channel pressure
      return 1;
    case 0xf0:
      if (status === 0xf1 || status === 0xf3) return 1; // MTC quarter frame, song select
      if (status === 0xf2) return 2; // song position
      return 0; // tune request, undefined, EOX
    default:
      return 2;
  }
}

interface ChannelState {
  /** Last MSB seen per 14-bit controller (index = MSB controller number), for LSB-only updates. */
  readonly cc14Msb: Int16Array;
  /** Selected NRPN number, or -1 when none (or an RPN) is selected. */
  nrpnParameter: number;
  nrpnMsb: number;
  nrpnLsb: number;
  dataMsb: number;
}

export class MidiDecoder {
  private readonly isCc14 = new Uint8Array(16 * 128);
  private readonly nrpn: boolean;
  private readonly channels: ChannelState[] = [];

  private runningStatus = 0;
  private readonly data = [0, 0];
  private dataCount = 0;
  private inSysEx = false;

  constructor(config: MidiDecoderConfig) {
    for (const { channel, controller } of config.cc14) {
      if (!Number.isInteger(channel) || channel < 0 || channel > 15)
        throw new RangeError(`14-bit controller: channel ${channel} is not 0..15`);
      if (!Number.isInteger(controller) || controller < 0 || controller >= LSB_OFFSET) {
        throw new RangeError(`14-bit controller: MSB controller ${controller} is not 0..31`);
      }
      this.isCc14[channel * 128 + controller] = 1;
      this.isCc14[channel * 128 + controller + LSB_OFFSET] = 1;
    }
    this.nrpn = config.nrpn;
    for (let channel = 0; channel < 16; channel++) {
      this.channels.push({
        cc14Msb: new Int16Array(LSB_OFFSET).fill(-1),
        nrpnParameter: -1,
        nrpnMsb: -1,
        nrpnLsb: -1,
        dataMsb: -1,
      });
    }
  }

  /** Forgets partial messages and 14-bit/NRPN state (after a reconnect). */
  reset(): void {
    this.runningStatus = 0;
    this.dataCount = 0;
    this.inSysEx = false;
    for (const state of this.channels) {
      state.cc14Msb.fill(-1);
      state.nrpnParameter = state.nrpnMsb = state.nrpnLsb = state.dataMsb = -1;
    }
  }

  /** Feeds raw bytes; every complete control event is passed to `emit` in order. */
  feed(bytes: ArrayLike<number>, emit: (event: ControlEvent) => void): void {
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i] & 0xff;
      if (byte >= FIRST_REALTIME) continue; // clock, start/stop, active sensing: never part of a message
      if (byte & 0x80) {
        this.inSysEx = byte === SYSEX_START;
        this.dataCount = 0;
        // Channel messages establish running status; system common messages cancel it (spec),
        // though the ones with data keep their status until that data is consumed and dropped.
        this.runningStatus = byte < SYSEX_START || dataLength(byte) > 0 ? byte : 0;
        continue;
      }
      if (this.inSysEx || this.runningStatus === 0) continue; // SysEx payload, or data with no status to belong to
      this.data[this.dataCount++] = byte;
      if (this.dataCount < dataLength(this.runningStatus)) continue;
      this.dataCount = 0;
      const status = this.runningStatus;
      if (status >= SYSEX_START) {
        this.runningStatus = 0;
        continue;
      }
      this.dispatch(status, this.data[0], this.data[1], emit);
    }
  }

  /** Convenience for tests and one-shot callers: the events in `bytes`. */
  decode(bytes: ArrayLike<number>): ControlEvent[] {
    const events: ControlEvent[] = [];
    this.feed(bytes, (event) => events.push(event));
    return events;
  }

  private dispatch(status: number, first: number, second: number, emit: (event: ControlEvent) => void): void {
    const channel = status & 0x0f;
    switch (status & 0xf0) {
      case NOTE_ON:
        emit({ kind: 'note', channel, note: first, velocity: second, on: second > 0 });
        return;
      case NOTE_OFF:
        emit({ kind: 'note', channel, note: first, velocity: second, on: false });
        return;
      case PITCH_BEND:
        emit({ kind: 'pitchbend', channel, value: (second << 7) | first });
        return;
      case CONTROL_CHANGE:
        this.controlChange(channel, first, second, emit);
        return;
    }
  }

  private controlChange(
    channel: number,
    controller: number,
    value: number,
    emit: (event: ControlEvent) => void,
  ): void {
    if (this.nrpn && this.nrpnFraming(channel, controller, value, emit)) return;
    if (this.isCc14[channel * 128 + controller]) {
      const msbs = this.channels[channel].cc14Msb;
      if (controller < LSB_OFFSET) {
        msbs[controller] = value;
        emit({ kind: 'cc14', channel, controller, value: value << 7 });
      } else {
        const msbController = controller - LSB_OFFSET;
        // An LSB before any MSB has nothing to refine: the fader position is still unknown.
        if (msbs[msbController] < 0) return;
        emit({ kind: 'cc14', channel, controller: msbController, value: (msbs[msbController] << 7) | value });
      }
      return;
    }
    emit({ kind: 'cc', channel, controller, value });
  }

  /** Returns whether the CC was NRPN framing (and so consumed). */
  private nrpnFraming(
    channel: number,
    controller: number,
    value: number,
    emit: (event: ControlEvent) => void,
  ): boolean {
    const state = this.channels[channel];
    switch (controller) {
      case CC_NRPN_MSB:
        state.nrpnMsb = value;
        break;
      case CC_NRPN_LSB:
        state.nrpnLsb = value;
        break;
      case CC_RPN_MSB:
      case CC_RPN_LSB:
        // Data entry now belongs to a registered parameter (pitch-bend range etc.), not ours.
        state.nrpnMsb = state.nrpnLsb = -1;
        break;
      case CC_DATA_ENTRY_MSB:
        if (state.nrpnParameter >= 0) {
          state.dataMsb = value;
          emit({ kind: 'nrpn', channel, parameter: state.nrpnParameter, value: value << 7 });
        }
        return true;
      case CC_DATA_ENTRY_LSB:
        if (state.nrpnParameter >= 0 && state.dataMsb >= 0) {
          emit({
            kind: 'nrpn',
            channel,
            parameter: state.nrpnParameter,
            value: (state.dataMsb << 7) | value,
          });
        }
        return true;
      default:
        return false;
    }
    const selected = state.nrpnMsb >= 0 && state.nrpnLsb >= 0 ? (state.nrpnMsb << 7) | state.nrpnLsb : -1;
    // 127/127 is the spec's "null" parameter: deselect so stray data entry does nothing.
    state.nrpnParameter = selected === 0x3fff ? -1 : selected;
    state.dataMsb = -1;
    return true;
  }
}

function checkRange(what: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new RangeError(`MIDI feedback: ${what} ${value} is not 0..${max}`);
  return value;
}

/** Data values are computed from parameter values, so they are rounded and clamped rather than refused. */
function dataValue(value: number, max: number): number {
  return Math.min(max, Math.max(0, Math.round(Number.isFinite(value) ? value : 0)));
}

/**
 * The bytes that show `message` on a MIDI device: the same message the control itself sends.
 * Every message carries its own status byte, because some devices drop running status on input.
 */
export function encodeFeedback(message: FeedbackMessage): number[] {
  switch (message.kind) {
    case 'cc': {
      const status = CONTROL_CHANGE | checkRange('channel', message.channel, 15);
      return [status, checkRange('controller', message.controller, 127), dataValue(message.value, 127)];
    }
    case 'cc14': {
      const status = CONTROL_CHANGE | checkRange('channel', message.channel, 15);
      const controller = checkRange('14-bit controller', message.controller, LSB_OFFSET - 1);
      const value = dataValue(message.value, 0x3fff);
      return [status, controller, value >> 7, status, controller + LSB_OFFSET, value & 0x7f];
    }
    case 'nrpn': {
      const status = CONTROL_CHANGE | checkRange('channel', message.channel, 15);
      const parameter = checkRange('NRPN parameter', message.parameter, 0x3fff);
      const value = dataValue(message.value, 0x3fff);
      return [
        status,
        CC_NRPN_MSB,
        parameter >> 7,
        status,
        CC_NRPN_LSB,
        parameter & 0x7f,
        status,
        CC_DATA_ENTRY_MSB,
        value >> 7,
        status,
        CC_DATA_ENTRY_LSB,
        value & 0x7f,
      ];
    }
    case 'note':
      return [
        NOTE_ON | checkRange('channel', message.channel, 15),
        checkRange('note', message.note, 127),
        dataValue(message.velocity, 127),
      ];
    case 'pitchbend': {
      const value = dataValue(message.value, 0x3fff);
      return [PITCH_BEND | checkRange('channel', message.channel, 15), value & 0x7f, value >> 7];
    }
    case 'ring':
    case 'led':
      throw new TypeError(`MIDI feedback: "${message.kind}" is a serial knob-box message, not MIDI`);
  }
}
