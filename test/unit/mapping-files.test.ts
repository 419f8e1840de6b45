import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParameterStore } from '../../engine/src/parameter-store.ts';
import { getSpec, isParameterId, positionToValue } from '../../engine/src/browser-safe.ts';
import type { ControlEvent } from '../../controller/src/events.ts';
import { MidiDecoder } from '../../controller/src/midi/bytes.ts';
import { Mapper } from '../../controller/src/mapping/mapper.ts';
import {
  builtinMappingDir,
  decoderConfig,
  findMapping,
  loadMapping,
  loadMappings,
} from '../../controller/src/mapping/load.ts';
import {
  bindingOn,
  isParameterBinding,
  layerNames,
  type Address,
  type Mapping,
} from '../../controller/src/mapping/types.ts';

const files = fs
  .readdirSync(builtinMappingDir())
  .filter((name) => name.endsWith('.json') && name !== 'mapping.schema.json')
  .map((name) => path.join(builtinMappingDir(), name));

/** The raw messages a control sends for `position` (absolute), a press/release, or `ticks`. */
function midiBytes(input: Address, what: { position?: number; press?: boolean; ticks?: number }): number[] {
  if (!('channel' in input)) throw new Error('not MIDI');
  const channel = input.channel - 1;
  const cc = 0xb0 | channel;
  const p7 = Math.round((what.position ?? 0) * 127);
  const p14 = Math.round((what.position ?? 0) * 16383);
  switch (input.kind) {
    case 'cc':
      if (what.press !== undefined) return [cc, input.controller, what.press ? 127 : 0];
      if (what.ticks !== undefined) return [cc, input.controller, what.ticks];
      return [cc, input.controller, p7];
    case 'cc14':
      return [cc, input.controller, p14 >> 7, cc, input.controller + 32, p14 & 0x7f];
    case 'nrpn':
      return [
        cc,
        99,
        input.parameter >> 7,
        cc,
        98,
        input.parameter & 0x7f,
        cc,
        6,
        p14 >> 7,
        cc,
        38,
        p14 & 0x7f,
      ];
    case 'note':
      return what.press ? [0x90 | channel, input.note, 127] : [0x80 | channel, input.note, 0];
    case 'pitchbend':
      return [0xe0 | channel, p14 & 0x7f, p14 >> 7];
  }
}

function serialEvent(
  input: Address,
  what: { position?: number; press?: boolean; ticks?: number },
): ControlEvent {
  if (input.kind === 'knob')
    return { kind: 'knob', index: input.index, value: Math.round((what.position ?? 0) * 1023) };
  if (input.kind === 'button') return { kind: 'button', index: input.index, pressed: what.press ?? false };
  if (input.kind === 'encoder') return { kind: 'encoder', index: input.index, delta: what.ticks ?? 0 };
  throw new Error(`not a serial input: ${input.kind}`);
}

