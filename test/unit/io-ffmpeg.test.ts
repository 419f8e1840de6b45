/** The ffmpeg bridge: lossless FLAC through the pipes, and every way ffmpeg can fail on a file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ffmpegUrl, meaningfulLine, runFfmpeg } from '../../engine/src/io/ffmpeg.ts';
import { createAudioSink, openAudioSource } from '../../engine/src/io/formats.ts';
import type { SinkOptions } from '../../engine/src/io/formats.ts';
import { seededRandom, sine, whiteNoise } from '../helpers/signals.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-ffmpeg-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const savedFfmpeg = process.env.RIG_FFMPEG;
afterEach(() => {
  if (savedFfmpeg === undefined) delete process.env.RIG_FFMPEG;
  else process.env.RIG_FFMPEG = savedFfmpeg;
});

function stereo(frames: number, sampleRate: number): Float32Array {
  const left = sine(frames, sampleRate, 997, 0.7);
  const right = whiteNoise(frames, 0.5, 7);
  const out = new Float32Array(frames * 2);
  for (let i = 0; i < frames; i++) [out[2 * i], out[2 * i + 1]] = [left[i], right[i]];
  return out;
}

async function encode(file: string, options: SinkOptions, samples: Float32Array | Int32Array, block = 8192) {
  const sink = await createAudioSink(file, options);
  try {
    const channels = options.channels ?? 2;
    for (let at = 0; at < samples.length; at += block * channels)
      await sink.write(samples.subarray(at, at + block * channels));
    await sink.close();
  } catch (error) {
    await sink.abort();
    throw error;
  }
  return sink;
}

async function decode(file: string, block = 5000): Promise<{ left: number[]; right: number[] }> {
  const source = await openAudioSource(file);
  const left: number[] = [];
  const right: number[] = [];
  try {
    for (let b = await source.read(block); b; b = await source.read(block))
      (left.push(...b.left), right.push(...b.right));
  } finally {
    await source.close();
  }
  return { left, right };
}

/** A stand-in ffmpeg whose misbehaviour the test chooses (FAKE_FFMPEG), for failures real ffmpeg will not stage. */
function fakeFfmpeg(): string {
  const file = path.join(dir, 'fake-ffmpeg');
  fs.writeFileSync(
    file,
    `#!/bin/sh
case "$FAKE_FFMPEG" in
  die-reading) head -c 200000 >/dev/null; echo "[libfake @ 0x55d0c0ffee00] Disk quota exceeded" >&2; exit 1 ;;
  slow-reader) sleep 1; cat >/dev/null; exit 1 ;;
  die-decoding) head -c 8000 /dev/zero; echo "[mp3float @ 0x55d0c0ffee00] Header missing" >&2; exit 1 ;;
esac
`,
    { mode: 0o755 },
  );
  return file;
}

