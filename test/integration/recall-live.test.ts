/**
 * Recall in the running rig's composition: the page and a controller button recall at the same
 * moment; the sound ends up wholly one of the two (never a mix), and the page, the hardware and
 * the store agree on it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SurfaceManager } from '../../controller/src/surfaces.ts';
import type { ServerMessage } from '../../dashboard/protocol.ts';
import { startRigDashboard, type DashboardServer } from '../../dashboard/server/index.ts';
import { ParameterStore } from '../../engine/src/parameter-store.ts';
import { getSpec, positionToValue, valueToPosition } from '../../engine/src/params.ts';
import { RecallManager } from '../../engine/src/recall/recall.ts';
import { SnapshotDatabase } from '../../engine/src/recall/snapshot-db.ts';
import { FakeBackend } from '../helpers/fake-midi.ts';

// nanoKONTROL2 (factory CC mode, mappings/korg-nanokontrol2.json): "Track >" (CC 59) recalls slot B;
// fader 1 (CC 0) turns input.trim and has no motor.
const CC = 0xb0;
const TRACK_NEXT = 59;

let dir: string;
let db: SnapshotDatabase;
let recall: RecallManager;
let surfaces: SurfaceManager;
let dashboard: DashboardServer;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-recall-live-'));
  db = new SnapshotDatabase(path.join(dir, 'recall.db'));
});
afterEach(async () => {
  await dashboard?.close();
  await surfaces?.close();
  recall?.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Two complete, different sounds: every parameter at a distinct awkward position. */
function sound(seed: number): Record<string, number> {
  const ids = [
    'input.trim',
    'eq.bell2.gain',
    'comp.threshold',
    'comp.ratio',
    'image.width',
    'character.drive',
    'limiter.gain',
    'limiter.ceiling',
  ];
  return Object.fromEntries(
    ids.map((id, i) => [id, positionToValue(getSpec(id), ((seed * 0.37 + i * 0.23) % 1) * 0.9 + 0.05)]),
  );
}

function waitFor<T>(
  socket: WebSocket,
  pick: (message: ServerMessage) => T | undefined,
  timeoutMs = 3000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for a server message')), timeoutMs);
    socket.on('message', (data, binary) => {
      if (binary) return;
      const found = pick(JSON.parse(data.toString()) as ServerMessage);
      if (found !== undefined) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
}

describe('recall in the running rig', () => {
  it('takes two simultaneous recalls (page and controller) whole, and every view agrees', async () => {
    const store = new ParameterStore();
    recall = new RecallManager(store, db, { autosaveMs: 50 });
    const backend = new FakeBackend();
    const device = backend.plug('nanoKONTROL2 1 SLIDER/KNOB');
    surfaces = new SurfaceManager({
      store,
      midiBackend: backend,
      midiPollMs: 60_000,
      userMappingDir: path.join(dir, 'mappings'),
      actions: { selectSlot: (slot) => recall.selectSlot(slot), toggleAB: () => void recall.toggleAB() },
    });
    surfaces.start();
    surfaces.pollNow();
    const engine = {
      readMeters: (into: Float32Array) => into.fill(NaN),
      sampleRate: 48000,
      block: 512,
      latencySamples: 0,
      ioLatencySamples: 512,
    };
    dashboard = await startRigDashboard({
      engine,
      store,
      device: 'test',
      port: 0,
      recall: { manager: recall, snapshotNames: () => db.listSnapshots().map((s) => s.name) },
      surfaces: () => surfaces.status(),
    });

    // Slot B holds one sound; a named snapshot holds another; we sit on slot A with a third.
    const slotB = sound(1);
    const named = sound(2);
    store.setMany(slotB, 'cli');
    recall.selectSlot('B');
    recall.selectSlot('A');
    store.setMany(named, 'cli');
    recall.save('named');
    store.setMany(sound(3), 'cli');

    const page = new WebSocket(`ws://127.0.0.1:${dashboard.port}/ws`, {
      origin: `http://127.0.0.1:${dashboard.port}`,
    });
    const seen = new Map<string, number>();
    page.on('message', (data, binary) => {
      if (binary) return;
      const message = JSON.parse(data.toString()) as ServerMessage;
      if (message.type === 'hello')
        for (const [id, value] of Object.entries(message.values)) seen.set(id, value);
      if (message.type === 'params') for (const change of message.changes) seen.set(change.id, change.value);
    });
    await new Promise((resolve) => page.once('open', resolve));

    // Both at once: the page's recall is in flight while the button is pressed.
    page.send(JSON.stringify({ type: 'recall', name: 'named' }));
    device.inputs.at(-1)!.deliver([CC, TRACK_NEXT, 127]);
    device.inputs.at(-1)!.deliver([CC, TRACK_NEXT, 0]);
    await new Promise((resolve) => setTimeout(resolve, 400));

    const final = store.snapshot();
    const matches = (values: Record<string, number>) =>
      Object.entries(values).every(([id, value]) => Math.abs(final[id] - value) < 1e-9);
    expect(matches(slotB) || matches(named)).toBe(true);
    // The page shows exactly the store's values.
    for (const id of Object.keys(slotB)) expect(seen.get(id)).toBe(final[id]);
    // The hardware: fader 1 (input.trim, no motor) must not yank the recalled trim where it stands...
    const fader = (value: number) => device.inputs.at(-1)!.deliver([CC, 0, value]);
    const away = valueToPosition(getSpec('input.trim'), final['input.trim']) > 0.5 ? 0 : 127;
    fader(away);
    expect(store.get('input.trim')).toBe(final['input.trim']);
    // ...and takes over once moved through the value (pickup).
    for (let v = away; away === 0 ? v <= 127 : v >= 0; v += away === 0 ? 4 : -4) fader(v);
    expect(store.get('input.trim')).toBe(
      positionToValue(getSpec('input.trim'), away === 0 ? 124 / 127 : 3 / 127),
    );
    // The autosave holds the same whole sound.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(db.readLiveState()!.values).toEqual(store.snapshot());
    page.close();
  });
});
