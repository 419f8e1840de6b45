import { describe, expect, it } from 'vitest';
import { MidiDecoder, encodeFeedback } from '../../controller/src/midi/bytes.ts';
import type { FeedbackMessage } from '../../controller/src/events.ts';

const plain = () => new MidiDecoder({ cc14: [], nrpn: false });

describe('MIDI decoder', () => {
  it('decodes control changes, notes and pitch bend with their channels', () => {
    const events = plain().decode([0xb3, 7, 100, 0x91, 60, 90, 0x81, 60, 40, 0xe2, 0x05, 0x41]);
    expect(events).toEqual([
      { kind: 'cc', channel: 3, controller: 7, value: 100 },
      { kind: 'note', channel: 1, note: 60, velocity: 90, on: true },
      { kind: 'note', channel: 1, note: 60, velocity: 40, on: false },
      { kind: 'pitchbend', channel: 2, value: (0x41 << 7) | 0x05 },
    ]);
  });

  it('treats note-on with velocity 0 as note-off', () => {
    expect(plain().decode([0x90, 36, 0])).toEqual([
      { kind: 'note', channel: 0, note: 36, velocity: 0, on: false },
    ]);
  });

  it('follows running status across messages and across separate feeds', () => {
    const decoder = plain();
    const first = decoder.decode([0xb0, 16, 1, 16, 2, 17]);
    const second = decoder.decode([3]);
    expect(first.map((e) => e.kind === 'cc' && e.value)).toEqual([1, 2]);
    expect(second).toEqual([{ kind: 'cc', channel: 0, controller: 17, value: 3 }]);
  });

  it('ignores realtime bytes anywhere, even inside a message', () => {
    const events = plain().decode([0xf8, 0xb0, 0xfe, 20, 0xf8, 64, 0xfa, 21, 0xff, 65]);
    expect(events).toEqual([
      { kind: 'cc', channel: 0, controller: 20, value: 64 },
      { kind: 'cc', channel: 0, controller: 21, value: 65 },
    ]);
  });

  it('skips SysEx, including realtime bytes inside it, and needs a fresh status afterwards', () => {
    const events = plain().decode([0xb0, 1, 1, 0xf0, 0x7e, 0xf8, 0x06, 0x01, 0xf7, 2, 2, 0xb0, 3, 3]);
    expect(events.map((e) => e.kind === 'cc' && e.controller)).toEqual([1, 3]);
  });

  it('drops data bytes that arrive before any status (a cable plugged in mid-message)', () => {
    expect(plain().decode([64, 12, 0x90, 60, 1])).toEqual([
      { kind: 'note', channel: 0, note: 60, velocity: 1, on: true },
    ]);
  });

  it('parses and ignores program change, pressure and system common without losing sync', () => {
    const events = plain().decode([0xc0, 5, 0xd0, 9, 0xf2, 1, 2, 0xf1, 3, 0xf6, 0xa0, 60, 70, 0xb0, 9, 9]);
    expect(events).toEqual([{ kind: 'cc', channel: 0, controller: 9, value: 9 }]);
  });

  it('system common cancels running status', () => {
    expect(plain().decode([0xb0, 1, 1, 0xf6, 2, 2])).toHaveLength(1);
  });

  it('pairs a configured 14-bit controller, MSB first then LSB refining it', () => {
    const decoder = new MidiDecoder({ cc14: [{ channel: 0, controller: 7 }], nrpn: false });
    const events = decoder.decode([0xb0, 7, 0x40, 39, 0x15, 39, 0x16, 8, 5]);
    expect(events).toEqual([
      { kind: 'cc14', channel: 0, controller: 7, value: 0x40 << 7 },
      { kind: 'cc14', channel: 0, controller: 7, value: (0x40 << 7) | 0x15 },
      // An LSB alone refines the last MSB (the spec lets senders omit an unchanged MSB).
      { kind: 'cc14', channel: 0, controller: 7, value: (0x40 << 7) | 0x16 },
      // Unconfigured controllers stay 7-bit.
      { kind: 'cc', channel: 0, controller: 8, value: 5 },
    ]);
  });

  it('14-bit pairing is per channel and ignores an LSB before any MSB', () => {
    const decoder = new MidiDecoder({ cc14: [{ channel: 2, controller: 1 }], nrpn: false });
    expect(decoder.decode([0xb2, 33, 10])).toEqual([]);
    expect(decoder.decode([0xb0, 1, 10, 33, 11])).toEqual([
      { kind: 'cc', channel: 0, controller: 1, value: 10 },
      { kind: 'cc', channel: 0, controller: 33, value: 11 },
    ]);
  });

  it('refuses a 14-bit controller that has no LSB partner', () => {
    expect(() => new MidiDecoder({ cc14: [{ channel: 0, controller: 40 }], nrpn: false })).toThrow(
      /MSB controller 40 is not 0\.\.31/,
    );
  });

  it('assembles NRPN from 99/98 selection and 6/38 data entry', () => {
    const decoder = new MidiDecoder({ cc14: [], nrpn: true });
    const events = decoder.decode([0xb0, 99, 1, 98, 2, 6, 100, 38, 3]);
    expect(events).toEqual([
      { kind: 'nrpn', channel: 0, parameter: (1 << 7) | 2, value: 100 << 7 },
      { kind: 'nrpn', channel: 0, parameter: (1 << 7) | 2, value: (100 << 7) | 3 },
    ]);
  });

  it('NRPN data entry with MSB only still reports each move', () => {
    const decoder = new MidiDecoder({ cc14: [], nrpn: true });
    const events = decoder.decode([0xb5, 99, 0, 98, 9, 6, 10, 6, 11]);
    expect(events.map((e) => e.kind === 'nrpn' && [e.channel, e.parameter, e.value >> 7])).toEqual([
      [5, 9, 10],
      [5, 9, 11],
    ]);
  });

  it('data entry after an RPN selection or the null NRPN is not reported', () => {
    const decoder = new MidiDecoder({ cc14: [], nrpn: true });
    expect(decoder.decode([0xb0, 99, 0, 98, 9, 101, 0, 100, 0, 6, 2])).toEqual([]);
    expect(decoder.decode([0xb0, 99, 127, 98, 127, 6, 2])).toEqual([]);
  });

  it('without NRPN framing, CC 99/98/6/38 are ordinary controls', () => {
    expect(
      plain()
        .decode([0xb0, 99, 1, 6, 2])
        .map((e) => e.kind),
    ).toEqual(['cc', 'cc']);
  });

  it('reset forgets a half-received message', () => {
    const decoder = plain();
    decoder.decode([0xb0, 1]);
    decoder.reset();
    expect(decoder.decode([2, 0xb0, 3, 4])).toEqual([{ kind: 'cc', channel: 0, controller: 3, value: 4 }]);
  });
});

