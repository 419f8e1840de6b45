import { afterEach, describe, expect, it } from 'vitest';
import type { ControlEvent, MidiDecoderConfig } from '../../controller/src/events.ts';
import { MidiSurface } from '../../controller/src/midi/adapter.ts';
import {
  EasyMidiBackend,
  MidiUnavailableError,
  findFeedbackPort,
  type MidiBackend,
} from '../../controller/src/midi/ports.ts';
import { MidiWatcher, type IntervalTimers } from '../../controller/src/midi/watcher.ts';
import { FakeBackend, type FakeDevice } from '../helpers/fake-midi.ts';

class ManualTimers implements IntervalTimers {
  private readonly callbacks = new Map<number, () => void>();
  private nextHandle = 1;

  setInterval(callback: () => void): unknown {
    this.callbacks.set(this.nextHandle, callback);
    return this.nextHandle++;
  }

  clearInterval(handle: unknown): void {
    this.callbacks.delete(handle as number);
  }

  get running(): number {
    return this.callbacks.size;
  }

  tick(): void {
    for (const callback of this.callbacks.values()) callback();
  }
}

const PLAIN: MidiDecoderConfig = { cc14: [], nrpn: false };
const XTOUCH_A = 'X-TOUCH MINI:X-TOUCH MINI MIDI 1 20:0';
const XTOUCH_B = 'X-TOUCH MINI:X-TOUCH MINI MIDI 1 24:0';
const FADERS = 'Faderbank:Faderbank MIDI 1 28:0';

