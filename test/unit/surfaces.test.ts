/** The surface manager: devices found by their mapping, events to parameters, feedback back, learn, hot-plug. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SurfaceManager } from '../../controller/src/surfaces.ts';
import { ParameterStore } from '../../engine/src/parameter-store.ts';
import { getSpec, positionToValue } from '../../engine/src/params.ts';
import { FakeBackend } from '../helpers/fake-midi.ts';

// X-Touch Mini, factory "MC mode off" layer A: encoders on channel 11, CC 1.. (mappings/behringer-x-touch-mini.json).
const CC = 0xb0 + 10;
let userDir: string;
let manager: SurfaceManager | undefined;
beforeEach(() => {
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-user-mappings-'));
});
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  fs.rmSync(userDir, { recursive: true, force: true });
});

function start(store: ParameterStore, backend: FakeBackend): SurfaceManager {
  manager = new SurfaceManager({ store, midiBackend: backend, userMappingDir: userDir, midiPollMs: 60_000 });
  manager.start();
  manager.pollNow();
  return manager;
}

// Feedback is rate-limited per control (a trailing update follows within the interval).
const feedbackSettles = () => new Promise((resolve) => setTimeout(resolve, 100));

describe('surface manager', () => {
  it('gives a device its mapping, turns its knobs into parameters and shows other changes on it', async () => {
    const backend = new FakeBackend();
    const device = backend.plug('X-TOUCH MINI:X-TOUCH MINI MIDI 1 24:0');
    const store = new ParameterStore();
    const surfaces = start(store, backend);
    expect(surfaces.status()).toEqual([
      expect.objectContaining({
        id: 'midi:X-TOUCH MINI:X-TOUCH MINI MIDI 1 24:0',
        kind: 'midi',
        mapping: 'Behringer X-Touch Mini',
        connected: true,
      }),
    ]);
    expect(surfaces.mappingsInUse()).toEqual(['Behringer X-Touch Mini']);

    // The ring follows the current threshold on connect (the encoder is endless: it moves, no pickup).
    const output = device.outputs.at(-1)!;
    output.wire.length = 0;
    device.inputs.at(-1)!.deliver([CC, 2, 127]);
    expect(store.get('comp.threshold')).toBe(getSpec('comp.threshold').max);
    expect(surfaces.status()[0].lastEvent?.text).toBe('CC 2 on channel 11 = 127');
    // Not echoed to the control that made the change...
    expect(output.wire).toEqual([]);
    // ...but a change from the page is shown on the hardware.
    await feedbackSettles();
    expect(output.wire).toEqual([]);
    store.set('comp.threshold', positionToValue(getSpec('comp.threshold'), 0), 'dashboard:1');
    await feedbackSettles();
    expect(output.wire).toEqual([CC, 2, 0]);
  });

  it('learns the next control moved into a user mapping that survives a restart', () => {
    const backend = new FakeBackend();
    const device = backend.plug('X-TOUCH MINI');
    const store = new ParameterStore();
    const surfaces = start(store, backend);
    surfaces.learn.start('character.drive');
    expect(surfaces.learn.current()).toEqual({ id: 'character.drive' });
    const learned: string[] = [];
    surfaces.onLearned((l) => learned.push(`${l.control} -> ${l.id}`));
    // CC 20 on channel 11 is not in the factory mapping; a pot moving through it.
    for (const value of [10, 20, 40, 60]) device.inputs.at(-1)!.deliver([CC, 20, value]);
    expect(learned).toHaveLength(1);
    expect(surfaces.learn.current()).toBeNull();
    expect(fs.readdirSync(userDir)).toContain('behringer-x-touch-mini.json');

    // The pot sits at 60 while the drive is at 0: it picks up the drive when it passes it.
    device.inputs.at(-1)!.deliver([CC, 20, 127]);
    expect(store.get('character.drive')).toBe(0);
    device.inputs.at(-1)!.deliver([CC, 20, 0]);
    device.inputs.at(-1)!.deliver([CC, 20, 127]);
    expect(store.get('character.drive')).toBe(getSpec('character.drive').max);

    // A fresh rig reads the user's copy in place of the built-in one.
    const store2 = new ParameterStore();
    const backend2 = new FakeBackend();
    const device2 = backend2.plug('X-TOUCH MINI');
    const again = new SurfaceManager({ store: store2, midiBackend: backend2, userMappingDir: userDir });
    again.start();
    again.pollNow();
    device2.inputs.at(-1)!.deliver([CC, 20, 0]);
    device2.inputs.at(-1)!.deliver([CC, 20, 127]);
    expect(store2.get('character.drive')).toBe(getSpec('character.drive').max);
    void again.close();
  });

  it('refuses to learn with no surface connected, or for a parameter that does not exist', () => {
    const surfaces = start(new ParameterStore(), new FakeBackend());
    expect(() => surfaces.learn.start('comp.ratio')).toThrow(/no.*connected|none is connected/);
    expect(() => surfaces.learn.start('comp.raito')).toThrow(/comp\.ratio/);
  });

  it('runs on when a mapping file is broken, naming the file and the reason', () => {
    fs.writeFileSync(path.join(userDir, 'broken.json'), '{ "name": "broken", ');
    const backend = new FakeBackend();
    const device = backend.plug('nanoKONTROL2 MIDI 1');
    const store = new ParameterStore();
    const surfaces = start(store, backend);
    expect(surfaces.mappingErrors.map((e) => e.message).join('\n')).toMatch(/broken\.json/);
    expect(surfaces.status()).toHaveLength(1);
    expect(device.inputs).toHaveLength(1);
  });

  it('marks an unplugged device disconnected and brings it up to date when it returns', async () => {
    const backend = new FakeBackend();
    backend.plug('X-TOUCH MINI');
    const store = new ParameterStore();
    const surfaces = start(store, backend);
    backend.unplug('X-TOUCH MINI');
    surfaces.pollNow();
    expect(surfaces.status()[0].connected).toBe(false);
    store.set('input.trim', getSpec('input.trim').max, 'dashboard:1');
    const device = backend.plug('X-TOUCH MINI');
    surfaces.pollNow();
    expect(surfaces.status()[0].connected).toBe(true);
    // The trim ring (channel 11, CC 1) shows the change made while it was away.
    await feedbackSettles();
    expect(device.outputs.at(-1)!.wire).toEqual(expect.arrayContaining([CC, 1, 127]));
  });
});
