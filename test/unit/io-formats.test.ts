/** Format detection, dispatch, and what the rig says when ffmpeg is not there. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AudioFormat } from '../../engine/src/io/audio-stream.ts';
import { ffmpegAvailable, findFfmpeg } from '../../engine/src/io/ffmpeg.ts';
import {
  createAudioSink,
  detectFormat,
  formatOfBytes,
  openAudioSource,
} from '../../engine/src/io/formats.ts';
import { sine } from '../helpers/signals.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-formats-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const tone = (() => {
  const left = sine(4800, 48000, 440, 0.5);
  const out = new Float32Array(left.length * 2);
  for (let i = 0; i < left.length; i++) out[2 * i] = out[2 * i + 1] = left[i];
  return out;
})();

async function writeFile(file: string, format?: AudioFormat): Promise<void> {
  const sink = await createAudioSink(file, { sampleRate: 48000, format, sampleFormat: 'int16' });
  await sink.write(tone);
  await sink.close();
}

async function framesOf(file: string): Promise<number> {
  const source = await openAudioSource(file);
  let frames = 0;
  for (let block = await source.read(4096); block; block = await source.read(4096))
    frames += block.left.length;
  await source.close();
  return frames;
}

const written: Record<string, AudioFormat> = {
  'a.wav': 'wav',
  'a.aif': 'aiff',
  'a.aifc': 'aifc',
  'a.flac': 'flac',
  'a.mp3': 'mp3',
  'a.m4a': 'm4a',
  'a.aac': 'aac',
  'a.ogg': 'vorbis',
  'a.opus': 'opus',
};

beforeAll(async () => {
  for (const name of Object.keys(written)) await writeFile(path.join(dir, name));
});

describe('format detection', () => {
  it.each(Object.entries(written))('knows %s as %s by its first bytes alone', (name, format) => {
    const head = fs.readFileSync(path.join(dir, name)).subarray(0, 4096);
    expect(formatOfBytes(head)).toBe(format);
  });

  it('trusts the bytes over the name, and the name when the bytes say nothing', () => {
    fs.copyFileSync(path.join(dir, 'a.opus'), path.join(dir, 'opus-named.ogg'));
    fs.copyFileSync(path.join(dir, 'a.wav'), path.join(dir, 'wav-named.mp3'));
    expect(detectFormat(path.join(dir, 'opus-named.ogg'))).toBe('opus');
    expect(detectFormat(path.join(dir, 'wav-named.mp3'))).toBe('wav');
    fs.writeFileSync(path.join(dir, 'empty.flac'), '');
    expect(detectFormat(path.join(dir, 'empty.flac'))).toBe('flac');
    expect(detectFormat(path.join(dir, 'missing.m4a'))).toBe('m4a');
    expect(detectFormat(path.join(dir, 'unknown.xyz'))).toBe(null);
  });

  it('sees through an ID3v2 tag to the MP3 frames after it', () => {
    const tag = Buffer.alloc(10 + 300);
    tag.write('ID3', 0, 'latin1');
    tag[3] = 4;
    tag[8] = 2; // syncsafe size 2 * 128 + 44 = 300
    tag[9] = 44;
    const mp3 = fs.readFileSync(path.join(dir, 'a.mp3'));
    const start = mp3[0] === 0xff ? 0 : 10 + ((mp3[8] & 0x7f) << 7) + (mp3[9] & 0x7f);
    expect(formatOfBytes(Buffer.concat([tag, mp3.subarray(start)]))).toBe('mp3');
  });

  it('reads every written format back at its length (codecs within their frame padding)', async () => {
    for (const [name, format] of Object.entries(written)) {
      const frames = await framesOf(path.join(dir, name));
      // Lossless formats exactly; M4A keeps the AAC encoder's last partial frame (up to 1024),
      // raw ADTS also its 1024 priming samples.
      if (['wav', 'aiff', 'aifc', 'flac'].includes(format)) expect(frames, name).toBe(4800);
      else
        (expect(frames, name).toBeGreaterThanOrEqual(4800),
          expect(frames, name).toBeLessThanOrEqual(4800 + 2048));
    }
  });

  it('encodes the same samples to the same bytes (no version strings, stream serials or dates)', async () => {
    for (const name of ['a.mp3', 'a.m4a', 'a.ogg', 'a.opus', 'a.flac']) {
      const again = path.join(dir, `again-${name}`);
      await writeFile(again, written[name]);
      expect(fs.readFileSync(again).equals(fs.readFileSync(path.join(dir, name))), name).toBe(true);
    }
  });

  it('refuses outputs it cannot write, before creating anything', async () => {
    await expect(createAudioSink(path.join(dir, 'out.xyz'), { sampleRate: 48000 })).rejects.toThrow(
      /out\.xyz: cannot tell the format from its name; use \.wav/,
    );
    await expect(createAudioSink(path.join(dir, 'hi.mp3'), { sampleRate: 96000 })).rejects.toThrow(
      /MP3 stores 8\/11\.025\/12\/16\/22\.05\/24\/32\/44\.1\/48 kHz, not 96 kHz; resample the master first/,
    );
    await expect(createAudioSink(path.join(dir, 'hi.opus'), { sampleRate: 44100 })).rejects.toThrow(
      /Opus stores 8\/12\/16\/24\/48 kHz, not 44\.1 kHz/,
    );
    await expect(
      createAudioSink(path.join(dir, 'f.flac'), { sampleRate: 48000, sampleFormat: 'float32' }),
    ).rejects.toThrow(/FLAC stores 16 or 24 bit, not float32/);
    expect(fs.readdirSync(dir).filter((name) => /^(out|hi|f)\.|partial/.test(name))).toEqual([]);
  });
});

describe('without ffmpeg', () => {
  const saved = { PATH: process.env.PATH, RIG_FFMPEG: process.env.RIG_FFMPEG };
  afterEach(() => {
    process.env.PATH = saved.PATH;
    if (saved.RIG_FFMPEG === undefined) delete process.env.RIG_FFMPEG;
    else process.env.RIG_FFMPEG = saved.RIG_FFMPEG;
  });

  it('says which package to install, for reading and for writing, and leaves no partial file', async () => {
    delete process.env.RIG_FFMPEG;
    process.env.PATH = fs.mkdtempSync(path.join(dir, 'empty-path-'));
    expect(ffmpegAvailable()).toBe(false);
    await expect(openAudioSource(path.join(dir, 'a.flac'))).rejects.toThrow(
      'a.flac: reading FLAC needs ffmpeg, which is not installed (Debian/Ubuntu: apt-get install ffmpeg)',
    );
    await expect(openAudioSource(path.join(dir, 'a.mp3'))).rejects.toThrow(
      'a.mp3: reading MP3 needs ffmpeg, which is not installed (Debian/Ubuntu: apt-get install ffmpeg)',
    );
    const out = path.join(dir, 'master.mp3');
    await expect(createAudioSink(out, { sampleRate: 48000 })).rejects.toThrow(
      'master.mp3: writing MP3 needs ffmpeg, which is not installed (Debian/Ubuntu: apt-get install ffmpeg)',
    );
    await expect(createAudioSink(path.join(dir, 'master.flac'), { sampleRate: 48000 })).rejects.toThrow(
      /master\.flac: writing FLAC needs ffmpeg/,
    );
    expect(fs.readdirSync(dir).filter((name) => name.includes('master'))).toEqual([]);
  });

  it('names a RIG_FFMPEG that points at nothing, rather than falling back to PATH', async () => {
    process.env.RIG_FFMPEG = path.join(dir, 'no', 'ffmpeg');
    expect(findFfmpeg()).toBe(null);
    await expect(openAudioSource(path.join(dir, 'a.m4a'))).rejects.toThrow(
      `a.m4a: reading M4A (AAC) needs ffmpeg, which is not at RIG_FFMPEG=${process.env.RIG_FFMPEG}`,
    );
  });

  it('still reads and writes WAV and AIFF, a WAV named .mp3 included', async () => {
    process.env.RIG_FFMPEG = path.join(dir, 'no', 'ffmpeg');
    for (const name of ['plain.wav', 'plain.aif', 'plain.aifc']) {
      await writeFile(path.join(dir, name));
      expect(await framesOf(path.join(dir, name))).toBe(4800);
    }
    expect(await framesOf(path.join(dir, 'wav-named.mp3'))).toBe(4800);
  });
});