function collect(surface: MidiSurface): ControlEvent[] {
  const events: ControlEvent[] = [];
  surface.onEvent((event) => events.push(event));
  return events;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function openSurface(
  backend: MidiBackend,
  portName: string,
  decoder: MidiDecoderConfig = PLAIN,
): MidiSurface {
  const surface = MidiSurface.open({ backend, portName, decoder });
  cleanups.push(() => surface.close());
  return surface;
}

function watch(
  backend: MidiBackend,
  rules: Array<{ pattern: string; decoder: MidiDecoderConfig; mapping?: string }>,
) {
  const timers = new ManualTimers();
  const watcher = new MidiWatcher({ backend, rules, timers, pollIntervalMs: 500 });
  const log: string[] = [];
  watcher.on('connected', (surface, rule) => log.push(`connected ${surface.id} via ${rule.pattern}`));
  watcher.on('disconnected', (id, reason) => log.push(`disconnected ${id}: ${reason}`));
  watcher.on('error', (message) => log.push(`error ${message}`));
  cleanups.push(() => watcher.close());
  return { watcher, timers, log };
}

describe('MIDI surface over easymidi', () => {
  it('turns a knob, a pad, a motor fader and a 14-bit fader into control events', () => {
    const backend = new FakeBackend();
    backend.plug(XTOUCH_A);
    const surface = openSurface(backend, XTOUCH_A, { cc14: [{ channel: 0, controller: 1 }], nrpn: false });
    const events = collect(surface);
    const device = backend.input(XTOUCH_A);

    device.deliver([0xb2, 7, 100]); // knob: CC 7 on channel 3
    device.deliver([0x91, 36, 90]); // pad down, channel 2
    device.deliver([0x91, 36, 0]); // pad up as note-on with velocity 0
    device.deliver([0x81, 37, 64]); // and as a real note-off
    device.deliver([0xe0, 0x00, 0x40]); // motor fader at centre: LSB 0, MSB 64
    device.deliver([0xb0, 1, 0x40]); // 14-bit fader: MSB on CC 1...
    device.deliver([0xb0, 33, 0x05]); // ...refined by its LSB on CC 33

    expect(events).toEqual([
      { kind: 'cc', channel: 2, controller: 7, value: 100 },
      { kind: 'note', channel: 1, note: 36, velocity: 90, on: true },
      { kind: 'note', channel: 1, note: 36, velocity: 0, on: false },
      { kind: 'note', channel: 1, note: 37, velocity: 64, on: false },
      { kind: 'pitchbend', channel: 0, value: 8192 },
      { kind: 'cc14', channel: 0, controller: 1, value: 0x40 << 7 },
      { kind: 'cc14', channel: 0, controller: 1, value: (0x40 << 7) | 0x05 },
    ]);
    expect(surface.id).toBe(`midi:${XTOUCH_A}`);
    expect(surface.kind).toBe('midi');
  });

  it('decodes NRPN framing arriving as four separate easymidi cc messages', () => {
    const backend = new FakeBackend();
    backend.plug(FADERS);
    const surface = openSurface(backend, FADERS, { cc14: [], nrpn: true });
    const events = collect(surface);
    for (const message of [
      [0xb4, 99, 2],
      [0xb4, 98, 3],
      [0xb4, 6, 100],
      [0xb4, 38, 9],
    ])
      backend.input(FADERS).deliver(message);
    expect(events).toEqual([
      { kind: 'nrpn', channel: 4, parameter: (2 << 7) | 3, value: 100 << 7 },
      { kind: 'nrpn', channel: 4, parameter: (2 << 7) | 3, value: (100 << 7) | 9 },
    ]);
  });

  it('sends feedback as easymidi messages that put the MIDI spec bytes on the wire', () => {
    const backend = new FakeBackend();
    backend.plug(XTOUCH_A);
    const surface = openSurface(backend, XTOUCH_A);
    const output = backend.output(XTOUCH_A);

    surface.send({ kind: 'cc', channel: 0, controller: 9, value: 127 });
    surface.send({ kind: 'cc14', channel: 3, controller: 2, value: 10000 });
    surface.send({ kind: 'note', channel: 9, note: 60, velocity: 1 });
    surface.send({ kind: 'pitchbend', channel: 1, value: 16383 });

    expect(output.sends).toEqual([
      ['cc', { channel: 0, controller: 9, value: 127 }],
      ['cc', { channel: 3, controller: 2, value: 10000 >> 7 }],
      ['cc', { channel: 3, controller: 34, value: 10000 & 0x7f }],
      ['noteon', { channel: 9, note: 60, velocity: 1 }],
      ['pitch', { channel: 1, value: 16383 }],
    ]);
    // 10000 = 78 * 128 + 16; pitch bend sends LSB first (MIDI 1.0, Pitch Bend Change).
    expect(output.wire).toEqual([0xb0, 9, 127, 0xb3, 2, 78, 0xb3, 34, 16, 0x99, 60, 1, 0xe1, 0x7f, 0x7f]);
  });

  it('keeps working as an input-only device when no output belongs to it, and says why feedback is off', () => {
    const backend = new FakeBackend();
    backend.plug('Knob Strip In', null);
    const surface = openSurface(backend, 'Knob Strip In');
    const events = collect(surface);
    expect(surface.outputName).toBeNull();
    expect(surface.feedbackProblem).toMatch(/no output port matches "Knob Strip In"/);
    expect(() => surface.send({ kind: 'cc', channel: 0, controller: 1, value: 1 })).not.toThrow();
    backend.input('Knob Strip In').deliver([0xb0, 1, 5]);
    expect(events).toEqual([{ kind: 'cc', channel: 0, controller: 1, value: 5 }]);
  });

  it('reports unsendable feedback to its error listeners without throwing or disconnecting', () => {
    const backend = new FakeBackend();
    backend.plug(XTOUCH_A);
    const surface = openSurface(backend, XTOUCH_A);
    const errors: string[] = [];
    surface.onError((message) => errors.push(message));
    expect(() => surface.send({ kind: 'ring', index: 0, value: 5 })).not.toThrow();
    expect(() => surface.send({ kind: 'cc', channel: 16, controller: 1, value: 5 })).not.toThrow();
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/"ring" is a serial knob-box message/);
    expect(errors[1]).toMatch(/channel 16 is not 0..15/);
    expect(surface.connected).toBe(true);
  });

  it('disconnects instead of throwing when a send finds the device gone', () => {
    const backend = new FakeBackend();
    backend.plug(XTOUCH_A);
    const surface = openSurface(backend, XTOUCH_A);
    const reasons: string[] = [];
    surface.onDisconnect((reason) => reasons.push(reason));
    const input = backend.input(XTOUCH_A);
    backend.unplug(XTOUCH_A);

    expect(() => surface.send({ kind: 'cc', channel: 0, controller: 1, value: 1 })).not.toThrow();
    surface.send({ kind: 'cc', channel: 0, controller: 1, value: 2 });
    expect(surface.connected).toBe(false);
    expect(reasons).toEqual([`output "${XTOUCH_A}" failed: Internal RtMidi error`]);
    expect(input.listenerCount('message')).toBe(0);
  });

  it('contains a listener that throws inside the port callback', () => {
    const backend = new FakeBackend();
    backend.plug(XTOUCH_A);
    const surface = openSurface(backend, XTOUCH_A);
    const errors: string[] = [];
    surface.onError((message) => errors.push(message));
    surface.onEvent(() => {
      throw new Error('mapping bug');
    });
    const events = collect(surface);
    expect(() => backend.input(XTOUCH_A).deliver([0xb0, 1, 1])).not.toThrow();
    expect(events).toHaveLength(1);
    expect(errors).toEqual([`midi:${XTOUCH_A}: a listener failed on cc event: mapping bug`]);
  });
});

