import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WavReader, WavWriter, type SampleFormat } from '../../engine/src/wav.ts';
import { sine } from '../helpers/signals.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-wav-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeStereo(
  file: string,
  format: SampleFormat,
  left: Float32Array,
  right: Float32Array,
  sampleRate = 48000,
): void {
  const writer = new WavWriter(file, { sampleRate, channels: 2, format });
  const interleaved = new Float32Array(left.length * 2);
  for (let i = 0; i < left.length; i++) [interleaved[2 * i], interleaved[2 * i + 1]] = [left[i], right[i]];
  writer.write(interleaved);
  writer.close();
}

/** A plain (non-extensible) PCM header, as most tools write it. */
function plainPcm(channels: number, bits: number, sampleRate: number, data: Buffer): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE((sampleRate * channels * bits) / 8, 28);
  h.writeUInt16LE((channels * bits) / 8, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

describe('WAV files', () => {
  it.each(['int16', 'int24', 'int32', 'float32'] as const)(
    'round-trips %s within its quantisation step',
    (format) => {
      const left = sine(4800, 48000, 997, 0.8);
      const right = sine(4800, 48000, 1999, -0.5);
      const file = path.join(dir, `rt-${format}.wav`);
      writeStereo(file, format, left, right);
      const reader = WavReader.open(file);
      expect(reader.info).toMatchObject({ sampleRate: 48000, channels: 2, format, frames: 4800 });
      const { left: l, right: r } = reader.read(10_000);
      reader.close();
      const step = format === 'int16' ? 2 ** -15 : format === 'int24' ? 2 ** -23 : 1e-7;
      for (let i = 0; i < 4800; i++) {
        expect(Math.abs(l[i] - left[i])).toBeLessThanOrEqual(step);
        expect(Math.abs(r[i] - right[i])).toBeLessThanOrEqual(step);
      }
    },
  );

  it('reads mono as dual mono', () => {
    const data = Buffer.alloc(200);
    for (let i = 0; i < 100; i++) data.writeInt16LE(i * 100 - 5000, i * 2);
    const file = path.join(dir, 'mono.wav');
    fs.writeFileSync(file, plainPcm(1, 16, 44100, data));
    const reader = WavReader.open(file);
    const { left, right } = reader.read(100);
    reader.close();
    expect(reader.info.channels).toBe(1);
    expect(Array.from(left)).toEqual(Array.from(right));
    expect(left[0]).toBeCloseTo(-5000 / 32768, 9);
  });

  it('names the problem with truncated, foreign and multichannel files', () => {
    const good = plainPcm(2, 16, 48000, Buffer.alloc(4000));
    const truncated = path.join(dir, 'truncated.wav');
    fs.writeFileSync(truncated, good.subarray(0, 1000));
    expect(() => WavReader.open(truncated)).toThrow(
      /truncated.wav: truncated: the data chunk declares 4000 bytes but the file holds only 956/,
    );

    const text = path.join(dir, 'notes.wav');
    fs.writeFileSync(text, 'these are not audio samples');
    expect(() => WavReader.open(text)).toThrow(/not a WAV file/);

    const surround = path.join(dir, 'surround.wav');
    fs.writeFileSync(surround, plainPcm(6, 16, 48000, Buffer.alloc(1200)));
    expect(() => WavReader.open(surround)).toThrow(/has 6 channels; the rig masters mono or stereo only/);

    expect(() => WavReader.open(path.join(dir, 'missing.wav'))).toThrow(/cannot open: ENOENT/);
  });

  it('never leaves a half-written file under the real name', () => {
    const file = path.join(dir, 'aborted.wav');
    const writer = new WavWriter(file, { sampleRate: 48000, channels: 2, format: 'int24' });
    writer.write(new Float32Array(1000));
    expect(fs.existsSync(file)).toBe(false);
    writer.abort();
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(writer.partialPath)).toBe(false);
  });

  it('keeps a playable header while writing when asked to refresh it', () => {
    const file = path.join(dir, 'live.wav');
    const writer = new WavWriter(file, {
      sampleRate: 48000,
      channels: 2,
      format: 'float32',
      headerRefreshFrames: 480,
    });
    writer.write(new Float32Array(2 * 1000));
    // A crash now: the partial file already declares the frames written so far.
    const reader = WavReader.open(writer.partialPath);
    expect(reader.info.frames).toBe(1000);
    reader.close();
    writer.close();
  });

  it('promotes to RF64 with a ds64 chunk past 4 GiB and reads it back', () => {
    // A sparse file: the writer seeks past 4 GiB without the disk holding it.
    const file = path.join(dir, 'huge.wav');
    const writer = new WavWriter(file, { sampleRate: 48000, channels: 2, format: 'float32' });
    const frames = 2 ** 29 + 1000; // 8 bytes a frame: just over 4 GiB of data
    (writer as unknown as { dataBytes: number }).dataBytes = (frames - 1000) * 8;
    writer.write(new Float32Array(2000).fill(0.25));
    writer.close();
    const head = Buffer.alloc(48);
    const fd = fs.openSync(file, 'r');
    fs.readSync(fd, head, 0, 48, 0);
    fs.closeSync(fd);
    expect(head.toString('latin1', 0, 4)).toBe('RF64');
    expect(head.toString('latin1', 12, 16)).toBe('ds64');
    const reader = WavReader.open(file);
    expect(reader.info.frames).toBe(frames);
    reader.close();
    fs.rmSync(file);
  });
});
