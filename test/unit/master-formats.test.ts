/**
 * `master` over every format the rig reads and writes: WAV, AIFF and FLAC masters, lossy and
 * lossless inputs through the ffmpeg bridge, FLAC refused up front without ffmpeg, and a
 * codec-safe master whose decodes all land under the ceiling.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCodecs } from '../../engine/src/delivery/codec-check.ts';
import { DemoProgram } from '../../engine/src/demo-program.ts';
import { createAudioSink, openAudioSource } from '../../engine/src/io/formats.ts';
import { measureLoudness } from '../../engine/src/loudness.ts';
import { master, type MasterOptions } from '../../engine/src/master.ts';
import { interleave } from '../../engine/src/wav.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-master-formats-'));
const input = path.join(dir, 'song.wav');
const SR = 48000;
const SECONDS = 3;

async function writeFile(file: string, left: Float32Array, right: Float32Array, bitrateKbps?: number) {
  const sink = await createAudioSink(file, { sampleRate: SR, sampleFormat: 'int24', bitrateKbps });
  await sink.write(interleave(left, right, 2));
  await sink.close();
}

async function readAll(file: string) {
  const source = await openAudioSource(file);
  try {
    const parts: Float32Array[][] = [];
    for (let block; (block = await source.read(1 << 16));)
      parts.push([block.left.slice(), block.right.slice()]);
    const join = (c: 0 | 1) => {
      const out = new Float32Array(parts.reduce((n, p) => n + p[c].length, 0));
      let at = 0;
      for (const p of parts) (out.set(p[c], at), (at += p[c].length));
      return out;
    };
    return { info: source.info, left: join(0), right: join(1) };
  } finally {
    await source.close();
  }
}

const options = (output: string, more: Partial<MasterOptions> = {}): MasterOptions => ({
  input,
  output,
  targetLufs: -14,
  ceilingDbtp: -1,
  values: {},
  format: 'int24',
  ...more,
});

const partials = () => fs.readdirSync(dir).filter((f) => f.includes('.partial'));

beforeAll(async () => {
  const { left, right } = DemoProgram.render(SR, SECONDS);
  await writeFile(input, left, right);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('master writes the format its output is named for', () => {
  it.each([
    ['master.wav', 'int24', 'wav', 24],
    ['master.aif', 'int16', 'aiff', 16],
    ['master.aiff', 'float32', 'aifc', 32],
    ['master.flac', 'int24', 'flac', 24],
    ['master.flac', 'int16', 'flac', 16],
  ] as const)(
    '%s at %s reads back as %s, on target and as long as the input',
    async (name, format, stored, bits) => {
      const output = path.join(dir, name);
      const result = await master(options(output, { format }));
      const back = await readAll(output);
      expect(back.info.format).toBe(stored);
      expect(back.info.bits).toBe(bits);
      expect(back.info.sampleRate).toBe(SR);
      expect(back.left.length).toBe(SR * SECONDS);
      // The file holds what was measured: dither moves loudness by far less than the search's 0.3 LU.
      const measured = measureLoudness(back.left, back.right, SR);
      expect(measured.integratedLufs!).toBeCloseTo(result.output.report.integratedLufs!, 1);
      expect(Math.abs(measured.integratedLufs! + 14)).toBeLessThan(0.3);
      expect(partials()).toEqual([]);
    },
  );

  it('refuses a lossy output name and a float FLAC before any work', async () => {
    let progressed = false;
    const onProgress = () => void (progressed = true);
    await expect(master(options(path.join(dir, 'master.mp3'), { onProgress }))).rejects.toThrow(
      /master\.mp3: MP3 is a lossy codec, not a master; write the master as \.wav, \.aif, \.aiff or \.flac/,
    );
    await expect(
      master(options(path.join(dir, 'float.flac'), { format: 'float32', onProgress })),
    ).rejects.toThrow(/FLAC stores 16 or 24 bit, not float32/);
    expect(progressed).toBe(false);
  });
});

describe('master reads what the rig reads', () => {
  it.each([
    ['song.mp3', 320],
    ['song.flac', undefined],
  ] as const)('masters a %s input to the target, as long as its decode', async (name, kbps) => {
    const { left, right } = DemoProgram.render(SR, SECONDS);
    const file = path.join(dir, name);
    await writeFile(file, left, right, kbps);
    const decoded = await readAll(file);
    const output = path.join(dir, `${name}.master.wav`);
    const totals = new Set<number>();
    const result = await master({
      ...options(output),
      input: file,
      cd: true,
      onProgress: (label, _done, total) => label.startsWith('pass') && totals.add(total),
    });
    // An MP3 states no frame count: the analysis counted it, and the passes' progress uses that.
    expect([...totals]).toEqual([decoded.left.length]);
    expect(result.input.frames).toBe(decoded.left.length);
    const back = await readAll(output);
    expect(back.left.length).toBe(decoded.left.length);
    expect(Math.abs(result.output.report.integratedLufs! + 14)).toBeLessThan(0.3);
    // The CD master is exactly as long at 44.1 kHz.
    const cd = await readAll(path.join(dir, `${name}.master.cd.wav`));
    expect(cd.left.length).toBe(Math.round((decoded.left.length * 44100) / SR));
  });
});

describe('without ffmpeg', () => {
  const saved = process.env.RIG_FFMPEG;
  afterAll(() => {
    if (saved === undefined) delete process.env.RIG_FFMPEG;
    else process.env.RIG_FFMPEG = saved;
  });

  it('refuses a FLAC master before rendering, naming the package; WAV and AIFF still work', async () => {
    process.env.RIG_FFMPEG = '/nonexistent';
    const output = path.join(dir, 'no-ffmpeg.flac');
    let progressed = false;
    await expect(master(options(output, { onProgress: () => void (progressed = true) }))).rejects.toThrow(
      /no-ffmpeg\.flac: writing FLAC needs ffmpeg.*apt-get install ffmpeg/,
    );
    expect(progressed).toBe(false);
    expect(fs.existsSync(output)).toBe(false);
    expect(partials()).toEqual([]);
    const aiff = path.join(dir, 'no-ffmpeg.aiff');
    await master(options(aiff));
    expect(fs.existsSync(aiff)).toBe(true);
    process.env.RIG_FFMPEG = saved ?? '';
    if (saved === undefined) delete process.env.RIG_FFMPEG;
  });
});

describe('codec-safe', () => {
  it('Decoded true peak under the ceiling for each codec on a generated dense program', async () => {
    // Dense: the demo program mastered to -9 LUFS is limited hard, where codecs overshoot most.
    const dense = path.join(dir, 'dense.wav');
    const { left, right } = DemoProgram.render(SR, 8, 7);
    await writeFile(dense, left, right);
    const output = path.join(dir, 'dense-master.wav');
    const codecs = [
      { codec: 'aac', kbps: 128 },
      { codec: 'opus', kbps: 96 },
    ] as const;
    const result = await master({
      ...options(output, { targetLufs: -9, codecs, codecSafe: true }),
      input: dense,
    });
    const out = result.output;
    expect(out.codecs?.map((c) => `${c.codec}/${c.kbps}`)).toEqual(['aac/128', 'opus/96']);
    // 0.005 dB: the judge's own rounding; the check is the same 8x judge that made the cuts.
    for (const c of out.codecs!) expect(c.truePeakDbtp, `${c.codec}`).toBeLessThanOrEqual(-1 + 0.005);
    expect(out.codecSafety?.safe).toBe(true);
    // The drive search won the loudness back: the search's tolerance, after the cuts.
    expect(Math.abs(out.report.integratedLufs! + 9)).toBeLessThan(0.3);
    expect(out.codecSafety!.lufsAfter).toBe(out.report.integratedLufs);
    // Checked again, whole, apart from the master's own check (which may have judged lowered
    // regions alone): the file as written decodes under the ceiling through both codecs.
    for (const c of await checkCodecs(output, codecs, -1))
      expect(c.truePeakDbtp, `${c.codec} whole`).toBeLessThanOrEqual(-1 + 0.005);
  }, 90_000);
});