describe('feedback port for an input', () => {
  it('is the output of the same name, as ALSA and CoreMIDI list them', () => {
    expect(findFeedbackPort(XTOUCH_A, [XTOUCH_B, XTOUCH_A])).toBe(XTOUCH_A);
  });

  it('swaps the direction word, keeping case and easymidi duplicate numbers', () => {
    expect(findFeedbackPort('Launch Control XL In', ['Launch Control XL Out', 'Other Out'])).toBe(
      'Launch Control XL Out',
    );
    expect(findFeedbackPort('nanoKONTROL2 IN1', ['nanoKONTROL2 OUT', 'nanoKONTROL2 OUT1'])).toBe(
      'nanoKONTROL2 OUT1',
    );
    expect(findFeedbackPort('Faderfox Input', ['Faderfox Output'])).toBe('Faderfox Output');
    expect(
      findFeedbackPort('MIDIIN2 (LPMiniMK3 MIDI)', ['LPMiniMK3 MIDI', 'MIDIOUT2 (LPMiniMK3 MIDI)']),
    ).toBe('MIDIOUT2 (LPMiniMK3 MIDI)');
  });

  it('falls back to the one output of the same device, and refuses to guess between two', () => {
    expect(findFeedbackPort('BeatStep Pro In', ['BeatStep Pro MIDI Out', 'Launchpad Out'])).toBe(
      'BeatStep Pro MIDI Out',
    );
    expect(
      findFeedbackPort('BeatStep Pro In', ['BeatStep Pro MIDI Out', 'BeatStep Pro MIDI Out 2']),
    ).toBeNull();
    expect(findFeedbackPort('Knob Strip', ['Launchpad Out'])).toBeNull();
  });
});

