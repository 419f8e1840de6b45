import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AiffReader, AiffWriter, type AiffWriterOptions } from '../../engine/src/io/aiff.ts';
import { readExtended, writeExtended } from '../../engine/src/io/aiff.ts';
import { openAudioSource } from '../../engine/src/io/formats.ts';
import { sine } from '../helpers/signals.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-aiff-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function interleaved(left: Float32Array, right: Float32Array): Float32Array {
  const out = new Float32Array(left.length * 2);
  for (let i = 0; i < left.length; i++) [out[2 * i], out[2 * i + 1]] = [left[i], right[i]];
  return out;
}

function write(file: string, options: AiffWriterOptions, samples: Float32Array | Int32Array): void {
  const writer = new AiffWriter(file, options);
  writer.write(samples);
  writer.close();
}

/** One IFF chunk, padded to an even length: written by hand, independent of the writer. */
function chunk(id: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body, Buffer.alloc(body.length % 2)]);
}

function form(type: string, ...chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), ...chunks]);
  const head = Buffer.alloc(8);
  head.write('FORM', 0, 'latin1');
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

function comm(channels: number, frames: number, bits: number, rate: number, compression?: string): Buffer {
  const body = Buffer.alloc(compression ? 24 : 18);
  body.writeInt16BE(channels, 0);
  body.writeUInt32BE(frames, 2);
  body.writeInt16BE(bits, 6);
  writeExtended(rate, body, 8);
  if (compression) body.write(compression, 18, 'latin1'); // then an empty Pascal name and its pad
  return chunk('COMM', body);
}

function ssnd(samples: Buffer): Buffer {
  return chunk('SSND', Buffer.concat([Buffer.alloc(8), samples]));
}

function readAll(file: string): { left: Float32Array; right: Float32Array; reader: AiffReader } {
  const reader = AiffReader.open(file);
  const { left, right } = reader.read(1 << 20);
  reader.close();
  return { left, right, reader };
}

describe('80-bit extended sample rates', () => {
  it('writes 44.1 kHz as the bytes every AIFF holds (400E AC44 0000 0000 0000)', () => {
    const buf = Buffer.alloc(10);
    writeExtended(44100, buf, 0);
    expect(buf.toString('hex')).toBe('400eac44000000000000');
  });

  it.each([8000, 11025, 22050, 44100, 48000, 88200, 96000, 176400, 192000, 384000])(
    'round-trips %i Hz exactly',
    (rate) => {
      const buf = Buffer.alloc(10);
      writeExtended(rate, buf, 0);
      expect(readExtended(buf, 0)).toBe(rate);
    },
  );
});

