/**
 * A signal through a delivery codec and back, lined up with the original: what the codec check
 * and the codec preview compare against the master. Encoded and decoded through the ffmpeg
 * bridge at the codec's own rate (the native resampler converts when the codec cannot store the
 * signal's rate: Opus is 48 kHz only), then returned at the original rate and length.
 *
 * The codec's delay is measured, not assumed: containers that record the encoder's priming
 * (MP3's LAME tag, M4A's edit list, Ogg Opus's pre-skip) have ffmpeg trim it, raw ADTS AAC keeps
 * its 1024 samples; cross-correlation finds whatever is left and the result is shifted by it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fft } from '../analysis/fft.ts';

import { interleave } from '../wav.ts';
import type { AudioSource } from './audio-stream.ts';
import { StreamResampler } from './stream-resampler.ts';
import { codedRate, createAudioSink, LOSSY_CODECS, openAudioSource, type LossyFormat } from './formats.ts';

export interface CodecStream {
  /** How late the decoded audio came out, in frames at the source's rate. */
  delayFrames: number;
  /** Normalised cross-correlation of the aligned decode with the source (mono sums) over the loudest window, 1 = identical. */
  correlation: number;
  /** The encoded file's size. */
  encodedBytes: number;
  /** The rate the codec coded at. */
  codedSampleRate: number;
  /** Frames the decode handed out (at the source's rate), before the delay is removed. */
  decodedFrames: number;
}

export interface CodecRoundTrip extends Omit<CodecStream, 'decodedFrames'> {
  left: Float32Array;
  right: Float32Array;
}

const BLOCK = 8192;
// Codec delays run to a few thousand samples (AAC 1024 + 1024 look-ahead, LAME 576 + 529);
// 8192 covers them with room and keeps a wrong peak far away.
const MAX_DELAY_FRAMES = 8192;
// The delay is found on the loudest stretch of this length (0.7 s at 48 kHz): enough to lock on,
// and a quiet intro cannot hide the codec's delay in its noise.
const DELAY_WINDOW_FRAMES = 1 << 15;

/**
 * Streams `source` through `codec` at `bitrateKbps` and back, never holding the whole signal:
 * the encoded file waits on disk, `onDecoded` receives the decode in order at the source's rate,
 * not yet aligned (the delay, known only once the loudest stretch has been decoded, is returned).
 */
