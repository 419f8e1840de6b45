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
import { addon } from '../native.ts';
import { interleave } from '../wav.ts';
import { createAudioSink, LOSSY_CODECS, openAudioSource, type LossyFormat } from './formats.ts';

export interface CodecRoundTrip {
  left: Float32Array;
  right: Float32Array;
  /** How late the decoded audio came out, in frames at the original rate (removed from left/right). */
  delayFrames: number;
  /** Normalised cross-correlation of the aligned decode with the original (mono sums), 1 = identical. */
  correlation: number;
  /** The encoded file's size. */
  encodedBytes: number;
  /** The rate the codec coded at. */
  codedSampleRate: number;
}

const BLOCK = 8192;
// Codec delays run to a few thousand samples (AAC 1024 + 1024 look-ahead, LAME 576 + 529);
// 8192 covers them with room and keeps a wrong peak far away.
const MAX_DELAY_FRAMES = 8192;

/**
 * Encodes stereo float with `codec` at `bitrateKbps` and decodes it back to float at `sampleRate`,
 * aligned with the input and as long as it.
 */
export async function codecRoundTrip(
  left: Float32Array,
  right: Float32Array,
  sampleRate: number,
  codec: LossyFormat,
  bitrateKbps: number,
): Promise<CodecRoundTrip> {
  const { rates, extension } = LOSSY_CODECS[codec];
  const codedSampleRate =
    !rates || rates.includes(sampleRate) ? sampleRate : rates.includes(48000) ? 48000 : Math.max(...rates);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-codec-'));
  try {
    const file = path.join(dir, `round-trip${extension}`);
    let input = interleave(left, right, 2);
    if (codedSampleRate !== sampleRate) input = resample(input, sampleRate, codedSampleRate);
    const sink = await createAudioSink(file, { format: codec, sampleRate: codedSampleRate, bitrateKbps });
    try {
      for (let at = 0; at < input.length; at += BLOCK * 2)
        await sink.write(input.subarray(at, at + BLOCK * 2));
      await sink.close();
    } catch (error) {
      await sink.abort();
      throw error;
    }
    const encodedBytes = fs.statSync(file).size;
    const decoded = await readInterleaved(file);
    if (decoded.sampleRate !== sampleRate)
      decoded.samples = resample(decoded.samples, decoded.sampleRate, sampleRate);
    const frames = left.length;
    const decodedLeft = new Float32Array(decoded.samples.length / 2);
    const decodedRight = new Float32Array(decodedLeft.length);
    for (let i = 0; i < decodedLeft.length; i++) {
      decodedLeft[i] = decoded.samples[2 * i];
      decodedRight[i] = decoded.samples[2 * i + 1];
    }
    const { delayFrames, correlation } = findDelay(
      monoSum(left, right),
      monoSum(decodedLeft, decodedRight),
      MAX_DELAY_FRAMES,
    );
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
      correlation,
      encodedBytes,
      codedSampleRate,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function readInterleaved(file: string): Promise<{ samples: Float32Array; sampleRate: number }> {
  const source = await openAudioSource(file);
  try {
    const blocks: Float32Array[] = [];
    for (let block = await source.read(BLOCK); block; block = await source.read(BLOCK))
      blocks.push(interleave(block.left, block.right, 2));
    return { samples: concat(blocks), sampleRate: source.info.sampleRate };
  } finally {
    await source.close();
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

/** Interleaved stereo through the native resampler, its latency removed, as long as the input lasts. */
function resample(interleaved: Float32Array, from: number, to: number): Float32Array {
  const resampler = new addon.NativeResampler(from, to, 2);
  // As master.ts's CD render: the latency in input frames, trimmed in output frames.
  const latency = Math.round((resampler.latencyInputFrames() * to) / from);
  const parts: Float32Array[] = [];
  for (let at = 0; at < interleaved.length; at += BLOCK * 2)
    parts.push(resampler.process(interleaved.subarray(at, at + BLOCK * 2)));
  parts.push(resampler.flush());
  const frames = Math.round((interleaved.length / 2) * (to / from));
  return concat(parts).slice(latency * 2, (latency + frames) * 2);
}

function monoSum(left: Float32Array, right: Float32Array): Float32Array {
  const out = new Float32Array(left.length);
  for (let i = 0; i < out.length; i++) out[i] = left[i] + right[i];
  return out;
}

// Enough of the signal to lock on (5.5 s at 48 kHz), bounded so the FFT stays small.
const DELAY_WINDOW_FRAMES = 1 << 18;

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
