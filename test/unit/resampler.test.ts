/** The native resampler used for CD masters: passband, stopband, timing, streaming, other ratios. */
import { describe, expect, it } from 'vitest';
import { addon } from '../../engine/src/native.ts';
import { seededRandom, sine, toneAmplitude } from '../helpers/signals.ts';

/** Interleaved input through a fresh resampler in chunks of the given sizes (cycled), then flushed. */
function resample(
  x: Float32Array,
  from: number,
  to: number,
  channels = 1,
  chunks: number[] = [x.length / channels],
): Float32Array {
  const r = new addon.NativeResampler(from, to, channels);
  const parts: Float32Array[] = [];
  for (let frame = 0, c = 0; frame * channels < x.length; c++) {
    const frames = chunks[c % chunks.length];
    parts.push(r.process(x.subarray(frame * channels, (frame + frames) * channels)));
    frame += frames;
  }
  parts.push(r.flush());
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const gainDb = (y: Float32Array, rate: number, f: number, amplitude: number) =>
  20 * Math.log10(toneAmplitude(y, rate, f, rate / 10, rate * 0.9) / amplitude);

describe('resampler 48 kHz -> 44.1 kHz', () => {
  it('is flat within 0.01 dB from 20 Hz to 20 kHz', () => {
    // Steady-state amplitude (the first and last 100 ms, where the filter fills and drains, are
    // left out) against the input's. Measured worst: 0.004 dB.
    for (const f of [
      20, 40, 100, 315, 1000, 3150, 5000, 8000, 10000, 12500, 15000, 17000, 18000, 19000, 19500, 19800, 20000,
    ]) {
      const y = resample(sine(48000, 48000, f, 0.5), 48000, 44100);
      expect(Math.abs(gainDb(y, 44100, f, 0.5)), `${f} Hz`).toBeLessThan(0.01);
    }
  });

  it('removes full-scale tones between 22.05 and 24 kHz by at least 100 dB', () => {
    // They have no place at 44.1 kHz; whatever comes out (the fold-down to 20.1..22 kHz or any
    // other residue) is error, so the whole steady-state output is measured. Measured: -110 dB.
    for (const f of [22060, 22300, 22700, 23100, 23500, 23900, 23990]) {
      const y = resample(sine(48000, 48000, f, 1), 48000, 44100);
      let peak = 0;
      for (let i = 4410; i < 40000; i++) peak = Math.max(peak, Math.abs(y[i]));
      expect(20 * Math.log10(peak), `${f} Hz`).toBeLessThan(-100);
    }
  });

  it('puts an impulse where its reported latency says, and outputs the whole input', () => {
    const x = new Float32Array(48000);
    x[24000] = 1;
    const y = resample(x, 48000, 44100);
    let best = 0;
    for (let i = 0; i < y.length; i++) if (Math.abs(y[i]) > Math.abs(y[best])) best = i;
    const latency = new addon.NativeResampler(48000, 44100, 1).latencyInputFrames();
    // The peak of a sampled sinc is within half an output sample of the true time.
    expect(Math.abs(best - ((24000 + latency) * 44100) / 48000)).toBeLessThanOrEqual(0.5);
    // After trimming the latency, at least the input's duration remains.
    expect(y.length - Math.round((latency * 44100) / 48000)).toBeGreaterThanOrEqual(44100);
  });

  it('gives the same samples however the input is chunked, in stereo too', () => {
    const frames = 20000;
    const random = seededRandom(3);
    const x = new Float32Array(frames * 2);
    for (let i = 0; i < x.length; i++) x[i] = random() - 0.5;
    const whole = resample(x, 48000, 44100, 2);
    for (const chunks of [[1], [333], [7, 1, 4097, 64, 13]]) {
      const pieces = resample(x, 48000, 44100, 2, chunks);
      expect(pieces.length, `chunks ${chunks}`).toBe(whole.length);
      expect(
        pieces.every((v, i) => v === whole[i]),
        `chunks ${chunks}`,
      ).toBe(true);
    }
  });

  it('keeps stereo channels apart', () => {
    const left = sine(48000, 48000, 1000, 0.5);
    const x = new Float32Array(96000);
    for (let i = 0; i < 48000; i++) x[2 * i] = left[i];
    const y = resample(x, 48000, 44100, 2);
    const l = y.filter((_, i) => i % 2 === 0);
    const r = y.filter((_, i) => i % 2 === 1);
    expect(Math.abs(gainDb(l, 44100, 1000, 0.5))).toBeLessThan(0.01);
    expect(r.every((v) => v === 0)).toBe(true);
  });

  it('refuses channel counts it does not support, naming them', () => {
    expect(() => new addon.NativeResampler(48000, 44100, 6)).toThrow(
      /cannot resample 6 channel\(s\) from 48000 Hz to 44100 Hz/,
    );
  });
});

describe('resampler at other ratios', () => {
  for (const [from, to] of [
    [96000, 44100],
    [88200, 44100],
    [44100, 48000],
  ]) {
    it(`${from} -> ${to} Hz: flat to 20 kHz, stops above 22.05 kHz, on time`, () => {
      for (const f of [20, 1000, 10000, 19000, 20000]) {
        const y = resample(sine(from, from, f, 0.5), from, to);
        expect(Math.abs(gainDb(y, to, f, 0.5)), `${f} Hz`).toBeLessThan(0.01);
      }
      if (from > to) {
        for (const f of [22100, 30000, from / 2 - 100]) {
          const y = resample(sine(from, from, f, 1), from, to);
          let peak = 0;
          for (let i = to / 10; i < to * 0.9; i++) peak = Math.max(peak, Math.abs(y[i]));
          expect(20 * Math.log10(peak), `${f} Hz`).toBeLessThan(-100);
        }
      }
      const x = new Float32Array(from / 2);
      x[from / 4] = 1;
      const y = resample(x, from, to);
      let best = 0;
      for (let i = 0; i < y.length; i++) if (Math.abs(y[i]) > Math.abs(y[best])) best = i;
      const latency = new addon.NativeResampler(from, to, 1).latencyInputFrames();
      expect(Math.abs(best - ((from / 4 + latency) * to) / from)).toBeLessThanOrEqual(0.5);
    });
  }
});
