/**
 * `rig analyze` (and the analysis `rig master` starts from) over files no recorder should write:
 * NaN and infinities in float WAVs, floats far past full scale, no frames at all. The reports
 * say what the file holds and measure what the live chain would play.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WavWriter, interleave } from '../../engine/src/wav.ts';
import { sine } from '../helpers/signals.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-analyze-hostile-'));
const SR = 48000;

async function rig(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'bin/rig.ts'), ...args],
      { cwd: ROOT, maxBuffer: 1 << 24 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function writeFloatWav(name: string, left: Float32Array, right: Float32Array): string {
  const file = path.join(dir, name);
  const writer = new WavWriter(file, { sampleRate: SR, channels: 2, format: 'float32' });
  writer.write(interleave(left, right, 2));
  writer.close();
  return file;
}

/** A canonical 44-byte header over an empty data chunk: a valid WAV of 0 frames. */
function writeEmptyWav(name: string): string {
  const file = path.join(dir, name);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(2, 22);
  h.writeUInt32LE(SR, 24);
  h.writeUInt32LE(SR * 6, 28);
  h.writeUInt16LE(6, 32);
  h.writeUInt16LE(24, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(0, 40);
  fs.writeFileSync(file, h);
  return file;
}

const tone = (seconds: number, dbfs: number) => sine(seconds * SR, SR, 997, 10 ** (dbfs / 20));
const MEASURES = [
  'integratedLufs',
  'momentaryMaxLufs',
  'shortTermMaxLufs',
  'lra',
  'truePeakDbtp',
  'samplePeakDbfs',
  'plr',
];

let infinity: string, holed: string, huge: string, allNaN: string, empty: string;

beforeAll(() => {
  const clean = tone(4, -6);
  const spiked = clean.slice();
  spiked[SR] = Infinity;
  infinity = writeFloatWav('infinity.wav', spiked, clean);
  const withNaN = tone(6, -20);
  for (let i = 999; i < withNaN.length; i += 1000) withNaN[i] = NaN;
  holed = writeFloatWav('nan-every-1000.wav', withNaN, withNaN);
  const big = sine(4 * SR, SR, 997, 1e38);
  huge = writeFloatWav('huge.wav', big, big);
  const nan = new Float32Array(2 * SR).fill(NaN);
  allNaN = writeFloatWav('all-nan.wav', nan, nan);
  empty = writeEmptyWav('empty.wav');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('rig analyze on hostile samples', () => {
  it('reads true and sample peak around one +Infinity sample and reports it', async () => {
    const json = await rig('analyze', infinity, '--json');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.truePeakDbtp).toBeCloseTo(-6, 0);
    expect(report.samplePeakDbfs).toBeCloseTo(-6, 1);
    expect(report.nonFiniteSamples).toBe(1);
    expect(report.frames).toBe(4 * SR);
    const text = await rig('analyze', infinity);
    expect(text.stdout).toMatch(/True peak\s+-6\.\d\s+dBTP/);
    expect(text.stdout).toMatch(
      /non-finite samples: 1 \(measured as silence, as the live chain plays them\)/,
    );
  });

  it('keeps integrated loudness defined with a NaN every 1000 samples', async () => {
    const report = JSON.parse((await rig('analyze', holed, '--json')).stdout);
    // A -20 dBFS 997 Hz sine in both channels reads -20 LUFS (BS.1770's reference); the holes
    // cost 0.004 LU.
    expect(Math.abs(report.integratedLufs + 20)).toBeLessThan(0.1);
    expect(report.nonFiniteSamples).toBe(2 * Math.floor((6 * SR) / 1000));
  });

  it('masters a file with a NaN every 1000 samples rather than calling it silent', async () => {
    const out = path.join(dir, 'holed-master.wav');
    const result = await rig('master', holed, '-o', out, '--target', '-14', '--json');
    expect(result.stderr).not.toMatch(/silent/);
    expect(result.code).toBe(0);
    const master = JSON.parse(result.stdout);
    expect(master.input.nonFiniteSamples).toBe(2 * Math.floor((6 * SR) / 1000));
    expect(Math.abs(master.output.report.integratedLufs + 14)).toBeLessThan(0.5);
  });

  it('measures floats near 1e38 clamped at +30 dBFS, as the live chain does', async () => {
    const report = JSON.parse((await rig('analyze', huge, '--json')).stdout);
    // Clamped, the tone is a +30 dBFS near-square wave; K-weighting and the channel sum add at
    // most 7 dB to that, far from the 748 LUFS of the raw floats.
    expect(report.momentaryMaxLufs).toBeLessThan(37);
    expect(report.samplePeakDbfs).toBeCloseTo(30, 0);
    expect(report.clampedSamples).toBeGreaterThan(4 * SR);
    const text = await rig('analyze', huge);
    expect(text.stdout).toMatch(/beyond \+30 dBFS/);
  });

  it('says a file non-finite throughout is so', async () => {
    const report = JSON.parse((await rig('analyze', allNaN, '--json')).stdout);
    for (const key of MEASURES) expect(report[key], key).toBeNull();
    expect(report.nonFiniteSamples).toBe(4 * SR);
    const text = await rig('analyze', allNaN);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/non-finite throughout/);
  });
});

describe('rig analyze on an empty file', () => {
  it('reports every measure undefined and 0 frames', async () => {
    const json = await rig('analyze', empty, '--json');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    for (const key of MEASURES) expect(report[key], key).toBeNull();
    expect(report.frames).toBe(0);
    const text = await rig('analyze', empty);
    expect(text.stdout).not.toMatch(/\b0\.0\b/);
    expect(text.stdout).toMatch(/empty: no audio frames/);
  });
});