describe('MIDI hot-plug watcher', () => {
  it('opens a matching device on the first poll and ignores ports no mapping wants', () => {
    const backend = new FakeBackend();
    backend.plug(XTOUCH_A);
    backend.plug('Midi Through:Midi Through Port-0 14:0');
    const { watcher, timers, log } = watch(backend, [{ pattern: 'x-touch mini', decoder: PLAIN }]);
    watcher.start();
    expect(log).toEqual([`connected midi:${XTOUCH_A} via x-touch mini`]);
    expect(timers.running).toBe(1);
    expect(
      watcher.ports().map((p) => [p.name, p.rule?.pattern ?? null, p.surface?.connected ?? null]),
    ).toEqual([
      [XTOUCH_A, 'x-touch mini', true],
      ['Midi Through:Midi Through Port-0 14:0', null, null],
    ]);
  });

  it('reports a vanished device, closes it, and reconnects the same surface when it returns', () => {
    const backend = new FakeBackend();
    backend.plug(XTOUCH_A);
    const { watcher, timers, log } = watch(backend, [
      { pattern: 'X-TOUCH MINI', decoder: { cc14: [{ channel: 0, controller: 1 }], nrpn: false } },
    ]);
    watcher.start();
    const [surface] = watcher.surfaces();
    const events = collect(surface);
    const firstInput = backend.input(XTOUCH_A);
    const firstOutput = backend.output(XTOUCH_A);
    firstInput.deliver([0xb0, 1, 100]); // an MSB whose LSB never comes: the cable is pulled

    backend.unplug(XTOUCH_A);
    timers.tick();
    expect(log.slice(1)).toEqual([`disconnected midi:${XTOUCH_A}: port "${XTOUCH_A}" is gone`]);
    expect(surface.connected).toBe(false);
    expect(firstInput.listenerCount('message')).toBe(0);
    timers.tick(); // still gone: nothing new to say
    expect(log).toHaveLength(2);

    backend.plug(XTOUCH_A);
    timers.tick();
    expect(log.slice(2)).toEqual([`connected midi:${XTOUCH_A} via X-TOUCH MINI`]);
    expect(watcher.surfaces()).toEqual([surface]);
    const secondInput = backend.input(XTOUCH_A);
    expect(secondInput).not.toBe(firstInput);
    secondInput.deliver([0xb0, 33, 7]); // the old half-pair was forgotten: an LSB alone is no position
    secondInput.deliver([0xb0, 2, 64]);
    firstInput.deliver([0xb0, 3, 1]); // the stale port, should it ever fire, feeds nothing
    expect(events).toEqual([
      { kind: 'cc14', channel: 0, controller: 1, value: 100 << 7 },
      { kind: 'cc', channel: 0, controller: 2, value: 64 },
    ]);
    surface.send({ kind: 'note', channel: 0, note: 1, velocity: 127 });
    expect(firstOutput.sends).toEqual([]);
    expect(backend.output(XTOUCH_A).sends).toEqual([['noteon', { channel: 0, note: 1, velocity: 127 }]]);
  });

  it('reopens a device whose send failed once its port is listed again', () => {
    const backend = new FakeBackend();
    backend.plug(XTOUCH_A);
    const { watcher, timers, log } = watch(backend, [{ pattern: 'X-TOUCH', decoder: PLAIN }]);
    watcher.start();
    const [surface] = watcher.surfaces();
    backend.output(XTOUCH_A).gone = true; // the output died while the port stays listed
    surface.send({ kind: 'cc', channel: 0, controller: 1, value: 1 });
    expect(log[1]).toBe(`disconnected midi:${XTOUCH_A}: output "${XTOUCH_A}" failed: Internal RtMidi error`);
    timers.tick();
    expect(log[2]).toBe(`connected midi:${XTOUCH_A} via X-TOUCH`);
    expect(surface.connected).toBe(true);
  });

  it('serves two units of one model and a second controller as separate surfaces', () => {
    const backend = new FakeBackend();
    backend.plug(XTOUCH_A);
    const { watcher, timers, log } = watch(backend, [
      { pattern: '^X-TOUCH MINI', decoder: PLAIN, mapping: 'x-touch-mini.json' },
      {
        pattern: 'Faderbank',
        decoder: { cc14: [{ channel: 0, controller: 0 }], nrpn: false },
        mapping: 'faderbank.json',
      },
    ]);
    const rules = new Map<string, string | undefined>();
    watcher.on('connected', (surface, rule) => rules.set(surface.id, rule.mapping));
    watcher.start();
    backend.plug(XTOUCH_B);
    backend.plug(FADERS);
    timers.tick();
    expect(log).toHaveLength(3);
    expect(rules).toEqual(
      new Map([
        [`midi:${XTOUCH_A}`, 'x-touch-mini.json'],
        [`midi:${XTOUCH_B}`, 'x-touch-mini.json'],
        [`midi:${FADERS}`, 'faderbank.json'],
      ]),
    );

    const heard: string[] = [];
    for (const surface of watcher.surfaces())
      surface.onEvent((e) => heard.push(`${surface.name} ${JSON.stringify(e)}`));
    backend.input(XTOUCH_B).deliver([0xb0, 1, 11]);
    backend.input(XTOUCH_A).deliver([0xb0, 1, 22]);
    backend.input(FADERS).deliver([0xb0, 0, 33]);
    expect(heard).toEqual([
      `${XTOUCH_B} {"kind":"cc","channel":0,"controller":1,"value":11}`,
      `${XTOUCH_A} {"kind":"cc","channel":0,"controller":1,"value":22}`,
      `${FADERS} {"kind":"cc14","channel":0,"controller":0,"value":${33 << 7}}`,
    ]);

    backend.unplug(XTOUCH_A);
    timers.tick();
    expect(log[3]).toBe(`disconnected midi:${XTOUCH_A}: port "${XTOUCH_A}" is gone`);
    expect(watcher.surfaces().map((s) => [s.name, s.connected])).toEqual([
      [XTOUCH_A, false],
      [XTOUCH_B, true],
      [FADERS, true],
    ]);
  });

  it('contains a failing backend, says so once, and recovers when it answers again', () => {
    const backend = new FakeBackend();
    backend.plug(XTOUCH_A);
    backend.listingFailure = new MidiUnavailableError('MIDI unavailable: ALSA sequencer not present');
    const { watcher, timers, log } = watch(backend, [{ pattern: 'X-TOUCH', decoder: PLAIN }]);
    expect(() => watcher.start()).not.toThrow();
    expect(() => timers.tick()).not.toThrow();
    expect(log).toEqual(['error MIDI unavailable: ALSA sequencer not present']);
    expect(watcher.backendProblem).toBe('MIDI unavailable: ALSA sequencer not present');

    backend.listingFailure = null;
    backend.openFailure = new Error('port busy');
    timers.tick();
    timers.tick();
    expect(log.slice(1)).toEqual([`error midi:${XTOUCH_A}: input did not open: port busy`]);
    expect(watcher.backendProblem).toBeNull();

    backend.openFailure = null;
    timers.tick();
    expect(log.slice(2)).toEqual([`connected midi:${XTOUCH_A} via X-TOUCH`]);
  });

  it('contains a connected listener that throws and still tracks the device', () => {
    const backend = new FakeBackend();
    backend.plug(XTOUCH_A);
    const { watcher, timers, log } = watch(backend, [{ pattern: 'X-TOUCH', decoder: PLAIN }]);
    watcher.on('connected', () => {
      throw new Error('wiring bug');
    });
    expect(() => watcher.start()).not.toThrow();
    expect(log).toEqual([
      `connected midi:${XTOUCH_A} via X-TOUCH`,
      "error MIDI watcher: a 'connected' listener failed: wiring bug",
    ]);
    backend.unplug(XTOUCH_A);
    timers.tick();
    expect(log[2]).toMatch(/^disconnected /);
  });

  it('refuses a pattern that is not a regular expression, naming it', () => {
    expect(
      () =>
        new MidiWatcher({
          backend: new FakeBackend(),
          rules: [{ pattern: 'X-TOUCH (MINI', decoder: PLAIN }],
        }),
    ).toThrow(/MIDI port pattern "X-TOUCH \(MINI" is not a valid regular expression/);
  });

  it('stops polling and closes every port on close', async () => {
    const backend = new FakeBackend();
    backend.plug(XTOUCH_A);
    const { watcher, timers } = watch(backend, [{ pattern: 'X-TOUCH', decoder: PLAIN }]);
    watcher.start();
    await watcher.close();
    expect(timers.running).toBe(0);
    expect(backend.input(XTOUCH_A).closed).toBe(true);
    expect(backend.output(XTOUCH_A).closed).toBe(true);
    expect(watcher.surfaces()[0].state).toBe('closed');
  });
});