describe('FLAC through ffmpeg', () => {
  it.each(['int16', 'int24'] as const)(
    'round-trips %s exactly, dithered integers and floats alike',
    async (format) => {
      const scale = format === 'int16' ? 32768 : 8388608;
      const floats = stereo(30_000, 48000);
      // Ready integers, as the native dither hands them to a writer, full scale included.
      const ints = Int32Array.from(floats, (v, i) =>
        i === 0 ? scale - 1 : i === 1 ? -scale : Math.round(v * scale),
      );
      const intFile = path.join(dir, `ints-${format}.flac`);
      await encode(intFile, { sampleRate: 48000, sampleFormat: format }, ints);
      const source = await openAudioSource(intFile);
      expect(source.info).toMatchObject({
        format: 'flac',
        sampleRate: 48000,
        channels: 2,
        frames: 30_000,
        bits: format === 'int16' ? 16 : 24,
      });
      await source.close();
      const fromInts = await decode(intFile);
      // Compared as whole arrays of integers: one assertion, exact.
      const even = <T extends ArrayLike<number>>(x: T, odd = 0) =>
        Array.from({ length: x.length / 2 }, (_, i) => x[2 * i + odd]);
      expect(fromInts.left.map((v) => v * scale)).toEqual(even(ints));
      expect(fromInts.right.map((v) => v * scale)).toEqual(even(ints, 1));
      // Floats are rounded to the grid as WavWriter rounds them (overs clamp), then stored exactly.
      floats[2] = 1.5;
      const floatFile = path.join(dir, `floats-${format}.flac`);
      await encode(floatFile, { sampleRate: 44100, sampleFormat: format }, floats);
      const fromFloats = await decode(floatFile);
      const grid = (v: number) => Math.max(-scale, Math.min(scale - 1, Math.round(v * scale))) | 0;
      expect(fromFloats.left.map((v) => v * scale)).toEqual(even(floats).map(grid));
      expect(fromFloats.right.map((v) => v * scale)).toEqual(even(floats, 1).map(grid));
    },
  );

  it('reads mono FLAC as dual mono and a name ffmpeg would take for a protocol ("take:2")', async () => {
    const mono = sine(9000, 44100, 440, 0.5);
    const file = path.join(dir, 'take:2.flac');
    await encode(file, { sampleRate: 44100, channels: 1, sampleFormat: 'int24' }, mono);
    const { left, right } = await decode(file, 4096);
    expect(left.length).toBe(9000);
    expect(left).toEqual(right);
    expect(Math.abs(left[100] - mono[100])).toBeLessThanOrEqual(2 ** -24);
  });

  it('is complete and readable under its partial name after finish(), and appears only on commit()', async () => {
    const file = path.join(dir, 'pending.flac');
    const sink = await createAudioSink(file, { sampleRate: 48000, sampleFormat: 'int16' });
    await sink.write(stereo(4000, 48000));
    await sink.finish();
    expect(fs.existsSync(file)).toBe(false);
    expect((await decode(sink.partialPath)).left.length).toBe(4000);
    await sink.commit();
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.existsSync(sink.partialPath)).toBe(false);
  });

  it('abort() stops ffmpeg and leaves neither the partial nor the target', async () => {
    const file = path.join(dir, 'aborted.flac');
    const sink = await createAudioSink(file, { sampleRate: 48000 });
    await sink.write(stereo(48000, 48000));
    expect(fs.existsSync(sink.partialPath)).toBe(true);
    await sink.abort();
    expect(fs.existsSync(sink.partialPath)).toBe(false);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('a reader closed before the end stops its ffmpeg', async () => {
    const file = path.join(dir, 'long.flac');
    await encode(file, { sampleRate: 48000, sampleFormat: 'int16' }, stereo(480_000, 48000), 48000);
    const source = await openAudioSource(file);
    expect((await source.read(1000))?.left.length).toBe(1000);
    const started = performance.now();
    await source.close();
    // Decoding the rest would take far longer than stopping.
    expect(performance.now() - started).toBeLessThan(1000);
    await expect(source.read(10)).rejects.toThrow(/read after close/);
  });
});

describe('ffmpeg failing on a file', () => {
  it('names a file of garbage with a compressed name, and what ffmpeg said', async () => {
    const random = seededRandom(3);
    const file = path.join(dir, 'junk.mp3');
    fs.writeFileSync(file, Buffer.from(Array.from({ length: 20_000 }, () => Math.floor(random() * 256))));
    await expect(openAudioSource(file)).rejects.toThrow(/^junk\.mp3: ffmpeg could not read it: \S/);
  });

  it('names a truncated M4A with ffmpeg\'s "Invalid data found when processing input"', async () => {
    const whole = path.join(dir, 'whole.m4a');
    await encode(whole, { sampleRate: 48000 }, stereo(48000, 48000));
    const cut = path.join(dir, 'cut.m4a');
    // The MP4 index (moov) is written last: without it nothing can be decoded.
    fs.writeFileSync(cut, fs.readFileSync(whole).subarray(0, 4000));
    await expect(openAudioSource(cut)).rejects.toThrow(
      'cut.m4a: ffmpeg could not read it: Invalid data found when processing input',
    );
  });

  it('refuses an MP3 damaged in the middle when the decode reaches the damage', async () => {
    const whole = path.join(dir, 'whole.mp3');
    await encode(whole, { sampleRate: 48000, bitrateKbps: 128 }, stereo(96_000, 48000));
    const bytes = fs.readFileSync(whole);
    const random = seededRandom(5);
    for (let i = 10_000; i < 15_000; i++) bytes[i] = Math.floor(random() * 256);
    const damaged = path.join(dir, 'damaged.mp3');
    fs.writeFileSync(damaged, bytes);
    await expect(decode(damaged)).rejects.toThrow(/^damaged\.mp3: ffmpeg could not decode it/);
  });

  it('an encoder that refuses its settings leaves nothing behind, and an existing target as it was', async () => {
    const file = path.join(dir, 'refused.ogg');
    fs.writeFileSync(file, 'the previous master');
    // libvorbis has no 5000 kb/s mode: ffmpeg stops at encoder setup.
    await expect(
      encode(file, { sampleRate: 48000, bitrateKbps: 5000 }, stereo(48000, 48000)),
    ).rejects.toThrow('refused.ogg: ffmpeg could not encode it: encoder setup failed');
    expect(fs.readFileSync(file, 'utf8')).toBe('the previous master');
    expect(fs.readdirSync(dir).filter((name) => name.includes('refused'))).toEqual(['refused.ogg']);
  });

  it('an encoder dying mid-stream fails the write with its message and leaves no partial file', async () => {
    process.env.RIG_FFMPEG = fakeFfmpeg();
    process.env.FAKE_FFMPEG = 'die-reading';
    const file = path.join(dir, 'quota.flac');
    await expect(encode(file, { sampleRate: 48000 }, stereo(96_000, 48000))).rejects.toThrow(
      'quota.flac: ffmpeg could not encode it: Disk quota exceeded',
    );
    expect(fs.readdirSync(dir).filter((name) => name.includes('quota'))).toEqual([]);
  });

  it('a decoder dying mid-stream fails the read with its message', async () => {
    const file = path.join(dir, 'dies.flac');
    await encode(file, { sampleRate: 48000 }, stereo(48000, 48000));
    process.env.RIG_FFMPEG = fakeFfmpeg();
    process.env.FAKE_FFMPEG = 'die-decoding';
    await expect(decode(file)).rejects.toThrow('dies.flac: ffmpeg could not decode it: Header missing');
  });

  it('a writer waits while ffmpeg is not reading (backpressure), rather than buffering the file', async () => {
    process.env.RIG_FFMPEG = fakeFfmpeg();
    process.env.FAKE_FFMPEG = 'slow-reader';
    const sink = await createAudioSink(path.join(dir, 'slow.flac'), { sampleRate: 48000 });
    const started = performance.now();
    // 4 MB: far more than a pipe and a stream buffer hold, so write() must wait for the reader.
    await sink.write(new Float32Array(1 << 20));
    expect(performance.now() - started).toBeGreaterThan(800);
    await sink.abort();
  });
});

describe('whole-file jobs', () => {
  it('runs one (a filter, as the benchmark peers do) and names the file when ffmpeg fails it', async () => {
    const input = path.join(dir, 'peer-in.wav');
    const output = path.join(dir, 'peer-out.wav');
    await encode(input, { sampleRate: 48000, sampleFormat: 'float32' }, stereo(4800, 48000));
    const url = ffmpegUrl(input);
    await runFfmpeg(input, 'filtering', [
      '-i',
      url,
      '-af',
      'volume=0.5',
      '-c:a',
      'pcm_f32le',
      '-y',
      ffmpegUrl(output),
    ]);
    const [before, after] = [await decode(input), await decode(output)];
    expect(after.left[100]).toBeCloseTo(before.left[100] / 2, 6);
    await expect(
      runFfmpeg(input, 'filtering', ['-i', url, '-af', 'nosuchfilter', '-f', 'null', '-']),
    ).rejects.toThrow(/^peer-in\.wav: ffmpeg failed at filtering it: .*nosuchfilter/);
  });
});

describe('the message taken from ffmpeg', () => {
  it('is the last specific line, without component prefixes, the path, or the summing-up', () => {
    const file = '/music/song.ogg';
    const stderr = [
      '[libvorbis @ 0x56501bd8c640] encoder setup failed',
      'Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0',
      'Conversion failed!',
      '',
    ].join('\n');
    expect(meaningfulLine(stderr, file)).toBe('encoder setup failed');
    expect(meaningfulLine('file:/music/song.ogg: Invalid data found when processing input\n', file)).toBe(
      'Invalid data found when processing input',
    );
    expect(meaningfulLine('Conversion failed!\n', file)).toBe('Conversion failed!');
    expect(meaningfulLine('', file)).toBe(null);
  });
});