describe('AIFF files', () => {
  const left = sine(4801, 48000, 997, 0.8);
  const right = sine(4801, 48000, 1999, -0.5);

  it.each([
    ['int16', false],
    ['int24', false],
    ['int32', false],
    ['int16', true],
    ['int24', true],
  ] as const)('round-trips %s (AIFF-C: %s) within its quantisation step', (format, aifc) => {
    const file = path.join(dir, `rt-${format}${aifc ? '.aifc' : '.aif'}`);
    write(file, { sampleRate: 48000, channels: 2, format, aifc }, interleaved(left, right));
    const { left: l, right: r, reader } = readAll(file);
    const bits = format === 'int16' ? 16 : format === 'int24' ? 24 : 32;
    expect(reader.info).toMatchObject({ sampleRate: 48000, channels: 2, bits, frames: 4801 });
    expect(reader.info.compression).toBe(aifc ? 'NONE' : null);
    // Rounding to the nearest step: at most half a step off (plus float32's own rounding at 32 bits).
    const step = format === 'int32' ? 1e-7 : 2 ** -(bits - 1) / 2;
    for (let i = 0; i < left.length; i++) {
      expect(Math.abs(l[i] - left[i])).toBeLessThanOrEqual(step);
      expect(Math.abs(r[i] - right[i])).toBeLessThanOrEqual(step);
    }
  });

  it('stores dithered integers exactly as given', () => {
    const ints = Int32Array.from({ length: 2000 }, (_, i) => ((i * 7919) % 16777216) - 8388608);
    const file = path.join(dir, 'ints.aif');
    write(file, { sampleRate: 44100, channels: 2, format: 'int24' }, ints);
    const { left, right } = readAll(file);
    for (let i = 0; i < 1000; i++) {
      expect(left[i] * 8388608).toBe(ints[2 * i]);
      expect(right[i] * 8388608).toBe(ints[2 * i + 1]);
    }
  });

  it('round-trips float as AIFF-C fl32 bit for bit, and refuses float in plain AIFF', () => {
    const file = path.join(dir, 'float.aifc');
    const samples = interleaved(left, right);
    samples[0] = 1.75; // float keeps overs
    write(file, { sampleRate: 96000, channels: 2, format: 'float32', aifc: true }, samples);
    const { left: l, right: r, reader } = readAll(file);
    expect(reader.info).toMatchObject({ compression: 'fl32', bits: 32, sampleRate: 96000 });
    expect(Array.from(l)).toEqual(Array.from(samples.filter((_, i) => i % 2 === 0)));
    expect(Array.from(r)).toEqual(Array.from(samples.filter((_, i) => i % 2 === 1)));
    expect(
      () =>
        new AiffWriter(path.join(dir, 'float.aif'), { sampleRate: 48000, channels: 2, format: 'float32' }),
    ).toThrow(/plain AIFF stores integers only; write AIFF-C/);
  });

  it('pads an odd-sized sound chunk (mono 24-bit, odd frames) and reads it back as dual mono', () => {
    const file = path.join(dir, 'mono24.aif');
    const mono = sine(101, 44100, 440, 0.5);
    write(file, { sampleRate: 44100, channels: 1, format: 'int24' }, mono);
    const bytes = fs.readFileSync(file);
    // 303 bytes of samples: the chunk size stays odd, the pad byte follows, the FORM counts it.
    expect(bytes.length % 2).toBe(0);
    expect(bytes.readUInt32BE(4)).toBe(bytes.length - 8);
    const { left: l, right: r, reader } = readAll(file);
    expect(reader.info.channels).toBe(1);
    expect(Array.from(l)).toEqual(Array.from(r));
    expect(Math.abs(l[50] - mono[50])).toBeLessThanOrEqual(2 ** -24);
  });

  // ffmpeg here is the judge, not the code under test: its AIFF demuxer is independent of ours.
  it('is read by ffmpeg as the same samples (an independent decoder)', () => {
    const file = path.join(dir, 'for-ffmpeg.aif');
    const samples = interleaved(left, right);
    write(file, { sampleRate: 48000, channels: 2, format: 'int24' }, samples);
    const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 's32le', '-'], {
      maxBuffer: 1 << 24,
    });
    const decoded = new Int32Array(raw.buffer, raw.byteOffset, raw.length / 4);
    expect(decoded.length).toBe(samples.length);
    for (let i = 0; i < samples.length; i++)
      expect(decoded[i] >> 8).toBe(
        Math.max(-8388608, Math.min(8388607, Math.round(samples[i] * 8388608))) | 0,
      );
  });

  it('reads hand-made AIFF-C in every uncompressed type: NONE, sowt, fl32, FL32, and skips odd chunks', () => {
    const values = [0.5, -0.25, 0.125, -1];
    const be16 = Buffer.alloc(8);
    const le16 = Buffer.alloc(8);
    const f32 = Buffer.alloc(16);
    values.forEach((v, i) => {
      be16.writeInt16BE(v * 32768, i * 2);
      le16.writeInt16LE(v * 32768, i * 2);
      f32.writeFloatBE(v, i * 4);
    });
    // An odd-sized chunk (5 bytes + pad) before COMM, which a reader must step over by size + 1.
    const name = chunk('NAME', Buffer.from('odd!!'));
    const cases: Array<[string, number, Buffer]> = [
      ['NONE', 16, be16],
      ['sowt', 16, le16],
      ['fl32', 32, f32],
      ['FL32', 32, f32],
    ];
    for (const [type, bits, samples] of cases) {
      const file = path.join(dir, `hand-${type}.aifc`);
      fs.writeFileSync(file, form('AIFC', name, comm(2, 2, bits, 48000, type), ssnd(samples)));
      const { left: l, right: r, reader } = readAll(file);
      expect(reader.info).toMatchObject({ compression: type, frames: 2, sampleRate: 48000 });
      expect([l[0], r[0], l[1], r[1]]).toEqual(values);
    }
  });

  it('reads the sound chunk before the common chunk (the order IFF allows)', () => {
    const samples = Buffer.alloc(4);
    samples.writeInt16BE(16384, 0);
    samples.writeInt16BE(-16384, 2);
    const file = path.join(dir, 'ssnd-first.aif');
    fs.writeFileSync(file, form('AIFF', ssnd(samples), comm(2, 1, 16, 44100)));
    const { left, right } = readAll(file);
    expect([left[0], right[0]]).toEqual([0.5, -0.5]);
  });

  it('names the file and the problem in malformed files', () => {
    const good16 = Buffer.alloc(40);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['tiny.aif', Buffer.from('FORM'), /^tiny\.aif: not an AIFF file \(only 4 bytes\)/],
      [
        'riff.aif',
        Buffer.from('RIFF\0\0\0\0WAVEfmt '),
        /^riff\.aif: not an AIFF file \(no FORM AIFF or AIFC header\)/,
      ],
      ['nocomm.aif', form('AIFF', ssnd(good16)), /^nocomm\.aif: no COMM chunk/],
      [
        'nossnd.aif',
        form('AIFF', comm(2, 10, 16, 44100)),
        /^nossnd\.aif: no SSND chunk \(COMM declares 10 frames\)/,
      ],
      [
        'short.aif',
        form('AIFF', comm(2, 100, 16, 44100), ssnd(good16)),
        /^short\.aif: truncated: COMM declares 100 frames \(400 bytes\) but the SSND chunk holds only 40 bytes/,
      ],
      [
        'shortcomm.aif',
        form('AIFF', chunk('COMM', Buffer.alloc(10))),
        /^shortcomm\.aif: the COMM chunk of 10 bytes is too short/,
      ],
      [
        'ima4.aifc',
        form('AIFC', comm(2, 1, 16, 44100, 'ima4'), ssnd(good16)),
        /^ima4\.aifc: AIFF-C compression 'ima4' is not supported.*convert it to WAV or AIFF/,
      ],
      [
        'six.aif',
        form('AIFF', comm(6, 1, 16, 44100), ssnd(good16)),
        /^six\.aif: has 6 channels; the rig masters mono or stereo only/,
      ],
      [
        'rate.aif',
        form('AIFF', comm(2, 1, 16, 1000), ssnd(good16)),
        /^rate\.aif: unsupported sample rate 1000 Hz/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, bytes);
      expect(() => AiffReader.open(file), name).toThrow(message);
    }
    expect(() => AiffReader.open(dir)).toThrow(/is a folder, not an AIFF file/);
  });

  it('writes under a hidden partial name, moves it on close and leaves nothing on abort', () => {
    const file = path.join(dir, 'partial.aif');
    const writer = new AiffWriter(file, { sampleRate: 48000, channels: 2, format: 'int16' });
    writer.write(new Float32Array(200));
    expect(fs.existsSync(writer.partialPath)).toBe(true);
    expect(path.basename(writer.partialPath)).toBe('.partial.aif.partial');
    expect(fs.existsSync(file)).toBe(false);
    writer.close();
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.existsSync(writer.partialPath)).toBe(false);

    const aborted = path.join(dir, 'aborted.aif');
    const second = new AiffWriter(aborted, { sampleRate: 48000, channels: 2, format: 'int16' });
    second.write(new Float32Array(200));
    second.abort();
    expect(fs.existsSync(aborted)).toBe(false);
    expect(fs.existsSync(second.partialPath)).toBe(false);
  });

  it('opens through openAudioSource as AIFF or AIFF-C by its bytes, whatever its name', async () => {
    const file = path.join(dir, 'named-wrong.wav');
    write(file, { sampleRate: 44100, channels: 2, format: 'int16', aifc: true }, interleaved(left, right));
    const source = await openAudioSource(file);
    expect(source.info).toMatchObject({
      format: 'aifc',
      sampleRate: 44100,
      channels: 2,
      frames: 4801,
      bits: 16,
      codec: 'int16',
    });
    let frames = 0;
    for (let block = await source.read(1000); block; block = await source.read(1000))
      frames += block.left.length;
    await source.close();
    expect(frames).toBe(4801);
  });
});
