/** A rig killed at any moment restarts with a consistent state and an intact database. */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CHILD = path.join(ROOT, 'test/helpers/recall-child.ts');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-crash-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

function runChild(mode: 'stream' | 'report'): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import', 'tsx', CHILD, mode], {
    env: { ...process.env, RIG_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

describe('recall crash recovery', () => {
  it('comes back from SIGKILL mid-stream with a state at most 1 s old and never torn', async () => {
    for (let round = 0; round < 3; round++) {
      const child = runChild('stream');
      const lines: string[] = [];
      let buffered = '';
      child.stdout!.on('data', (d: Buffer) => {
        buffered += d.toString();
        const parts = buffered.split('\n');
        buffered = parts.pop()!;
        lines.push(...parts);
      });
      // Let it stream long enough to have autosaved several times, then kill it without warning.
      await new Promise((r) => setTimeout(r, 1200 + round * 337));
      const killedAt = Date.now();
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const stream = lines
        .slice(1)
        .map((l) => l.split(' '))
        .map(([t, v]) => ({ t: Number(t), trim: Number(v) }));
      expect(stream.length).toBeGreaterThan(50);

      const report = execFileSync(process.execPath, ['--import', 'tsx', CHILD, 'report'], {
        env: { ...process.env, RIG_DATA_DIR: dataDir },
      }).toString();
      const { restored, integrity } = JSON.parse(report.split('\n')[0]);
      expect(integrity).toBe(true);
      // Consistent: both parameters come from the same step.
      expect(restored['output.trim']).toBeCloseTo(-Math.abs(restored['input.trim']) / 2, 9);
      // Recent: the restored step was set within the last second before the kill.
      const matches = stream.filter((s) => Math.abs(s.trim - restored['input.trim']) < 1e-6);
      expect(matches.length).toBeGreaterThan(0);
      expect(killedAt - Math.max(...matches.map((m) => m.t))).toBeLessThan(1000);
    }
  });
});
