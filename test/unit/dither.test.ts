/** TPDF dither and noise shaping on the way to 16 and 24 bit. */
import { describe, expect, it } from 'vitest';
import { addon } from '../../engine/src/native.ts';
import { seededRandom, sine, toneAmplitude } from '../helpers/signals.ts';

function quantise(x: Float32Array, bits: 16 | 24, shaped = false, seed = 1234, channels = 1): Int32Array {
  const out = new Int32Array(x.length);
  new addon.NativeDither(bits, channels, shaped, seed).process(x, out);
  return out;
}

/** Quantisation error in LSB (output minus input scaled to the target word). */
function error(x: Float32Array, q: Int32Array, bits = 16): Float32Array {
  const scale = 2 ** (bits - 1);
  return Float32Array.from(q, (v, i) => v - x[i] * scale);
}

function stats(e: Float32Array): { mean: number; variance: number; worst: number } {
  let sum = 0;
  let worst = 0;
  for (const v of e) {
    sum += v;
    worst = Math.max(worst, Math.abs(v));
  }
  const mean = sum / e.length;
  let sq = 0;
  for (const v of e) sq += (v - mean) ** 2;
  return { mean, variance: sq / e.length, worst };
}

/** Error power summed over a band on a 250 Hz grid (Goertzel bins), for comparing spectra. */
function bandPower(e: Float32Array, lo: number, hi: number): number {
  let sum = 0;
  for (let f = lo; f <= hi; f += 250) sum += toneAmplitude(e, 48000, f) ** 2;
  return sum;
}

describe('dither', () => {
  it('adds triangular noise whose mean and variance do not depend on the signal: 0 and 1/4 LSB^2', () => {
    // TPDF theory: rounding error 1/12 plus two independent uniforms of 1/12 each = 1/4 LSB^2,
    // whatever the input's position between two steps (rectangular dither would swing between
    // 1/6 and 1/4, plain rounding between 0 and 1/12). 200k samples: the variance estimate's
    // standard error is about 0.001, the mean's 0.0011 LSB, so 0.01 is ample and still tight.
    for (const offsetLsb of [0, 0.25, 0.5, 0.77]) {
      const x = new Float32Array(200000).fill((1000 + offsetLsb) / 32768);
      const { mean, variance, worst } = stats(error(x, quantise(x, 16)));
      expect(Math.abs(mean), `offset ${offsetLsb}`).toBeLessThan(0.01);
      expect(Math.abs(variance - 0.25), `offset ${offsetLsb}`).toBeLessThan(0.01);
      // Dither peaks at +-1 LSB and rounding adds at most half a step.
      expect(worst, `offset ${offsetLsb}`).toBeLessThanOrEqual(1.5);
    }
  });

  it('keeps a -100 dBFS tone alive at 16 bit, which plain rounding erases', () => {
    const x = sine(48000, 48000, 1000, 10 ** (-100 / 20));
    const dithered = Float32Array.from(quantise(x, 16), (v) => v / 32768);
    const rounded = Float32Array.from(x, (v) => Math.round(v * 32768) / 32768);
    // The tone is 0.33 LSB; in a Hann-windowed 1 s Goertzel bin the dither noise reads about
    // 0.004 LSB (-138 dBFS), so the tone comes back within a fraction of a dB.
    expect(Math.abs(20 * Math.log10(toneAmplitude(dithered, 48000, 1000)) + 100)).toBeLessThan(0.5);
    expect(toneAmplitude(rounded, 48000, 1000)).toBe(0);
  });

  it('leaves an error uncorrelated with the signal: no harmonics of a 1.3 LSB tone', () => {
    const x = sine(96000, 48000, 997, 1.3 / 32768);
    const dithered = error(x, quantise(x, 16));
    const rounded = Float32Array.from(x, (v) => Math.round(v * 32768) - v * 32768);
    for (const f of [997, 2 * 997, 3 * 997, 5 * 997]) {
      // Noise floor per bin about 0.003 LSB (see above, 2 s); plain rounding of this tone makes
      // an error of 0.12 LSB at the tone itself and 0.16 / 0.10 LSB at its 3rd / 5th harmonics.
      expect(toneAmplitude(dithered, 48000, f), `${f} Hz`).toBeLessThan(0.015);
    }
    expect(toneAmplitude(rounded, 48000, 3 * 997)).toBeGreaterThan(0.1);
  });

  it('moves the noise above 10 kHz when shaped, and keeps it bounded', () => {
    const x = Float32Array.from(sine(96000, 48000, 440, 0.25), (v, i) => v + (i % 7) * 1e-6);
    const flat = error(x, quantise(x, 16));
    const shaped = error(x, quantise(x, 16, true));
    // Wannamaker's 3-tap F-weighted shaper: 12 dB less noise below 2 kHz, about 19 dB less
    // near 4 kHz, 3..11 dB more from 12 kHz up (its analytic response, re-centred for 48 kHz).
    expect(bandPower(shaped, 500, 4000) / bandPower(flat, 500, 4000)).toBeLessThan(10 ** (-10 / 10));
    expect(bandPower(shaped, 12000, 23500) / bandPower(flat, 12000, 23500)).toBeGreaterThan(10 ** (4 / 10));
    // The feedback loop is stable: the total error stays within a few LSB.
    expect(stats(shaped).worst).toBeLessThan(6);
  });

  it('clips at full scale and fills 24-bit words', () => {
    const q = quantise(Float32Array.from([2, -2, 1, -1, 0.5, Number.NaN]), 24);
    expect(Array.from(q.subarray(0, 4))).toEqual([8388607, -8388608, 8388607, -8388608]);
    expect(Math.abs(q[4] - 4194304)).toBeLessThanOrEqual(1);
    expect(Math.abs(q[5])).toBeLessThanOrEqual(1); // non-finite input becomes (dithered) silence
    const random = seededRandom(9);
    const x = Float32Array.from({ length: 50000 }, () => 2.2 * (random() - 0.5));
    for (const shaped of [false, true]) {
      const words = quantise(x, 24, shaped);
      expect(words.every((v) => v >= -8388608 && v <= 8388607)).toBe(true);
      // In range, each word is the input at 24-bit resolution (dither and shaping move it a few LSB).
      expect(words.every((v, i) => Math.abs(x[i]) >= 0.999 || Math.abs(v - x[i] * 8388608) < 8)).toBe(true);
    }
  });

  it('is deterministic for a seed and independent between channels', () => {
    const x = new Float32Array(100000).fill(0.1);
    expect(quantise(x, 16, false, 7)).toEqual(quantise(x, 16, false, 7));
    expect(quantise(x, 16, false, 8)).not.toEqual(quantise(x, 16, false, 7));
    const e = error(x, quantise(x, 16, false, 7, 2));
    let lr = 0;
    for (let i = 0; i < e.length; i += 2) lr += (e[i] - 0.0) * e[i + 1];
    // Correlation coefficient of left and right errors: 50k pairs, standard error 0.0045.
    expect(Math.abs(lr / (e.length / 2) / 0.25)).toBeLessThan(0.03);
  });
});