describe('shipped mapping files', () => {
  it('there is one for each supported controller, and all of them load', () => {
    const { mappings, errors } = loadMappings([builtinMappingDir()]);
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(mappings.map((m) => m.name).sort()).toEqual(
      [
        'Akai MIDImix',
        'Behringer BCR2000',
        'Behringer X-Touch Mini',
        'Korg nanoKONTROL2',
        'Novation Launch Control XL',
        'Rig knob box',
      ].sort(),
    );
  });

  it('each is found from the port name the device really announces', () => {
    const { mappings } = loadMappings([builtinMappingDir()]);
    const ports: Record<string, string> = {
      'X-TOUCH MINI:X-TOUCH MINI MIDI 1 28:0': 'Behringer X-Touch Mini',
      'nanoKONTROL2:nanoKONTROL2 MIDI 1 24:0': 'Korg nanoKONTROL2',
      'MIDI Mix:MIDI Mix MIDI 1 32:0': 'Akai MIDImix',
      'Launch Control XL:Launch Control XL MIDI 1 20:0': 'Novation Launch Control XL',
      'BCR2000:BCR2000 MIDI 1 24:0': 'Behringer BCR2000',
    };
    for (const [portName, name] of Object.entries(ports))
      expect(findMapping(mappings, { kind: 'midi', portName })?.name).toBe(name);
    expect(findMapping(mappings, { kind: 'serial', deviceKind: 'rig-knob-box' })?.name).toBe('Rig knob box');
    expect(findMapping(mappings, { kind: 'midi', portName: 'Midi Through Port-0' })).toBeUndefined();
  });

  for (const file of files) {
    describe(path.basename(file), () => {
      const mapping: Mapping = loadMapping(file);

      it('binds only real parameter ids and says which factory preset it assumes', () => {
        const params = mapping.controls
          .flatMap((c) => [c.bind, ...Object.values(c.onLayer ?? {})])
          .filter((b) => b && isParameterBinding(b));
        expect(params.length).toBeGreaterThan(0);
        for (const binding of params) expect(isParameterId((binding as { param: string }).param)).toBe(true);
        expect(mapping.description).toMatch(/factory|HELLO/i);
      });

      it('every control, on every layer, drives its parameter or action from the bytes it sends', () => {
        for (const layer of layerNames(mapping)) {
          for (const control of mapping.controls) {
            const binding = bindingOn(control, layer);
            if (!binding) continue;
            const store = new ParameterStore();
            const called: string[] = [];
            const engine = new Mapper({
              mapping,
              store,
              surfaceId: 'files',
              send: () => {},
              actions: {
                selectSlot: (slot) => called.push(slot),
                toggleAB: () => called.push('ab'),
                undo: () => called.push('undo'),
                redo: () => called.push('redo'),
              },
            });
            const decoder = new MidiDecoder(decoderConfig(mapping));
            const emit = (what: { position?: number; press?: boolean; ticks?: number }) => {
              if (mapping.device.kind === 'serial') engine.handle(serialEvent(control.input, what));
              else decoder.feed(midiBytes(control.input, what), (event) => engine.handle(event));
            };
            // Reach the layer the way a user does: through the mapping's own layer buttons.
            if (layer !== layerNames(mapping)[0]) {
              const layerButton = mapping.controls.find((c) => {
                const b = bindingOn(c, layerNames(mapping)[0]);
                return b && !isParameterBinding(b) && b.action === 'layer' && b.layer === layer;
              })!;
              if (mapping.device.kind === 'serial')
                engine.handle(serialEvent(layerButton.input, { press: true }));
              else
                decoder.feed(midiBytes(layerButton.input, { press: true }), (event) => engine.handle(event));
              expect(engine.activeLayer).toBe(layer);
              if (layerButton === control) continue;
            }
            const where = `${path.basename(file)} ${control.name} on ${layer}`;
            if (isParameterBinding(binding)) {
              const spec = getSpec(binding.param);
              const before = store.get(spec.id);
              if (binding.mode === 'absolute') {
                for (let i = 0; i <= 127; i++) emit({ position: i / 127 });
                expect(store.get(spec.id), where).toBeCloseTo(
                  positionToValue(spec, binding.invert ? 0 : 1),
                  9,
                );
              } else if (binding.mode.startsWith('relative')) {
                const up = binding.mode === 'relative-binary-offset' ? 65 : 1;
                for (let i = 0; i < 200; i++) emit({ ticks: up });
                expect(store.get(spec.id), where).toBe(spec.max);
              } else {
                emit({ press: true });
                expect(store.get(spec.id), where).not.toBe(before);
                emit({ press: false });
              }
            } else if (binding.action === 'layer') {
              emit({ press: true });
              expect(engine.activeLayer, where).toBe(binding.layer);
            } else if (binding.action !== 'fine') {
              emit({ press: true });
              // A latching button sends one message per press (127, then 0 on the next press).
              if (!control.latching) emit({ press: false });
              expect(called, where).toEqual([binding.action === 'slot' ? binding.slot : binding.action]);
            }
            engine.dispose();
          }
        }
      });
    });
  }
});
