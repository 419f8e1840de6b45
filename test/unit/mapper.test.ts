import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ParameterStore } from '../../engine/src/parameter-store.ts';
import { getSpec, positionToValue, valueToPosition } from '../../engine/src/browser-safe.ts';
import type { RecallActions } from '../../engine/src/recall/recall.ts';
import type { ControlEvent, FeedbackMessage } from '../../controller/src/events.ts';
import { MidiDecoder } from '../../controller/src/midi/bytes.ts';
import { Mapper } from '../../controller/src/mapping/mapper.ts';
import { decoderConfig, validateMapping } from '../../controller/src/mapping/load.ts';
import type { ControlSpec } from '../../controller/src/mapping/types.ts';

const CC = 0xb0;
const NOTE_ON = 0x90;
const NOTE_OFF = 0x80;
const PITCH_BEND = 0xe0;

function rig(
  controls: ControlSpec[],
  options: {
    layers?: string[];
    actions?: Partial<RecallActions>;
    serial?: boolean;
    fineFactor?: number;
  } = {},
) {
  const mapping = validateMapping(
    {
      name: 'test surface',
      description: 'built by the test',
      device: options.serial
        ? { kind: 'serial', deviceKind: 'rig-knob-box' }
        : { kind: 'midi', portName: 'Test' },
      ...(options.layers ? { layers: options.layers } : {}),
      ...(options.fineFactor ? { fineFactor: options.fineFactor } : {}),
      controls,
    },
    'test.json',
  );
  const store = new ParameterStore();
  const sent: FeedbackMessage[] = [];
  const sentAtMs: number[] = [];
  const send = (message: FeedbackMessage) => {
    sent.push(message);
    sentAtMs.push(Date.now());
  };
  const mapper = new Mapper({
    mapping,
    store,
    surfaceId: 'test',
    send,
    actions: options.actions,
    now: () => Date.now(),
  });
  const decoder = new MidiDecoder(decoderConfig(mapping));
  const midi = (...bytes: number[]) => decoder.feed(bytes, (event) => mapper.handle(event));
  const serial = (event: ControlEvent) => mapper.handle(event);
  return { store, mapper, sent, sentAtMs, midi, serial };
}

