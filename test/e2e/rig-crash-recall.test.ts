/**
 * The power-cut case, end to end: `rig start` takes a stream of knob changes from the page, is
 * killed (SIGKILL, no shutdown code runs) in the middle of it, and comes back with a sound from
 * the last second before the kill and an intact database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SnapshotDatabase } from '../../engine/src/recall/snapshot-db.ts';
import { REPO_ROOT, RigSocket, ensureDashboardBuilt } from '../helpers/browser.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-crash-recall-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function startRig(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'bin/rig.ts'),
      'start',
      '--demo',
      '--output',
      'none',
      '--port',
      '0',
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, RIG_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no dashboard URL:\n${text}`)), 60_000);
    const look = (chunk: Buffer) => {
      text += chunk.toString();
      const url = /dashboard: (http:\/\/\S+)/.exec(text)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url, output: () => text });
      }
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
  });
}

describe('a rig killed mid-stream', () => {
  it('restarts with the sound of its last second and an intact database', async () => {
    ensureDashboardBuilt();
    const first = await startRig();
    const page = await RigSocket.open(first.url);
    // A knob turned steadily: every 20 ms a new trim, each value distinct.
    const sent: Array<{ at: number; value: number }> = [];
    let step = 0;
    const turning = setInterval(() => {
      const value = -20 + step++ * 0.25;
      page.send({ type: 'set', id: 'input.trim', value });
      sent.push({ at: performance.now(), value });
    }, 20);
    await new Promise((resolve) => setTimeout(resolve, 1500 + Math.random() * 500));
    first.child.kill('SIGKILL');
    const killedAt = performance.now();
    clearInterval(turning);
    await new Promise((resolve) => first.child.once('exit', resolve));
    await page.close().catch(() => {});

    const second = await startRig();
    try {
      expect(second.output()).toMatch(/recall: restored the last live state/);
      const again = await RigSocket.open(second.url);
      const restored = again.hello.values['input.trim'];
      // One of the values the page sent (never a torn or invented one), from the last second.
      const match = sent.find((s) => s.value === restored);
      expect(match, `restored ${restored}`).toBeDefined();
      expect(killedAt - match!.at).toBeLessThan(1000);
      await again.close();
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((resolve) => second.child.once('exit', resolve));
    }
    const db = new SnapshotDatabase(path.join(dataDir, 'recall.db'));
    try {
      expect(db.integrityOk()).toBe(true);
    } finally {
      db.close();
    }
  });
});