describe('MIDI feedback encoding', () => {
  it('round-trips every MIDI feedback kind through the decoder', () => {
    const messages: FeedbackMessage[] = [
      { kind: 'cc', channel: 4, controller: 21, value: 99 },
      { kind: 'cc14', channel: 1, controller: 3, value: 12345 },
      { kind: 'nrpn', channel: 2, parameter: 1000, value: 9876 },
      { kind: 'note', channel: 9, note: 40, velocity: 127 },
      { kind: 'pitchbend', channel: 8, value: 16383 },
    ];
    const decoder = new MidiDecoder({ cc14: [{ channel: 1, controller: 3 }], nrpn: true });
    const decoded = messages.map((m) => decoder.decode(encodeFeedback(m)).at(-1));
    expect(decoded).toEqual([
      { kind: 'cc', channel: 4, controller: 21, value: 99 },
      { kind: 'cc14', channel: 1, controller: 3, value: 12345 },
      { kind: 'nrpn', channel: 2, parameter: 1000, value: 9876 },
      { kind: 'note', channel: 9, note: 40, velocity: 127, on: true },
      { kind: 'pitchbend', channel: 8, value: 16383 },
    ]);
  });

  it('sends a 14-bit CC as MSB then LSB and NRPN as four CCs', () => {
    expect(encodeFeedback({ kind: 'cc14', channel: 0, controller: 1, value: (5 << 7) | 6 })).toEqual([
      0xb0, 1, 5, 0xb0, 33, 6,
    ]);
    expect(
      encodeFeedback({ kind: 'nrpn', channel: 0, parameter: (2 << 7) | 3, value: (4 << 7) | 5 }),
    ).toEqual([0xb0, 99, 2, 0xb0, 98, 3, 0xb0, 6, 4, 0xb0, 38, 5]);
  });

  it('rounds and clamps data values, refuses bad addresses and serial kinds', () => {
    expect(encodeFeedback({ kind: 'cc', channel: 0, controller: 1, value: 130.2 })).toEqual([0xb0, 1, 127]);
    expect(encodeFeedback({ kind: 'pitchbend', channel: 0, value: -4 })).toEqual([0xe0, 0, 0]);
    expect(() => encodeFeedback({ kind: 'cc', channel: 16, controller: 1, value: 0 })).toThrow(/channel 16/);
    expect(() => encodeFeedback({ kind: 'ring', index: 0, value: 5 })).toThrow(/serial/);
  });
});