/** A pot swept one value at a time, as a hand turning it slowly sends. */
function sweep(
  midi: (...bytes: number[]) => void,
  channel: number,
  controller: number,
  from: number,
  to: number,
) {
  const step = from <= to ? 1 : -1;
  for (let v = from; v !== to + step; v += step) midi(CC | channel, controller, v);
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('absolute controls', () => {
  it('7-bit CC pot sets the value through the parameter taper once picked up', () => {
    const { store, midi } = rig([
      {
        name: 'k',
        input: { kind: 'cc', channel: 1, controller: 20 },
        bind: { param: 'eq.bell1.freq', mode: 'absolute' },
      },
    ]);
    const spec = getSpec('eq.bell1.freq');
    sweep(midi, 0, 20, 0, 100);
    expect(store.get('eq.bell1.freq')).toBeCloseTo(positionToValue(spec, 100 / 127), 9);
  });

  it('14-bit CC pairs MSB and LSB into one fine position', () => {
    const { store, midi } = rig([
      {
        name: 'f',
        input: { kind: 'cc14', channel: 2, controller: 7 },
        bind: { param: 'output.trim', mode: 'absolute' },
      },
    ]);
    const spec = getSpec('output.trim');
    const target = Math.round(valueToPosition(spec, store.get('output.trim')) * 16383);
    // Arrive at the current value exactly (pickup), then move to a position only 14 bits can express.
    midi(CC | 1, 7, target >> 7, 39, target & 0x7f);
    const fine = (100 << 7) | 77;
    midi(CC | 1, 7, fine >> 7, 39, fine & 0x7f);
    expect(store.get('output.trim')).toBeCloseTo(positionToValue(spec, fine / 16383), 9);
  });

  it('NRPN sets the value from 14-bit data entry', () => {
    const { store, midi } = rig([
      {
        name: 'n',
        input: { kind: 'nrpn', channel: 1, parameter: 300 },
        bind: { param: 'image.width', mode: 'absolute' },
      },
    ]);
    const spec = getSpec('image.width');
    const start = Math.round(valueToPosition(spec, store.get('image.width')) * 16383);
    midi(CC, 99, 300 >> 7, 98, 300 & 0x7f, 6, start >> 7, 38, start & 0x7f);
    const value = 12000;
    midi(CC, 6, value >> 7, 38, value & 0x7f);
    expect(store.get('image.width')).toBeCloseTo(positionToValue(spec, value / 16383), 9);
  });

  it('NRPN from an MSB-only device reaches the full range', () => {
    const { store, midi } = rig([
      {
        name: 'n',
        input: { kind: 'nrpn', channel: 1, parameter: 5, dataBits: 7 },
        bind: { param: 'comp.mix', mode: 'absolute' },
      },
    ]);
    midi(CC, 99, 0, 98, 5);
    for (let v = 100; v <= 127; v++) midi(CC, 6, v); // comp.mix starts at 100 % = the top
    expect(store.get('comp.mix')).toBe(getSpec('comp.mix').max);
    midi(CC, 6, 64);
    expect(store.get('comp.mix')).toBeCloseTo(positionToValue(getSpec('comp.mix'), 64 / 127), 9);
  });

  it('pitch-bend motor fader applies at once and is moved by changes from elsewhere', () => {
    const { store, midi, sent } = rig([
      {
        name: 'fader',
        input: { kind: 'pitchbend', channel: 1 },
        feedback: { moves: true },
        bind: { param: 'limiter.gain', mode: 'absolute' },
      },
    ]);
    const spec = getSpec('limiter.gain');
    midi(PITCH_BEND, 0x00, 0x10); // far from the value: a motor fader never waits for pickup
    expect(store.get('limiter.gain')).toBeCloseTo(positionToValue(spec, (0x10 << 7) / 16383), 9);
    expect(sent).toEqual([]); // its own move is not echoed back to the motor
    store.set('limiter.gain', 6, 'dashboard:1');
    expect(sent).toEqual([
      { kind: 'pitchbend', channel: 0, value: Math.round(valueToPosition(spec, 6) * 16383) },
    ]);
    midi(PITCH_BEND, 0x00, 0x7f); // the hand moves the fader from where the motor put it: no pickup
    expect(store.get('limiter.gain')).toBeCloseTo(positionToValue(spec, (0x7f << 7) / 16383), 9);
  });

  it('a pot on a stepped parameter snaps to its detents', () => {
    const { store, midi } = rig([
      {
        name: 'ratio',
        input: { kind: 'cc', channel: 1, controller: 3 },
        bind: { param: 'comp.ratio', mode: 'absolute' },
      },
    ]);
    const spec = getSpec('comp.ratio');
    const seen = new Set<number>();
    for (const v of [...Array(128).keys(), ...[...Array(128).keys()].reverse()]) {
      midi(CC, 3, v);
      seen.add(store.get('comp.ratio'));
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([...spec.steps!]);
    midi(CC, 3, 70);
    expect(store.get('comp.ratio')).toBe(positionToValue(spec, 70 / 127));
  });
});

describe('soft takeover', () => {
  const pot: ControlSpec = {
    name: 'trim',
    input: { kind: 'cc', channel: 1, controller: 1 },
    bind: { param: 'input.trim', mode: 'absolute' },
  };
  const spec = getSpec('input.trim');

  it('ignores the pot until it crosses the value, even between two messages', () => {
    const { store, midi } = rig([pot]);
    const initial = store.get('input.trim');
    midi(CC, 1, 10, CC, 1, 20);
    expect(store.get('input.trim')).toBe(initial);
    midi(CC, 1, 90); // jumped over the value's position (63.5 of 127)
    expect(store.get('input.trim')).toBeCloseTo(positionToValue(spec, 90 / 127), 9);
  });

  it('takes over at once when the pot is already within tolerance of the value', () => {
    const { store, midi } = rig([pot]);
    midi(CC, 1, 64);
    expect(store.get('input.trim')).toBeCloseTo(positionToValue(spec, 64 / 127), 9);
  });

  it('a change from elsewhere puts the pot back into pickup: no jump', () => {
    const { store, midi } = rig([pot]);
    sweep(midi, 0, 1, 60, 70);
    store.set('input.trim', 12, 'dashboard:1');
    midi(CC, 1, 71);
    expect(store.get('input.trim')).toBe(12);
    sweep(midi, 0, 1, 72, 100); // 12 dB sits at position 0.75 = 95.25 of 127
    expect(store.get('input.trim')).toBeCloseTo(positionToValue(spec, 100 / 127), 9);
  });

  it('a recall makes every pot wait for its value', () => {
    const { store, midi } = rig([pot]);
    sweep(midi, 0, 1, 60, 70);
    // 4 dB sits at position 0.583 = 74.1 of 127: above the pot, so its jump down to 20 does not cross it.
    store.set('input.trim', 4, 'recall');
    const held = store.get('input.trim');
    midi(CC, 1, 20);
    expect(store.get('input.trim')).toBe(held);
    sweep(midi, 0, 1, 21, 80);
    expect(store.get('input.trim')).toBeCloseTo(positionToValue(spec, 80 / 127), 9);
  });

  it('a change made by another control of the same surface also needs pickup on this one', () => {
    const { store, midi } = rig([
      pot,
      {
        name: 'enc',
        input: { kind: 'cc', channel: 1, controller: 2 },
        bind: { param: 'input.trim', mode: 'relative-twos-complement' },
      },
    ]);
    midi(CC, 1, 64);
    const before = store.get('input.trim');
    for (let i = 0; i < 20; i++) midi(CC, 2, 1);
    expect(store.get('input.trim')).toBeGreaterThan(before);
    const moved = store.get('input.trim');
    midi(CC, 1, 65);
    expect(store.get('input.trim')).toBe(moved);
  });
});

describe('relative encoders', () => {
  const spec = getSpec('comp.threshold');
  /** Where `ticks` single steps of the default sensitivity (1 % of travel each) take the value. */
  function expectedAfter(start: number, ticks: number[], sensitivity = 0.01): number {
    let value = start;
    for (const t of ticks)
      value = positionToValue(spec, Math.min(1, Math.max(0, valueToPosition(spec, value) + t * sensitivity)));
    return value;
  }

  const encodings = [
    ['relative-twos-complement', { up: 3, down: 127 }, [3, -1]],
    ['relative-signed-bit', { up: 3, down: 65 }, [3, -1]],
    ['relative-binary-offset', { up: 67, down: 63 }, [3, -1]],
  ] as const;
  for (const [mode, bytes, ticks] of encodings) {
    it(`${mode} decodes up and down steps`, () => {
      const { store, midi } = rig([
        {
          name: 'e',
          input: { kind: 'cc', channel: 1, controller: 10 },
          bind: { param: 'comp.threshold', mode },
        },
      ]);
      const start = store.get('comp.threshold');
      midi(CC, 10, bytes.up);
      expect(store.get('comp.threshold')).toBeCloseTo(expectedAfter(start, [ticks[0]]), 9);
      midi(CC, 10, bytes.down);
      expect(store.get('comp.threshold')).toBeCloseTo(expectedAfter(start, [...ticks]), 9);
    });
  }

  it('acceleration makes fast turning cover more ground than slow turning', () => {
    const acceleration = 3;
    const control: ControlSpec = {
      name: 'e',
      input: { kind: 'encoder', index: 0 },
      bind: { param: 'comp.threshold', mode: 'relative', acceleration },
    };
    const slow = rig([control], { serial: true });
    const start = slow.store.get('comp.threshold');
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(200); // 5 ticks per second: below the acceleration threshold
      slow.serial({ kind: 'encoder', index: 0, delta: 1 });
    }
    expect(slow.store.get('comp.threshold')).toBeCloseTo(expectedAfter(start, [1, 1, 1, 1, 1]), 9);
    slow.mapper.dispose();

    const fast = rig([control], { serial: true });
    fast.serial({ kind: 'encoder', index: 0, delta: 1 }); // first tick: no speed known yet
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime(5); // 200 ticks per second: full acceleration
      fast.serial({ kind: 'encoder', index: 0, delta: 1 });
    }
    const full = 1 + acceleration;
    expect(fast.store.get('comp.threshold')).toBeCloseTo(
      expectedAfter(start, [1, full, full, full, full]),
      9,
    );
  });

  it('fine modifier shrinks steps while held', () => {
    const { store, serial } = rig(
      [
        {
          name: 'e',
          input: { kind: 'encoder', index: 0 },
          bind: { param: 'comp.threshold', mode: 'relative' },
        },
        { name: 'fine', input: { kind: 'button', index: 0 }, feedback: {}, bind: { action: 'fine' } },
      ],
      { serial: true, fineFactor: 0.1 },
    );
    const start = store.get('comp.threshold');
    serial({ kind: 'button', index: 0, pressed: true });
    serial({ kind: 'encoder', index: 0, delta: 5 });
    const fine = expectedAfter(start, [5], 0.001);
    expect(store.get('comp.threshold')).toBeCloseTo(fine, 9);
    serial({ kind: 'button', index: 0, pressed: false });
    serial({ kind: 'encoder', index: 0, delta: 5 });
    expect(store.get('comp.threshold')).toBeCloseTo(expectedAfter(fine, [5]), 9);
  });

  it('an encoder on a stepped parameter moves one detent per ticksPerStep', () => {
    const { store, serial } = rig(
      [
        {
          name: 'e',
          input: { kind: 'encoder', index: 1 },
          bind: { param: 'comp.ratio', mode: 'relative', ticksPerStep: 2 },
        },
      ],
      {
        serial: true,
      },
    );
    const steps = getSpec('comp.ratio').steps!;
    const start = steps.indexOf(store.get('comp.ratio'));
    serial({ kind: 'encoder', index: 1, delta: 1 });
    expect(store.get('comp.ratio')).toBe(steps[start]);
    serial({ kind: 'encoder', index: 1, delta: 1 });
    expect(store.get('comp.ratio')).toBe(steps[start + 1]);
    serial({ kind: 'encoder', index: 1, delta: 4 });
    expect(store.get('comp.ratio')).toBe(steps[start + 3]);
    serial({ kind: 'encoder', index: 1, delta: 100 });
    expect(store.get('comp.ratio')).toBe(steps[steps.length - 1]);
  });

  it('a relative encoder never needs pickup after a change from elsewhere', () => {
    const { store, midi } = rig([
      {
        name: 'e',
        input: { kind: 'cc', channel: 1, controller: 10 },
        bind: { param: 'comp.threshold', mode: 'relative-twos-complement' },
      },
    ]);
    store.set('comp.threshold', -30, 'recall');
    midi(CC, 10, 1);
    expect(store.get('comp.threshold')).toBeCloseTo(expectedAfter(-30, [1]), 9);
  });
});

