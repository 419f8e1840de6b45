/** `rig deliver` as a user runs it: real processes, real files, real ffmpeg. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoProgram } from '../../engine/src/demo-program.ts';
import { findFfmpeg } from '../../engine/src/io/index.ts';
import { measureLoudness } from '../../engine/src/loudness.ts';
import { WavReader, WavWriter, interleave } from '../../engine/src/wav.ts';
import { launchChromium } from '../helpers/browser.ts';
import { truePeakDbtp } from '../helpers/reference-true-peak.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-deliver-'));
// Required, not optional: .ci/run installs Debian's ffmpeg, and a delivery without it is a refusal
// (tested below), so a suite that skipped itself would hide a broken machine.
const found = findFfmpeg();
if (!found) throw new Error('the deliver suite needs ffmpeg (apt-get install ffmpeg; .ci/run installs it)');
const ffmpeg: string = found;

async function rig(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'bin/rig.ts'), ...args],
      { cwd: ROOT, maxBuffer: 1 << 26, timeout: 400_000, env: { ...process.env, ...env } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Eight seconds of the demo program, scaled to `lufs` integrated. */
function writeTrack(file: string, lufs: number, seconds = 8, sampleRate = 48000): void {
  const { left, right } = DemoProgram.render(sampleRate, seconds);
  const gain = 10 ** ((lufs - (measureLoudness(left, right, sampleRate).integratedLufs as number)) / 20);
  for (let i = 0; i < left.length; i++) [left[i], right[i]] = [left[i] * gain, right[i] * gain];
  const writer = new WavWriter(file, { sampleRate, channels: 2, format: 'float32' });
  writer.write(interleave(left, right, 2));
  writer.close();
}

function readAll(file: string) {
  const reader = WavReader.open(file);
  const { left, right } = reader.read(reader.info.frames);
  reader.close();
  return { info: reader.info, left, right };
}

const partials = (folder: string) => fs.readdirSync(folder).filter((f) => f.includes('partial'));

