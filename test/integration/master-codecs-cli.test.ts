/** `rig master` with codecs and formats as a user runs it: --codec-check, ffmpeg missing, the tables. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoProgram } from '../../engine/src/demo-program.ts';
import { WavWriter, interleave } from '../../engine/src/wav.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-master-codecs-'));
const input = path.join(dir, 'song.wav');

async function rig(env: NodeJS.ProcessEnv, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'bin/rig.ts'), ...args],
      { cwd: ROOT, maxBuffer: 1 << 24, timeout: 60_000, env: { ...process.env, ...env } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
const NO_FFMPEG = { RIG_FFMPEG: '/nonexistent' };

beforeAll(() => {
  const { left, right } = DemoProgram.render(48000, 3);
  const writer = new WavWriter(input, { sampleRate: 48000, channels: 2, format: 'int24' });
  writer.write(interleave(left, right, 2));
  writer.close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('rig master --codec-check', () => {
  it('refuses an unknown codec, a bad rate or a malformed list, before any work', async () => {
    const out = path.join(dir, 'never.wav');
    for (const [list, message] of [
      ['aac:256,wma:128', /unknown codec "wma" \(one of: aac, mp3, opus, vorbis\)/],
      ['mp3:640', /mp3 at 640 kb\/s is outside 8\.\.320 kb\/s/],
      ['opus', /"opus" is not CODEC:KBPS/],
      ['aac:256,', /an empty entry/],
    ] as const) {
      const result = await rig({}, 'master', input, '-o', out, '--codec-check', list);
      expect(result.code, list).not.toBe(0);
      expect(result.stderr, list).toMatch(message);
      expect(fs.existsSync(out)).toBe(false);
    }
  });

  it('prints the codec table and the playback table, and both in --json without region peaks', async () => {
    const out = path.join(dir, 'yt.wav');
    const args = [
      'master',
      input,
      '-o',
      out,
      '--preset',
      'youtube',
      '--codec-check',
      'aac:128',
      '--no-codec-safe',
    ];
    const text = await rig({}, ...args);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/codec check of .*yt\.wav \(ceiling -1\.0 dBTP\):/);
    expect(text.stdout).toMatch(/AAC 128k\s+[-+]\d+\.\d\d dBTP\s+\d+\s+-\d+\.\d LUFS\s+(pass|FAIL)/);
    expect(text.stdout).not.toMatch(/codec-safe:/);
    expect(text.stdout).toMatch(/playback on the platforms/);
    expect(text.stdout).toMatch(/spotify\s+-14 LUFS/);
    expect(text.stdout).toMatch(/apple\s+-16 LUFS/);
    const json = JSON.parse((await rig({}, ...args, '--json')).stdout);
    expect(json.output.codecs).toHaveLength(1);
    expect(json.output.codecs[0]).not.toHaveProperty('regionPeaksDbtp');
    expect(json.output.codecs[0]).not.toHaveProperty('regionOvers');
    expect(json.output.codecs[0]).toHaveProperty('truePeakDbtp');
    expect(json.playback.map((r: { platform: string }) => r.platform)).toContain('spotify');
  });

  it('without ffmpeg, skips the codec check with one line and masters anyway', async () => {
    const out = path.join(dir, 'skipped.wav');
    const result = await rig(NO_FFMPEG, 'master', input, '-o', out, '--preset', 'spotify');
    expect(result.code, result.stderr).toBe(0);
    const said = result.stderr.split('\n').filter((l) => l.includes('codec check skipped'));
    expect(said).toEqual(['codec check skipped: ffmpeg is not installed (apt-get install ffmpeg)']);
    expect(result.stdout).not.toMatch(/codec check of/);
    expect(fs.existsSync(out)).toBe(true);
  });

  it('without ffmpeg, refuses a FLAC master naming the package and writes nothing', async () => {
    const out = path.join(dir, 'never.flac');
    const result = await rig(NO_FFMPEG, 'master', input, '-o', out);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^rig master: never\.flac: writing FLAC needs ffmpeg.*apt-get install ffmpeg\)$/,
    );
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.partial'))).toEqual([]);
  });
});