describe('buttons', () => {
  it('toggle flips a switch on each press (note), and its light follows', () => {
    const { store, midi, sent } = rig([
      {
        name: 'b',
        input: { kind: 'note', channel: 1, note: 8 },
        feedback: {},
        bind: { param: 'comp.bypass', mode: 'toggle' },
      },
    ]);
    midi(NOTE_ON, 8, 127);
    expect(store.get('comp.bypass')).toBe(1);
    midi(NOTE_OFF, 8, 0);
    expect(store.get('comp.bypass')).toBe(1);
    midi(NOTE_ON, 8, 127, NOTE_ON, 8, 0); // note-on velocity 0 is a release
    expect(store.get('comp.bypass')).toBe(0);
    vi.advanceTimersByTime(100);
    expect(sent.at(-1)).toEqual({ kind: 'note', channel: 0, note: 8, velocity: 0 });
    store.set('comp.bypass', 1, 'dashboard:1');
    vi.advanceTimersByTime(100);
    expect(sent.at(-1)).toEqual({ kind: 'note', channel: 0, note: 8, velocity: 127 });
  });

  it('toggle on a CC button (127 press, 0 release) bypasses the whole chain', () => {
    const { store, midi } = rig([
      {
        name: 'b',
        input: { kind: 'cc', channel: 1, controller: 41 },
        bind: { param: 'chain.bypass', mode: 'toggle' },
      },
    ]);
    midi(CC, 41, 127, CC, 41, 0);
    expect(store.get('chain.bypass')).toBe(1);
    midi(CC, 41, 127, CC, 41, 0);
    expect(store.get('chain.bypass')).toBe(0);
  });

  it('momentary holds the value only while pressed', () => {
    const { store, serial } = rig(
      [
        {
          name: 'b',
          input: { kind: 'button', index: 2 },
          bind: { param: 'chain.bypass', mode: 'momentary' },
        },
      ],
      { serial: true },
    );
    serial({ kind: 'button', index: 2, pressed: true });
    expect(store.get('chain.bypass')).toBe(1);
    serial({ kind: 'button', index: 2, pressed: false });
    expect(store.get('chain.bypass')).toBe(0);
  });

  it('step walks through choices and wraps; backwards without wrap stops at the first', () => {
    const { store, midi } = rig([
      {
        name: 'up',
        input: { kind: 'note', channel: 1, note: 1 },
        bind: { param: 'eq.hp.slope', mode: 'step' },
      },
      {
        name: 'down',
        input: { kind: 'note', channel: 1, note: 2 },
        bind: { param: 'eq.hp.slope', mode: 'step', direction: -1, wrap: false },
      },
    ]);
    const count = getSpec('eq.hp.slope').choices!.length;
    const seen: number[] = [];
    for (let i = 0; i < count; i++) {
      midi(NOTE_ON, 1, 127, NOTE_OFF, 1, 0);
      seen.push(store.get('eq.hp.slope'));
    }
    expect(seen).toEqual([...Array.from({ length: count - 1 }, (_, i) => i + 1), 0]);
    midi(NOTE_ON, 2, 127, NOTE_OFF, 2, 0);
    expect(store.get('eq.hp.slope')).toBe(0);
  });

  it('step walks a stepped parameter through its detents', () => {
    const { store, midi } = rig([
      {
        name: 'ratio',
        input: { kind: 'note', channel: 1, note: 3 },
        bind: { param: 'comp.ratio', mode: 'step' },
      },
    ]);
    const steps = getSpec('comp.ratio').steps!;
    const start = steps.indexOf(store.get('comp.ratio'));
    midi(NOTE_ON, 3, 127);
    expect(store.get('comp.ratio')).toBe(steps[(start + 1) % steps.length]);
  });

  it('slot, A/B, undo and redo buttons call the recall actions', () => {
    const calls: string[] = [];
    const { midi } = rig(
      [
        { name: 'A', input: { kind: 'note', channel: 1, note: 10 }, bind: { action: 'slot', slot: 'A' } },
        { name: 'D', input: { kind: 'note', channel: 1, note: 11 }, bind: { action: 'slot', slot: 'D' } },
        { name: 'ab', input: { kind: 'note', channel: 1, note: 12 }, bind: { action: 'ab' } },
        { name: 'undo', input: { kind: 'note', channel: 1, note: 13 }, bind: { action: 'undo' } },
        { name: 'redo', input: { kind: 'note', channel: 1, note: 14 }, bind: { action: 'redo' } },
      ],
      {
        actions: {
          selectSlot: (slot) => calls.push(`recall ${slot}`),
          toggleAB: () => calls.push('ab'),
          undo: () => calls.push('undo'),
          redo: () => calls.push('redo'),
        },
      },
    );
    for (const note of [10, 11, 12, 13, 14]) midi(NOTE_ON, note, 127, NOTE_OFF, note, 0);
    expect(calls).toEqual(['recall A', 'recall D', 'ab', 'undo', 'redo']);
  });

  it('a latching button counts every message as a press and has its latch set to the result', () => {
    const { store, midi, sent } = rig([
      {
        name: 'b',
        input: { kind: 'cc', channel: 1, controller: 65 },
        feedback: {},
        latching: true,
        bind: { param: 'eq.bypass', mode: 'toggle' },
      },
    ]);
    midi(CC, 65, 127);
    expect(store.get('eq.bypass')).toBe(1);
    store.set('eq.bypass', 0, 'recall'); // the device still believes it is latched on
    vi.advanceTimersByTime(100);
    expect(sent.at(-1)).toEqual({ kind: 'cc', channel: 0, controller: 65, value: 0 });
    midi(CC, 65, 127);
    expect(store.get('eq.bypass')).toBe(1);
    midi(CC, 65, 0);
    expect(store.get('eq.bypass')).toBe(0);
    vi.advanceTimersByTime(100);
    expect(sent.at(-1)).toEqual({ kind: 'cc', channel: 0, controller: 65, value: 0 });
  });
});

