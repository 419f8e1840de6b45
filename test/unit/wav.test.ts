import { execFileSync } from 'node:child_process';
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

describe('WAV files from hostile paths and headers', () => {
  /** An RF64 header whose ds64 chunk is `ds64Bytes` long, then fmt and a small data chunk. */
  function rf64(ds64Bytes: number): Buffer {
    const plain = plainPcm(2, 16, 48000, Buffer.alloc(400));
    const ds64 = Buffer.alloc(8 + ds64Bytes);
    ds64.write('ds64', 0, 'latin1');
    ds64.writeUInt32LE(ds64Bytes, 4);
    const out = Buffer.concat([plain.subarray(0, 12), ds64, plain.subarray(12)]);
    out.write('RF64', 0, 'latin1');
    return out;
  }

  it('names the file and the problem for a ds64 chunk too short to hold its sizes', () => {
    const file = path.join(dir, 'short-ds64.wav');
    fs.writeFileSync(file, rf64(20));
    expect(() => WavReader.open(file)).toThrow(/^short-ds64\.wav: the ds64 chunk of 20 bytes is too short/);
  });

  it('refuses a folder, a FIFO and a device as input without blocking on them', () => {
    const folder = path.join(dir, 'album.wav');
    fs.mkdirSync(folder);
    expect(() => WavReader.open(folder)).toThrow(/^album\.wav: is a folder, not a WAV file/);
    const fifo = path.join(dir, 'f.wav');
    execFileSync('mkfifo', [fifo]);
    // Opening a FIFO for reading blocks until a writer comes: this would hang, not throw.
    expect(() => WavReader.open(fifo)).toThrow(/^f\.wav: is a FIFO \(named pipe\), not a WAV file/);
    expect(() => WavReader.open('/dev/zero')).toThrow(/^zero: is a device, not a WAV file/);
  });

  it('names a fmt chunk cut off by the end of the file', () => {
    const file = path.join(dir, 'cut-fmt.wav');
    fs.writeFileSync(file, plainPcm(2, 16, 48000, Buffer.alloc(0)).subarray(0, 28));
    expect(() => WavReader.open(file)).toThrow(/^cut-fmt\.wav: truncated: the fmt chunk declares 16 bytes/);
  });

  it('refuses a block align that does not match the channels and sample width', () => {
    const bad = plainPcm(2, 16, 48000, Buffer.alloc(400));
    bad.writeUInt16LE(3, 32);
    const file = path.join(dir, 'align.wav');
    fs.writeFileSync(file, bad);
    expect(() => WavReader.open(file)).toThrow(
      /^align\.wav: block align 3 does not match 2 channels of 16-bit samples \(4 bytes a frame\)/,
    );
  });

  it('writes or replaces only regular files, and leaves no partial when it refuses', () => {
    const fifo = path.join(dir, 'out-pipe.wav');
    execFileSync('mkfifo', [fifo]);
    const folder = path.join(dir, 'out-folder.wav');
    fs.mkdirSync(folder);
    const options = { sampleRate: 48000, channels: 2, format: 'int24' } as const;
    expect(() => new WavWriter(fifo, options)).toThrow(
      /out-pipe\.wav: is a FIFO.*only regular files are written/,
    );
    expect(() => new WavWriter(folder, options)).toThrow(/out-folder\.wav: is a folder.*only regular files/);
    expect(() => new WavWriter(path.join(dir, 'nowhere', 'x.wav'), options)).toThrow(
      /nowhere.*does not exist/,
    );
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
    // Turned into a FIFO while writing: close() refuses the rename and removes the partial.
    const late = path.join(dir, 'late.wav');
    const writer = new WavWriter(late, options);
    writer.write(new Float32Array(200));
    execFileSync('mkfifo', [late]);
    expect(() => writer.close()).toThrow(/late\.wav: is a FIFO/);
    expect(fs.statSync(late).isFIFO()).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('does not write through a symlink left where its partial file goes', () => {
    const victim = path.join(dir, 'victim.txt');
    fs.writeFileSync(victim, 'keep me');
    const file = path.join(dir, 'trap.wav');
    fs.symlinkSync(victim, path.join(dir, '.trap.wav.partial'));
    const writer = new WavWriter(file, { sampleRate: 48000, channels: 2, format: 'int16' });
    writer.write(new Float32Array(200));
    writer.close();
    expect(fs.readFileSync(victim, 'utf8')).toBe('keep me');
    const reader = WavReader.open(file);
    expect(reader.info.frames).toBe(100);
    reader.close();
  });
});
