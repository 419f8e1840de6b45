/**
 * The README's promise, end to end: damage to the recall database costs recall, never the audio.
 * `rig start --demo` over a database with noise after its first page, and over one whose live
 * state is bad JSON: the rig starts and plays, the terminal and the page say what is damaged and
 * name the file, and the damaged file is kept. The page's snapshot menu also says when autosave
 * fails (a read-only database, served by the rig's own dashboard in this process).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRigDashboard } from '../../dashboard/server/index.ts';
import { ParameterStore } from '../../engine/src/parameter-store.ts';
import { LiveRecall } from '../../engine/src/recall/live-recall.ts';
import { SnapshotDatabase } from '../../engine/src/recall/snapshot-db.ts';
import { REPO_ROOT, RigSocket, ensureDashboardBuilt, launchChromium, startRig } from '../helpers/browser.ts';

const dirs: string[] = [];
let browser: Browser;
beforeAll(async () => {
  ensureDashboardBuilt();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A data folder whose recall.db holds 30 snapshots and a live state with the input trim at -7.5 dB. */
function dataDirWithSnapshots(): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-recall-damage-e2e-'));
  dirs.push(dir);
  const file = path.join(dir, 'recall.db');
  const db = new SnapshotDatabase(file);
  for (let i = 0; i < 30; i++) {
    db.saveSnapshot({
      name: `take ${i}`,
      notes: 'n'.repeat(400),
      createdAt: new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString(),
      values: { 'input.trim': -i / 2 },
      targetPreset: null,
      mappings: [],
    });
  }
  db.writeLiveState({ 'input.trim': -7.5 }, null);
  db.close();
  return { dir, file };
}

const RIG_ARGS = ['--demo', '--output', 'none', '--port', '0', '--no-serial-scan'];

/** The rig plays: meter frames arrive and the engine runs the demo. */
async function expectPlaying(socket: RigSocket): Promise<void> {
  await socket.waitFor(() => (socket.status.engine.state === 'demo' ? true : undefined), 'the demo running');
  const frame = await socket.waitFor(() => socket.latestFrame ?? undefined, 'a meter frame');
  expect(frame.some((value) => Number.isFinite(value))).toBe(true);
}

describe('rig start over a damaged recall database', () => {
  test('plays, names the damage, keeps the file aside and shows it in the snapshot menu', async () => {
    const { dir, file } = dataDirWithSnapshots();
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r+');
    // Noise after the first page: SQLite's header reads fine, the tables do not.
    fs.writeSync(
      fd,
      Buffer.from(Array.from({ length: size - 4096 }, (_, i) => (i * 7919 + 13) & 0xff)),
      0,
      size - 4096,
      4096,
    );
    fs.closeSync(fd);
    const damaged = fs.readFileSync(file);

    const rig = await startRig(RIG_ARGS, dir);
    try {
      const socket = await RigSocket.open(rig.url);
      await expectPlaying(socket);
      expect(rig.output()).toMatch(
        new RegExp(`recall: ${file} is damaged .*set aside as ${file}\\.damaged-`),
      );
      expect(socket.status.recall?.problems.join('\n')).toContain(`${file} is damaged`);
      await socket.close();

      const page = await browser.newPage();
      try {
        await page.goto(rig.url);
        await page.getByTestId('snapshots-toggle').click();
        await expect
          .poll(() => page.getByTestId('recall-problem').first().textContent())
          .toContain(`${file} is damaged`);
        await page.screenshot({ path: `${REPO_ROOT}test-artifacts/dashboard-recall-damage.png` });
      } finally {
        await page.close();
      }
    } finally {
      await rig.stop();
    }
    expect(rig.output()).toMatch(/health: /);
    const aside = fs
      .readdirSync(dir)
      .find((name) => name.startsWith('recall.db.damaged-') && !/-(wal|shm)$/.test(name))!;
    expect(aside, fs.readdirSync(dir).join(', ')).toBeDefined();
    expect(fs.readFileSync(path.join(dir, aside)).equals(damaged)).toBe(true);
    // The fresh database the rig went on with is whole.
    const fresh = new SnapshotDatabase(file);
    expect(fresh.integrityOk()).toBe(true);
    fresh.close();
  });

  test('with bad JSON in the live state starts from the defaults, names the file and keeps it', async () => {
    const { dir, file } = dataDirWithSnapshots();
    const raw = new Database(file);
    raw.prepare("UPDATE live_state SET values_json = '{bad'").run();
    raw.close();

    const rig = await startRig(RIG_ARGS, dir);
    try {
      const socket = await RigSocket.open(rig.url);
      await expectPlaying(socket);
      expect(socket.hello.values['input.trim']).toBe(0);
      expect(socket.status.snapshots).toHaveLength(30);
      expect(rig.output()).toMatch(new RegExp(`recall: ${file}: the live state is damaged .*not restored`));
      await socket.close();
    } finally {
      await rig.stop();
    }
    expect(fs.readdirSync(dir).filter((name) => name.includes('damaged'))).toEqual([]);
  });
});

describe('the snapshot menu', () => {
  test('says when autosave fails', async () => {
    const { file } = dataDirWithSnapshots();
    const store = new ParameterStore();
    const log: string[] = [];
    const recall = new LiveRecall(
      store,
      { db: new SnapshotDatabase(file, { readonly: true }), problems: [] },
      { log: (line) => log.push(line), autosaveMs: 10 },
    );
    const dashboard = await startRigDashboard({
      engine: {
        readMeters: (into: Float32Array) => into.fill(NaN),
        sampleRate: 48000,
        block: 512,
        latencySamples: 0,
        ioLatencySamples: 512,
      },
      store,
      device: 'test',
      port: 0,
      recall: { manager: recall.manager!, snapshotNames: () => recall.snapshotNames() },
      recallStatus: () => recall.status(),
    });
    const page = await browser.newPage();
    try {
      await page.goto(dashboard.url);
      await expect.poll(() => page.getByTestId('snapshots-toggle').textContent()).toMatch(/30/);
      expect(await page.getByTestId('autosave-error').count()).toBe(0);
      store.set('input.trim', -4, 'dashboard:1');
      // Without opening the menu: the toggle itself warns.
      await expect.poll(() => page.getByTestId('snapshots-toggle').getAttribute('class')).toMatch(/alarm/);
      await page.getByTestId('snapshots-toggle').click();
      await expect
        .poll(() => page.getByTestId('autosave-error').textContent())
        .toMatch(/autosave to .*recall\.db failed \(attempt to write a readonly database\)/);
      await page.screenshot({ path: `${REPO_ROOT}test-artifacts/dashboard-autosave-failed.png` });
      expect(log.join('\n')).toMatch(/autosave to .*recall\.db failed/);
    } finally {
      await page.close();
      await dashboard.close();
      recall.close();
    }
  });
});