describe('layers', () => {
  const controls: ControlSpec[] = [
    {
      name: 'knob',
      input: { kind: 'knob', index: 0 },
      feedback: { to: { kind: 'ring', index: 0 } },
      bind: { param: 'comp.threshold', mode: 'absolute' },
      onLayer: { shift: { param: 'eq.bell1.gain', mode: 'absolute' } },
    },
    {
      name: 'shift',
      input: { kind: 'button', index: 3 },
      feedback: {},
      bind: { action: 'layer', layer: 'shift', hold: true },
    },
    { name: 'page', input: { kind: 'button', index: 2 }, bind: { action: 'layer', layer: 'shift' } },
  ];
  const threshold = getSpec('comp.threshold');
  const gain = getSpec('eq.bell1.gain');
  const knobAt = (position: number) => Math.round(position * 1023);

  it('shift selects the layer while held; the same knob then sets another parameter after pickup', () => {
    const { store, serial, mapper, sent } = rig(controls, { serial: true, layers: ['main', 'shift'] });
    const atThreshold = knobAt(valueToPosition(threshold, store.get('comp.threshold')));
    serial({ kind: 'knob', index: 0, value: atThreshold });
    serial({ kind: 'knob', index: 0, value: 1000 });
    expect(store.get('comp.threshold')).toBeCloseTo(positionToValue(threshold, 1000 / 1023), 9);

    sent.length = 0;
    serial({ kind: 'button', index: 3, pressed: true });
    expect(mapper.activeLayer).toBe('shift');
    // The page's feedback is sent at once: the ring shows the EQ gain, the shift light is lit.
    expect(sent).toContainEqual({
      kind: 'ring',
      index: 0,
      value: knobAt(valueToPosition(gain, store.get('eq.bell1.gain'))),
    });
    expect(sent).toContainEqual({ kind: 'led', index: 3, on: true });

    serial({ kind: 'knob', index: 0, value: 990 }); // far from the gain's 0 dB: pickup holds it
    expect(store.get('eq.bell1.gain')).toBe(gain.default);
    serial({ kind: 'knob', index: 0, value: 400 }); // crossed 0 dB (position 0.5)
    expect(store.get('eq.bell1.gain')).toBeCloseTo(positionToValue(gain, 400 / 1023), 9);
    expect(store.get('comp.threshold')).toBeCloseTo(positionToValue(threshold, 1000 / 1023), 9);

    serial({ kind: 'button', index: 3, pressed: false });
    expect(mapper.activeLayer).toBe('main');
    serial({ kind: 'knob', index: 0, value: 420 }); // back on main, far from the threshold: pickup again
    expect(store.get('comp.threshold')).toBeCloseTo(positionToValue(threshold, 1000 / 1023), 9);
  });

  it('a page button selects its layer and a second press returns to the first', () => {
    const { serial, mapper } = rig(controls, { serial: true, layers: ['main', 'shift'] });
    serial({ kind: 'button', index: 2, pressed: true });
    serial({ kind: 'button', index: 2, pressed: false });
    expect(mapper.activeLayer).toBe('shift');
    serial({ kind: 'button', index: 2, pressed: true });
    expect(mapper.activeLayer).toBe('main');
  });
});

