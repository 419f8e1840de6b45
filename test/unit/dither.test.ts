/** TPDF dither and noise shaping on the way to 16 and 24 bit. */
import { describe, expect, it } from 'vitest';
import { addon } from '../../engine/src/native.ts';
import { sine, toneAmplitude } from '../helpers/signals.ts';

function quantise(x: Float32Array, bits: 16 | 24, shaped = false): Int32Array {
  const out = new Int32Array(x.length);
  new addon.NativeDither(bits, 1, shaped, 1234).process(x, out);
  return out;
}

describe('dither', () => {
  it('adds triangular noise: zero mean, 1/4 LSB^2 variance (1/12 + 2 x 1/12 for TPDF)', () => {
    const x = new Float32Array(200000).fill(0.1234567);
    const q = quantise(x, 16);
    const errors = Array.from(q, (v, i) => v - x[i] * 32768);
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    const variance = errors.reduce((a, b) => a + (b - mean) ** 2, 0) / errors.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(variance).toBeGreaterThan(0.23);
    expect(variance).toBeLessThan(0.27);
  });

  it('keeps a -100 dBFS tone alive at 16 bit, which plain rounding would erase', () => {
    const x = sine(48000, 48000, 1000, 10 ** (-100 / 20));
    const dithered = Float32Array.from(quantise(x, 16), (v) => v / 32768);
    const rounded = Float32Array.from(x, (v) => Math.round(v * 32768) / 32768);
    expect(20 * Math.log10(toneAmplitude(dithered, 48000, 1000))).toBeCloseTo(-100, 0);
    expect(toneAmplitude(rounded, 48000, 1000)).toBe(0);
  });

  it('moves the noise above 10 kHz when shaped', () => {
    const x = new Float32Array(96000).fill(0.01);
    const band = (q: Int32Array, lo: number, hi: number) => {
      const e = Float32Array.from(q, (v, i) => v - x[i] * 32768);
      let sum = 0;
      for (let f = lo; f < hi; f += 500) sum += toneAmplitude(e, 48000, f) ** 2;
      return sum;
    };
    const flat = quantise(x, 16);
    const shaped = quantise(x, 16, true);
    expect(band(shaped, 500, 4000)).toBeLessThan(band(flat, 500, 4000) / 10);
    expect(band(shaped, 15000, 23000)).toBeGreaterThan(band(flat, 15000, 23000) * 2);
  });

  it('clips at full scale and fills 24-bit words', () => {
    const q = quantise(Float32Array.from([2, -2, 0.5]), 24);
    expect(q[0]).toBe(8388607);
    expect(q[1]).toBe(-8388608);
    expect(Math.abs(q[2] - 4194304)).toBeLessThanOrEqual(1);
  });
});
