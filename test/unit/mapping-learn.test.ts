import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ParameterStore } from '../../engine/src/parameter-store.ts';
import { getSpec, valueToPosition } from '../../engine/src/browser-safe.ts';
import type { ControlEvent } from '../../controller/src/events.ts';
import { MidiDecoder } from '../../controller/src/midi/bytes.ts';
import { Mapper } from '../../controller/src/mapping/mapper.ts';
import {
  emptyMapping,
  learnBinding,
  saveUserMapping,
  startLearn,
  type LearnedControl,
} from '../../controller/src/mapping/learn.ts';
import {
  MappingError,
  builtinMappingDir,
  decoderConfig,
  findMapping,
  loadMapping,
  loadMappings,
} from '../../controller/src/mapping/load.ts';

const cc = (controller: number, value: number, channel = 0): ControlEvent => ({
  kind: 'cc',
  channel,
  controller,
  value,
});

function learnFrom(paramId: string, events: ControlEvent[]): LearnedControl | undefined {
  const session = startLearn(paramId);
  for (const event of events) {
    const learned = session.offer(event);
    if (learned) return learned;
  }
  return undefined;
}

describe('learn decides what moved and how', () => {
  it('a pot turned a few steps is an absolute control', () => {
    expect(learnFrom('comp.threshold', [cc(21, 40), cc(21, 41), cc(21, 42)])).toEqual({
      input: { kind: 'cc', channel: 1, controller: 21 },
      mode: 'absolute',
    });
  });

  it('a jittering pot elsewhere never wins over the control really moved', () => {
    const jitter = [cc(3, 70), cc(3, 71), cc(3, 70), cc(3, 71), cc(3, 70), cc(3, 71)];
    expect(learnFrom('comp.threshold', jitter)).toBeUndefined();
    const learned = learnFrom('comp.threshold', [
      ...jitter,
      cc(9, 10, 4),
      cc(3, 70),
      cc(9, 12, 4),
      cc(9, 15, 4),
    ]);
    expect(learned).toEqual({ input: { kind: 'cc', channel: 5, controller: 9 }, mode: 'absolute' });
  });

  it('relative encoders are told apart by their values', () => {
    expect(learnFrom('comp.threshold', [cc(1, 1), cc(1, 1), cc(1, 2)])?.mode).toBe(
      'relative-twos-complement',
    );
    expect(learnFrom('comp.threshold', [cc(1, 127), cc(1, 127), cc(1, 126)])?.mode).toBe(
      'relative-twos-complement',
    );
    expect(learnFrom('comp.threshold', [cc(1, 65), cc(1, 65), cc(1, 66)])?.mode).toBe(
      'relative-binary-offset',
    );
    expect(learnFrom('comp.threshold', [cc(1, 63), cc(1, 63), cc(1, 62)])?.mode).toBe(
      'relative-binary-offset',
    );
    expect(learnFrom('comp.threshold', [cc(1, 1), cc(1, 1), cc(1, 65)])?.mode).toBe('relative-signed-bit');
  });

  it('a button learns toggle for a switch and step for a multi-position parameter', () => {
    const press: ControlEvent = { kind: 'note', channel: 2, note: 36, velocity: 127, on: true };
    expect(learnFrom('comp.bypass', [press])).toEqual({
      input: { kind: 'note', channel: 3, note: 36 },
      mode: 'toggle',
    });
    expect(learnFrom('comp.ratio', [press])?.mode).toBe('step');
    expect(learnFrom('chain.bypass', [cc(45, 127), cc(45, 0)])).toEqual({
      input: { kind: 'cc', channel: 1, controller: 45 },
      mode: 'toggle',
    });
  });

  it('serial knobs, encoders and 14-bit faders need a real move too', () => {
    expect(
      learnFrom('output.trim', [
        { kind: 'knob', index: 2, value: 500 },
        { kind: 'knob', index: 2, value: 503 },
      ]),
    ).toBeUndefined();
    expect(
      learnFrom('output.trim', [
        { kind: 'knob', index: 2, value: 500 },
        { kind: 'knob', index: 2, value: 540 },
      ])?.mode,
    ).toBe('absolute');
    expect(learnFrom('output.trim', [{ kind: 'encoder', index: 1, delta: -1 }])).toEqual({
      input: { kind: 'encoder', index: 1 },
      mode: 'relative',
    });
    const fader = learnFrom('output.trim', [
      { kind: 'pitchbend', channel: 0, value: 8000 },
      { kind: 'pitchbend', channel: 0, value: 9000 },
    ]);
    expect(fader).toEqual({ input: { kind: 'pitchbend', channel: 1 }, mode: 'absolute' });
  });

  it('an NRPN control sending data entry MSB only is learned as 7-bit', () => {
    const nrpn = (value: number): ControlEvent => ({ kind: 'nrpn', channel: 0, parameter: 77, value });
    expect(learnFrom('output.trim', [nrpn(10 << 7), nrpn(20 << 7)])?.input).toEqual({
      kind: 'nrpn',
      channel: 1,
      parameter: 77,
      dataBits: 7,
    });
    expect(learnFrom('output.trim', [nrpn(10 << 7), nrpn((10 << 7) | 5), nrpn(20 << 7)])?.input).toEqual({
      kind: 'nrpn',
      channel: 1,
      parameter: 77,
      dataBits: 14,
    });
  });
});