describe('feedback', () => {
  const ringed: ControlSpec = {
    name: 'enc',
    input: { kind: 'cc', channel: 1, controller: 1 },
    feedback: { moves: true },
    bind: { param: 'comp.threshold', mode: 'absolute' },
  };
  const spec = getSpec('comp.threshold');
  const ccAt = (value: number) => Math.round(valueToPosition(spec, value) * 127);

  it('is rate limited per control, and the final value always follows', () => {
    const { store, sent, sentAtMs } = rig([ringed]);
    for (let i = 0; i < 50; i++) {
      store.set('comp.threshold', -40 + i * 0.5, 'dashboard:1');
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(20);
    // 50 changes in 50 ms: the first at once, then no closer than 20 ms apart, the last one included.
    expect(sent[0]).toEqual({ kind: 'cc', channel: 0, controller: 1, value: ccAt(-40) });
    expect(sent.at(-1)).toEqual({ kind: 'cc', channel: 0, controller: 1, value: ccAt(-40 + 49 * 0.5) });
    expect(sent.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < sentAtMs.length; i++)
      expect(sentAtMs[i] - sentAtMs[i - 1]).toBeGreaterThanOrEqual(20);
  });

  it('keeps sending when the value changes slower than the interval', () => {
    const { store, sent } = rig([ringed]);
    for (const value of [-30, -20, -10]) {
      store.set('comp.threshold', value, 'recall');
      vi.advanceTimersByTime(25);
    }
    expect(sent.map((m) => (m.kind === 'cc' ? m.value : -1))).toEqual([-30, -20, -10].map(ccAt));
  });

  it('is not echoed to the control that made the change, but reaches others bound to the parameter', () => {
    const { midi, sent, store } = rig([
      ringed,
      {
        name: 'other',
        input: { kind: 'cc', channel: 1, controller: 2 },
        feedback: { moves: true },
        bind: { param: 'comp.threshold', mode: 'absolute' },
      },
    ]);
    midi(CC, 1, 30);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([
      { kind: 'cc', channel: 0, controller: 2, value: ccAt(store.get('comp.threshold')) },
    ]);
  });

  it('a relative encoder is told its own result: its ring cannot know it otherwise', () => {
    const { midi, sent, store } = rig([
      {
        name: 'e',
        input: { kind: 'cc', channel: 1, controller: 5 },
        feedback: {},
        bind: { param: 'comp.threshold', mode: 'relative-binary-offset' },
      },
    ]);
    midi(CC, 5, 66);
    expect(sent).toEqual([
      { kind: 'cc', channel: 0, controller: 5, value: ccAt(store.get('comp.threshold')) },
    ]);
  });

  it('syncAll sends every control its current state; dispose stops feedback and timers', () => {
    const { store, mapper, sent } = rig([
      ringed,
      {
        name: 'b',
        input: { kind: 'note', channel: 2, note: 4 },
        feedback: { on: 1, off: 0 },
        bind: { param: 'limiter.autoRelease', mode: 'toggle' },
      },
      {
        name: 'motor',
        input: { kind: 'pitchbend', channel: 3 },
        feedback: { moves: true },
        bind: { param: 'output.trim', mode: 'absolute' },
      },
    ]);
    mapper.syncAll();
    expect(sent).toEqual([
      { kind: 'cc', channel: 0, controller: 1, value: ccAt(store.get('comp.threshold')) },
      { kind: 'note', channel: 1, note: 4, velocity: store.get('limiter.autoRelease') ? 1 : 0 },
      {
        kind: 'pitchbend',
        channel: 2,
        value: Math.round(valueToPosition(getSpec('output.trim'), store.get('output.trim')) * 16383),
      },
    ]);
    store.set('comp.threshold', -3, 'recall');
    store.set('comp.threshold', -4, 'recall'); // within the interval: a trailing send is pending
    mapper.dispose();
    const count = sent.length;
    vi.advanceTimersByTime(100);
    store.set('comp.threshold', -5, 'recall');
    expect(sent.length).toBe(count);
    expect(vi.getTimerCount()).toBe(0);
  });
});