describe('easymidi backend on this machine', () => {
  // Holds on any machine: with a MIDI system the ports are listed, without one the reason is one line.
  for (const [label, options] of [
    ['with the ALSA sequencer check', {}],
    ['with RtMidi asked directly', { alsaSequencerPath: null }],
  ] as const) {
    it(`lists ports or says in one line why MIDI is unavailable (${label})`, () => {
      const backend = new EasyMidiBackend(options);
      let outcome: string[] | Error;
      try {
        outcome = backend.getInputs();
      } catch (error) {
        outcome = error as Error;
      }
      if (outcome instanceof Error) {
        expect(outcome).toBeInstanceOf(MidiUnavailableError);
        expect(outcome.message).toMatch(/^MIDI unavailable: \S/);
        expect(outcome.message).not.toContain('\n');
      } else {
        expect(outcome.every((name) => typeof name === 'string')).toBe(true);
      }
    });
  }

  it('lets a watcher run over it without throwing', async () => {
    const watcher = new MidiWatcher({
      rules: [{ pattern: '.', decoder: PLAIN }],
      timers: new ManualTimers(),
    });
    const errors: string[] = [];
    watcher.on('error', (message) => errors.push(message));
    expect(() => watcher.start()).not.toThrow();
    expect(
      errors.every((message) => message.startsWith('MIDI unavailable: ') || message.startsWith('midi:')),
    ).toBe(true);
    expect(watcher.backendProblem === null || watcher.backendProblem.startsWith('MIDI unavailable: ')).toBe(
      true,
    );
    await watcher.close();
  });
});