export async function streamCodecRoundTrip(
  source: AudioSource,
  codec: LossyFormat,
  bitrateKbps: number,
  onDecoded: (left: Float32Array, right: Float32Array) => void,
): Promise<CodecStream> {
  const sampleRate = source.info.sampleRate;
  const { extension } = LOSSY_CODECS[codec];
  const codedSampleRate = codedRate(codec, sampleRate);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-codec-'));
  try {
    const file = path.join(dir, `round-trip${extension}`);
    const loudest = new LoudestWindow(DELAY_WINDOW_FRAMES);
    const sink = await createAudioSink(file, { format: codec, sampleRate: codedSampleRate, bitrateKbps });
    try {
      const toCodec =
        codedSampleRate !== sampleRate ? new StreamResampler(sampleRate, codedSampleRate) : null;
      for (let block = await source.read(BLOCK); block; block = await source.read(BLOCK)) {
        loudest.push(block.left, block.right);
        const interleaved = interleave(block.left, block.right, 2);
        await sink.write(toCodec ? toCodec.push(interleaved) : interleaved);
      }
      if (toCodec) await sink.write(toCodec.end());
      await sink.close();
    } catch (error) {
      await sink.abort();
      throw error;
    }
    const encodedBytes = fs.statSync(file).size;
    const window = loudest.result();
    const lead = Math.min(window.start, MAX_DELAY_FRAMES);
    const captured = new WindowCapture(window.start - lead, window.mono.length + lead + MAX_DELAY_FRAMES);
    const decoded = await openAudioSource(file);
    let decodedFrames = 0;
    try {
      const back =
        decoded.info.sampleRate !== sampleRate
          ? new StreamResampler(decoded.info.sampleRate, sampleRate)
          : null;
      const hand = (interleaved: Float32Array) => {
        const frames = interleaved.length / 2;
        const left = new Float32Array(frames);
        const right = new Float32Array(frames);
        for (let i = 0; i < frames; i++) {
          left[i] = interleaved[2 * i];
          right[i] = interleaved[2 * i + 1];
        }
        captured.push(decodedFrames, left, right);
        decodedFrames += frames;
        onDecoded(left, right);
      };
      for (let block = await decoded.read(BLOCK); block; block = await decoded.read(BLOCK)) {
        if (!back) {
          captured.push(decodedFrames, block.left, block.right);
          decodedFrames += block.left.length;
          onDecoded(block.left, block.right);
        } else hand(back.push(interleave(block.left, block.right, 2)));
      }
      if (back) hand(back.end());
    } finally {
      await decoded.close();
    }
    // decoded[start - lead + i + k] matches window[i] at k = delay + lead.
    const found = findDelay(window.mono, captured.mono, lead + MAX_DELAY_FRAMES);
    return {
      delayFrames: found.delayFrames - lead,
      correlation: found.correlation,
      encodedBytes,
      codedSampleRate,
      decodedFrames,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Encodes stereo float with `codec` at `bitrateKbps` and decodes it back to float at `sampleRate`,
 * aligned with the input and as long as it (in memory: for short signals and the tests).
 */
export async function codecRoundTrip(
  left: Float32Array,
  right: Float32Array,
  sampleRate: number,
  codec: LossyFormat,
  bitrateKbps: number,
): Promise<CodecRoundTrip> {
  const parts: { left: Float32Array; right: Float32Array }[] = [];
  const stream = await streamCodecRoundTrip(
    arraySource(left, right, sampleRate),
    codec,
    bitrateKbps,
    (l, r) => parts.push({ left: l.slice(), right: r.slice() }),
  );
  const decodedLeft = concat(parts.map((p) => p.left));
  const decodedRight = concat(parts.map((p) => p.right));
  const { delayFrames } = stream;
  const frames = left.length;
  const shift = (x: Float32Array) => {
    const out = new Float32Array(frames);
    for (let i = Math.max(0, -delayFrames); i < frames && i + delayFrames < x.length; i++)
      out[i] = x[i + delayFrames];
    return out;
  };
  return {
    left: shift(decodedLeft),
    right: shift(decodedRight),
    delayFrames,
    correlation: stream.correlation,
    encodedBytes: stream.encodedBytes,
    codedSampleRate: stream.codedSampleRate,
  };
}

/** Arrays in memory as an AudioSource. */
function arraySource(left: Float32Array, right: Float32Array, sampleRate: number): AudioSource {
  let position = 0;
  return {
    file: '(memory)',
    info: {
      format: 'wav',
      sampleRate,
      channels: 2,
      frames: left.length,
      durationSeconds: left.length / sampleRate,
      codec: 'float32',
    },
    get position() {
      return position;
    },
    async read(frames) {
      if (position >= left.length) return null;
      const end = Math.min(left.length, position + frames);
      const block = { left: left.subarray(position, end), right: right.subarray(position, end) };
      position = end;
      return block;
    },
    async close() {},
  };
}

/** The mono sum of the loudest of the consecutive windows of `frames` (the whole signal if shorter). */
class LoudestWindow {
  private current: Float32Array;
  private best: Float32Array;
  private filled = 0;
  private at = 0;
  private bestStart = 0;
  private bestEnergy = -1;
  private energy = 0;

  constructor(private readonly frames: number) {
    this.current = new Float32Array(frames);
    this.best = new Float32Array(frames);
  }

  push(left: Float32Array, right: Float32Array): void {
    for (let i = 0; i < left.length; i++) {
      const m = left[i] + right[i];
      this.current[this.filled++] = m;
      this.energy += m * m;
      if (this.filled === this.frames) this.close();
    }
  }

  result(): { start: number; mono: Float32Array } {
    // A signal shorter than one window: all of it.
    if (this.bestEnergy < 0) return { start: 0, mono: this.current.slice(0, this.filled) };
    return { start: this.bestStart, mono: this.best };
  }

  private close(): void {
    if (this.energy > this.bestEnergy) {
      [this.best, this.current] = [this.current, this.best];
      this.bestEnergy = this.energy;
      this.bestStart = this.at;
    }
    this.at += this.frames;
    this.filled = 0;
    this.energy = 0;
  }
}

/** The mono sum of frames [start, start + length) of a stream that passes by in blocks. */
class WindowCapture {
  readonly mono: Float32Array;

  constructor(
    private readonly start: number,
    length: number,
  ) {
    this.mono = new Float32Array(length);
  }

  push(position: number, left: Float32Array, right: Float32Array): void {
    const from = Math.max(position, this.start);
    const to = Math.min(position + left.length, this.start + this.mono.length);
    for (let i = from; i < to; i++) this.mono[i - this.start] = left[i - position] + right[i - position];
  }
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * How many frames `signal` lags `reference` (negative: it leads), within +-maxLagFrames: the peak
 * of their cross-correlation (by FFT), and the normalised correlation of the overlap at that lag.
 */
export function findDelay(
  reference: Float32Array,
  signal: Float32Array,
  maxLagFrames: number,
): { delayFrames: number; correlation: number } {
  const a = reference.subarray(0, Math.min(reference.length, DELAY_WINDOW_FRAMES));
  const b = signal.subarray(0, Math.min(signal.length, a.length + maxLagFrames));
  let n = 1;
  while (n < a.length + b.length) n *= 2;
  const [ar, ai] = [new Float64Array(n), new Float64Array(n)];
  const [br, bi] = [new Float64Array(n), new Float64Array(n)];
  ar.set(a);
  br.set(b);
  fft(ar, ai, false);
  fft(br, bi, false);
  // conj(A) * B: its inverse at k is sum_i a[i] * b[i + k], lag k (negative lags wrap to n + k).
  for (let k = 0; k < n; k++) {
    const re = ar[k] * br[k] + ai[k] * bi[k];
    const im = ar[k] * bi[k] - ai[k] * br[k];
    ar[k] = re;
    ai[k] = im;
  }
  fft(ar, ai, true);
  let delayFrames = 0;
  for (let lag = -maxLagFrames; lag <= maxLagFrames; lag++)
    if (ar[(lag + n) % n] > ar[(delayFrames + n) % n]) delayFrames = lag;
  return { delayFrames, correlation: correlationAt(reference, signal, delayFrames) };
}

/** sum(x*y) / sqrt(sum x^2 * sum y^2) over the overlap of reference[i] and signal[i + lag]. */
function correlationAt(reference: Float32Array, signal: Float32Array, lag: number): number {
  let [xy, xx, yy] = [0, 0, 0];
  for (let i = Math.max(0, -lag); i < reference.length && i + lag < signal.length; i++) {
    const [x, y] = [reference[i], signal[i + lag]];
    xy += x * y;
    xx += x * x;
    yy += y * y;
  }
  return xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
}
