/** The native resampler used for CD masters: passband, stopband, timing, streaming. */
import { describe, expect, it } from 'vitest';
import { addon } from '../../engine/src/native.ts';
import { sine, toneAmplitude } from '../helpers/signals.ts';

function resampleMono(x: Float32Array, from: number, to: number, chunk = x.length): Float32Array {
  const r = new addon.NativeResampler(from, to, 1);
  const parts: Float32Array[] = [];
  for (let i = 0; i < x.length; i += chunk) parts.push(r.process(x.subarray(i, i + chunk)));
  parts.push(r.flush());
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('resampler 48 kHz -> 44.1 kHz', () => {
  it('is flat within 0.01 dB from 20 Hz to 20 kHz', () => {
    for (const f of [20, 100, 1000, 5000, 10000, 15000, 18000, 19500, 20000]) {
      const x = sine(48000, 48000, f, 0.5);
      const y = resampleMono(x, 48000, 44100);
      const gain = 20 * Math.log10(toneAmplitude(y, 44100, f, 4410, 40000) / 0.5);
      expect(Math.abs(gain), `${f} Hz`).toBeLessThan(0.01);
    }
  });

  it('removes everything between 22.05 and 24 kHz by at least 100 dB', () => {
    for (const f of [22100, 22500, 23000, 23900]) {
      const x = sine(48000, 48000, f, 1);
      const y = resampleMono(x, 48000, 44100);
      // What the tone would fold to at 44.1 kHz, and anywhere else: the whole output is residue.
      let peak = 0;
      for (let i = 4410; i < 40000; i++) peak = Math.max(peak, Math.abs(y[i]));
      expect(20 * Math.log10(peak), `${f} Hz`).toBeLessThan(-100);
    }
  });

  it('reports its delay: an impulse comes out where latency says', () => {
    const x = new Float32Array(48000);
    x[24000] = 1;
    const y = resampleMono(x, 48000, 44100);
    let best = 0;
    for (let i = 0; i < y.length; i++) if (Math.abs(y[i]) > Math.abs(y[best])) best = i;
    const latency = new addon.NativeResampler(48000, 44100, 1).latencyInputFrames();
    expect(Math.abs(best - ((24000 + latency) * 44100) / 48000)).toBeLessThanOrEqual(1);
  });

  it('gives the same samples however the input is chunked', () => {
    const x = sine(20000, 48000, 997, 0.5);
    const whole = resampleMono(x, 48000, 44100);
    const pieces = resampleMono(x, 48000, 44100, 333);
    expect(pieces.length).toBe(whole.length);
    expect(pieces.every((v, i) => v === whole[i])).toBe(true);
  });

  it('refuses channel counts it does not support, naming them', () => {
    expect(() => new addon.NativeResampler(48000, 44100, 6)).toThrow(/cannot resample 6 channel\(s\) from 48000 Hz to 44100 Hz/);
  });
});