beforeAll(() => writeTrack(path.join(dir, 'song.wav'), -18, 10));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('rig deliver', () => {
  const out = path.join(dir, 'out');
  let delivered: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    delivered = await rig([
      'deliver',
      path.join(dir, 'song.wav'),
      '-o',
      out,
      '--platforms',
      'spotify,apple,cd',
      '--json',
    ]);
  }, 400_000);

  it('writes a master per distinct target, the CD master, the listening copies and a QC report each', () => {
    expect(delivered.stderr).toBe('');
    expect(delivered.code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(
      [
        'song.-14LUFS.wav',
        'song.-14LUFS.mp3',
        'song.-14LUFS.m4a',
        'song.-14LUFS.qc.html',
        'song.-14LUFS.qc.json',
        'song.-16LUFS.wav',
        'song.-16LUFS.qc.html',
        'song.-16LUFS.qc.json',
        'song.-9LUFS.wav',
        'song.-9LUFS.cd.wav',
        'song.-9LUFS.qc.html',
        'song.-9LUFS.qc.json',
      ].sort(),
    );
  });

  it('verifies each file: masters on target under the ceiling (independent judge), copies decoded under it', () => {
    const result = JSON.parse(delivered.stdout);
    const files = result.tracks[0].files as { file: string; kind: string; verified?: string }[];
    for (const f of files.filter((f) => !f.kind.startsWith('qc'))) expect(f.verified).toBeTruthy();
    for (const [name, target, ceiling] of [
      ['song.-14LUFS.wav', -14, -1],
      ['song.-16LUFS.wav', -16, -1],
      ['song.-9LUFS.wav', -9, -0.1],
    ] as const) {
      const { info, left, right } = readAll(path.join(out, name));
      expect(info.format).toBe('int24');
      expect(info.sampleRate).toBe(48000);
      expect(Math.abs((measureLoudness(left, right, 48000).integratedLufs as number) - target)).toBeLessThan(
        0.15,
      );
      expect(Math.max(truePeakDbtp(left, 48000), truePeakDbtp(right, 48000))).toBeLessThanOrEqual(
        ceiling + 0.05,
      );
    }
    const cd = readAll(path.join(out, 'song.-9LUFS.cd.wav'));
    expect([cd.info.format, cd.info.sampleRate]).toEqual(['int16', 44100]);
  });

  it("the QC report's JSON has the codec rows, the platforms' playback gains and the series", () => {
    const qc = JSON.parse(fs.readFileSync(path.join(out, 'song.-14LUFS.qc.json'), 'utf8'));
    expect(qc.format).toBe('rig-qc-report');
    const codecs = qc.codecs.map((c: { codec: string }) => c.codec);
    expect(codecs).toEqual(expect.arrayContaining(['Vorbis 320k', 'AAC 256k', 'AAC 128k', 'MP3 320k']));
    for (const c of qc.codecs) expect(c.truePeakDbtp).toBeLessThanOrEqual(-1 + 0.005);
    // A row per platform the master is for: Spotify plays the -14 master as it is.
    const spotify = qc.platforms.find((p: { name: string }) => p.name === 'spotify');
    expect(Math.abs(spotify.gainDb)).toBeLessThan(0.2);
    const apple = JSON.parse(fs.readFileSync(path.join(out, 'song.-16LUFS.qc.json'), 'utf8')).platforms[0];
    expect([apple.name, Math.abs(apple.gainDb) < 0.2]).toEqual(['apple', true]);
    expect(qc.series.shortTermLufs.values.length).toBeGreaterThan(90);
    expect(qc.series.gainReductionDb.limiter.values.some((v: number) => v > 0)).toBe(true);
    expect(qc.spectrum.outputDb.some((v: number | null) => v !== null)).toBe(true);
    expect(fs.readFileSync(path.join(out, 'song.-14LUFS.qc.html'), 'utf8')).toContain('<svg');
  });

  it('a 96 kHz session: the master stays at 96 kHz, the MP3 copy is made at 48 kHz and verified there', async () => {
    const song = path.join(dir, 'hires.wav');
    writeTrack(song, -18, 4, 96000);
    const hires = path.join(dir, 'hires-out');
    const done = await rig(['deliver', song, '-o', hires, '--platforms', 'spotify', '--json']);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    const files = JSON.parse(done.stdout).tracks[0].files as {
      file: string;
      kind: string;
      verified: string;
    }[];
    expect(readAll(path.join(hires, 'hires.wav')).info.sampleRate).toBe(96000);
    const mp3 = files.find((f) => f.kind === 'mp3')!;
    expect(mp3.verified).toMatch(/≤ -1 dBTP, .* LUFS, at 48 kHz$/);
    const m4a = files.find((f) => f.kind === 'm4a')!;
    expect(m4a.verified).not.toMatch(/kHz/);
    const { stdout } = await run(ffmpeg.replace(/ffmpeg$/, 'ffprobe'), [
      '-v',
      'error',
      '-show_entries',
      'stream=sample_rate',
      '-of',
      'csv=p=0',
      path.join(hires, 'hires.mp3'),
    ]);
    expect(stdout.trim()).toBe('48000');
  }, 400_000);

  it('the delivered report opens in Chromium without errors', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      await page.goto(pathToFileURL(path.join(out, 'song.-14LUFS.qc.html')).href);
      expect(await page.locator('svg').count()).toBeGreaterThan(3);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('album mode: one drive for all tracks, their loudness differences kept within 0.1 LU', async () => {
    const tracks = [-20, -16, -12].map((lufs, i) => {
      const file = path.join(dir, `t${i + 1}.wav`);
      writeTrack(file, lufs);
      return file;
    });
    const albumOut = path.join(dir, 'album');
    const result = await rig([
      'deliver',
      ...tracks,
      '-o',
      albumOut,
      '--platforms',
      'apple',
      '--album',
      '--set',
      'comp.bypass=1',
      '--set',
      'character.bypass=1',
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.album).toHaveLength(1);
    expect(Math.abs(json.album[0].albumLufs - -16)).toBeLessThan(0.1);
    const lufs = [1, 2, 3].map((i) => {
      const { left, right } = readAll(path.join(albumOut, `t${i}.wav`));
      return measureLoudness(left, right, 48000).integratedLufs as number;
    });
    // Inputs 4 LU apart, the level-dependent stages before the limiter (compressor, saturation) off:
    // at the album's one drive the limiter barely touches them (-16 LUFS album).
    expect(Math.abs(lufs[1] - lufs[0] - 4)).toBeLessThan(0.1);
    // The loudest track (-12 LUFS in, about -13.5 out under -1 dBTP) is limited a few tenths:
    // the album's one drive is the same, its level a little lower.
    expect(Math.abs(lufs[2] - lufs[1] - 4)).toBeLessThan(0.5);
    const drives = json.tracks.map(
      (t: { masters: { result: { output: { limiterGainDb: number } } }[] }) =>
        t.masters[0].result.output.limiterGainDb,
    );
    for (const d of drives) expect(d).toBeCloseTo(json.album[0].driveDb, 2);
  }, 400_000);

  it('a failing encode names the file and the cause; earlier outputs stay, no partial is left', async () => {
    // An ffmpeg that refuses to write song.mp3 and is the real one for everything else.
    const wrapper = path.join(dir, 'ffmpeg-no-mp3');
    fs.writeFileSync(
      wrapper,
      `#!/bin/sh\ncase "$*" in *song.mp3*) echo "song.mp3: No space left on device" >&2; exit 1;; esac\nexec ${ffmpeg} "$@"\n`,
      { mode: 0o755 },
    );
    const failOut = path.join(dir, 'fail');
    const result = await rig(['deliver', path.join(dir, 'song.wav'), '-o', failOut, '--platforms', 'apple'], {
      RIG_FFMPEG: wrapper,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/song\.mp3.*No space left on device/);
    expect(fs.readdirSync(failOut).sort()).toEqual(['song.wav']);
    expect(partials(failOut)).toEqual([]);
  }, 400_000);

  it('a name taken by a folder is refused before any work, naming it', async () => {
    const clashOut = path.join(dir, 'clash');
    fs.mkdirSync(path.join(clashOut, 'song.m4a'), { recursive: true });
    const result = await rig(['deliver', path.join(dir, 'song.wav'), '-o', clashOut, '--platforms', 'apple']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('song.m4a');
    expect(fs.readdirSync(clashOut)).toEqual(['song.m4a']);
  });
});

describe('rig deliver without ffmpeg', () => {
  it('says which package to install before doing any work', async () => {
    const none = path.join(dir, 'none');
    const result = await rig(['deliver', path.join(dir, 'song.wav'), '-o', none, '--platforms', 'spotify'], {
      RIG_FFMPEG: '/nonexistent',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('apt-get install ffmpeg');
    expect(result.stderr).toContain('RIG_FFMPEG=/nonexistent');
    expect(fs.existsSync(none)).toBe(false);
  });
});