describe('learned bindings are saved as user mappings', () => {
  let userDir: string;
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-learn-'));
  });
  afterEach(() => {
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('rebinding a built-in control writes a copy that loads first and drives the new parameter', () => {
    const builtin = loadMapping(path.join(builtinMappingDir(), 'korg-nanokontrol2.json'));
    // Knob 1 (CC 16) is comp.ratio in the factory file; learn it onto the air band instead.
    const learned = learnFrom('character.air', [cc(16, 10), cc(16, 11), cc(16, 12)])!;
    const edited = learnBinding(builtin, learned, 'character.air');
    const saved = saveUserMapping(edited, userDir);

    expect(saved.file).toBe(path.join(userDir, 'korg-nanokontrol2.json'));
    expect(fs.readdirSync(userDir)).toEqual(['korg-nanokontrol2.json']); // no temp file left behind
    const knob1 = saved.controls.find((c) => c.name === 'Knob 1')!;
    expect(knob1.bind).toEqual({ param: 'character.air', mode: 'absolute' });
    expect(knob1.onLayer).toEqual(builtin.controls.find((c) => c.name === 'Knob 1')!.onLayer);

    const { mappings, errors } = loadMappings([builtinMappingDir(), userDir]);
    expect(errors).toEqual([]);
    const chosen = findMapping(mappings, { kind: 'midi', portName: 'nanoKONTROL2 MIDI 1' })!;
    expect(chosen.file).toBe(saved.file);

    const store = new ParameterStore();
    const engine = new Mapper({ mapping: chosen, store, surfaceId: 'nano', send: () => {} });
    const decoder = new MidiDecoder(decoderConfig(chosen));
    const air = getSpec('character.air');
    const start = Math.round(valueToPosition(air, store.get('character.air')) * 127);
    for (let v = start; v <= 127; v++) decoder.feed([0xb0, 16, v], (event) => engine.handle(event));
    expect(store.get('character.air')).toBe(air.max);
    expect(store.get('comp.ratio')).toBe(getSpec('comp.ratio').default);
    engine.dispose();
  });

  it('a device without a mapping gets a new file matching exactly its port', () => {
    const learned = learnFrom('comp.bypass', [
      { kind: 'note', channel: 0, note: 60, velocity: 100, on: true },
    ])!;
    const mapping = learnBinding(
      emptyMapping({ kind: 'midi', portName: 'Widget (USB) 1' }),
      learned,
      'comp.bypass',
    );
    const saved = saveUserMapping(mapping, userDir);
    expect(path.basename(saved.file!)).toBe('widget-usb-1.json');
    expect(findMapping([saved], { kind: 'midi', portName: 'Widget (USB) 1' })).toBeDefined();
    expect(findMapping([saved], { kind: 'midi', portName: 'Widget (USB) 12' })).toBeUndefined();
    expect(saved.controls).toEqual([
      {
        name: 'Learned note 60 on channel 1',
        input: { kind: 'note', channel: 1, note: 60 },
        bind: { param: 'comp.bypass', mode: 'toggle' },
      },
    ]);
  });

  it('learning onto a layer keeps the other layers; an invalid result is refused and the old file kept', () => {
    const box = loadMapping(path.join(builtinMappingDir(), 'rig-knob-box.json'));
    const first = saveUserMapping(
      learnBinding(box, { input: { kind: 'knob', index: 0 }, mode: 'absolute' }, 'limiter.link', 'shift'),
      userDir,
    );
    const knob1 = first.controls.find((c) => c.name === 'Knob 1')!;
    expect(knob1.bind).toEqual(box.controls.find((c) => c.name === 'Knob 1')!.bind);
    expect(knob1.onLayer?.shift).toEqual({ param: 'limiter.link', mode: 'absolute' });

    const before = fs.readFileSync(first.file!, 'utf8');
    // A continuous parameter cannot be stepped: the loader's check runs before anything is written.
    const invalid = learnBinding(box, { input: { kind: 'button', index: 0 }, mode: 'step' }, 'limiter.link');
    expect(() => saveUserMapping(invalid, userDir)).toThrow(MappingError);
    expect(() => saveUserMapping(invalid, userDir)).toThrow(
      /rig-knob-box\.json.*controls\[\d+\]\.bind\.mode: "step" needs a parameter with steps or choices/,
    );
    expect(fs.readFileSync(first.file!, 'utf8')).toBe(before);
    expect(fs.readdirSync(userDir)).toEqual(['rig-knob-box.json']);
  });
});
