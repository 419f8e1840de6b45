/** Character: oversampled saturation (aliasing, harmonic signature, level), the air shelf, glides and bypass. */
import { fft } from '../../engine/src/analysis/fft.ts';
import { describe, expect, it } from 'vitest';
import type { ParameterValues } from '../../engine/src/params.ts';
import { onlyStages, render, sine, toneAmplitude, startFadeSamples } from '../helpers/signals.ts';

const SR = 48000;
const db = (ratio: number) => 20 * Math.log10(ratio);

/** Zeroth-order modified Bessel function (power series), for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 60 && term > 1e-14 * sum; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

/**
 * Amplitude spectrum (bins 0..n/2) of x[0..n), n a power of two, through a Kaiser window with
 * beta 20: sidelobes about 150 dB down, so an alias 100 dB down is not hidden under the
 * fundamental's leakage. Main lobe +-7 bins.
 */
function spectrum(x: Float32Array, n: number): Float64Array {
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const beta = 20;
  let windowSum = 0;
  for (let i = 0; i < n; i++) {
    const t = (2 * i) / (n - 1) - 1;
    const w = besselI0(beta * Math.sqrt(Math.max(0, 1 - t * t))) / besselI0(beta);
    re[i] = x[i] * w;
    windowSum += w;
  }
  fft(re, im);
  const out = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) out[k] = (2 * Math.hypot(re[k], im[k])) / windowSum;
  return out;
}

/** Total harmonic distortion (2nd..20th) of a 1 kHz tone, as a ratio. */
function thd(x: Float32Array, fundamental: number): number {
  const h1 = toneAmplitude(x, SR, fundamental);
  let sum = 0;
  for (let k = 2; k * fundamental < SR / 2 && k <= 20; k++) sum += toneAmplitude(x, SR, k * fundamental) ** 2;
  return Math.sqrt(sum) / h1;
}

/** Energy of the third difference in windows of 256: harmonics of a low tone barely register, a click dominates. */
function roughness(x: Float32Array, start: number, end: number): number[] {
  const windows: number[] = [];
  for (let w = start; w + 256 <= end; w += 256) {
    let sum = 0;
    for (let i = w; i < w + 256; i++) sum += (x[i] - 3 * x[i - 1] + 3 * x[i - 2] - x[i - 3]) ** 2;
    windows.push(sum);
  }
  return windows;
}

/** Renders a 220 Hz tone while one parameter glides linearly from..to over 200 ms, set every 64-sample block. */
function sweep(base: ParameterValues, id: string, from: number, to: number): Float32Array {
  const x = sine(SR / 2, SR, 220, 0.5);
  const begin = 4800;
  const steps = (0.2 * SR) / 64;
  return render(
    x,
    x.slice(),
    { ...base, [id]: from },
    {
      block: 64,
      onBlock: (chain, start) => {
        const step = (start - begin) / 64;
        if (step >= 0 && step <= steps) chain.set(id, from + ((to - from) * step) / steps);
      },
    },
  ).left;
}

describe('character', () => {
  it('keeps every alias of a 0 dBFS 15 kHz sine at full drive more than 80 dB below the fundamental, in both modes', () => {
    const n = 32768;
    const fundamentalBin = Math.round((15000 / SR) * n);
    for (const mode of [0, 1]) {
      const x = sine(SR, SR, 15000, 1);
      const out = render(x, x.slice(), {
        ...onlyStages('character'),
        'character.drive': 24,
        'character.mix': 100,
        'character.mode': mode,
      });
      // render() removes the chain's latency; start well after the oversampler's start-up.
      const s = spectrum(out.left.subarray(8000), n);
      const fundamental = Math.max(...s.subarray(fundamentalBin - 2, fundamentalBin + 3));
      // The only harmonic of 15 kHz below 24 kHz is 15 kHz itself (30, 45 kHz... must fold
      // away to nothing). Everything outside its main lobe (+-7 bins) is alias or filter leak;
      // below 20 Hz is left out for the DC blocker's settling.
      let worst = 0;
      let worstBin = 0;
      for (let k = 14; k < n / 2; k++) {
        if (Math.abs(k - fundamentalBin) <= 10) continue;
        if (s[k] > worst) [worst, worstBin] = [s[k], k];
      }
      expect(
        db(worst / fundamental),
        `mode ${mode}: worst at ${((worstBin * SR) / n).toFixed(0)} Hz`,
      ).toBeLessThan(-80);
    }
  });

  it('gives tape even-dominant and tube odd-dominant harmonics on a 1 kHz sine at moderate drive', () => {
    const harmonics = (mode: number) => {
      const x = sine(SR, SR, 1000, 0.5);
      const out = render(x, x.slice(), {
        ...onlyStages('character'),
        'character.drive': 12,
        'character.mix': 100,
        'character.mode': mode,
      }).left.subarray(8000, 40000);
      const h1 = toneAmplitude(out, SR, 1000);
      return { second: db(toneAmplitude(out, SR, 2000) / h1), third: db(toneAmplitude(out, SR, 3000) / h1) };
    };
    const tape = harmonics(0);
    const tube = harmonics(1);
    expect(tape.second).toBeGreaterThan(tape.third + 10);
    expect(tape.second).toBeGreaterThan(-40); // audibly there
    // A symmetric curve makes no even harmonics at all; 40 dB of margin covers float rounding.
    expect(tube.third).toBeGreaterThan(tube.second + 40);
    expect(tube.third).toBeGreaterThan(-60);
  });

  it('is close to transparent at 0 dB drive and full mix: THD well under 1 % at -6 dBFS', () => {
    for (const [mode, limit] of [
      [0, 0.005], // tape: measured 0.40 %, almost all 2nd harmonic
      [1, 0.001], // tube: measured 0.007 %
    ]) {
      const x = sine(SR, SR, 1000, 0.5);
      const out = render(x, x.slice(), {
        ...onlyStages('character'),
        'character.drive': 0,
        'character.mix': 100,
        'character.mode': mode,
      }).left.subarray(8000, 40000);
      expect(thd(out, 1000), `mode ${mode}`).toBeLessThan(limit);
      expect(Math.abs(db(toneAmplitude(out, SR, 1000) / 0.5)), `mode ${mode} level`).toBeLessThan(0.05);
    }
  });

  it('keeps the level of a -14 dBFS tone within 1.5 dB as drive rises from 0 to 24 dB (gain compensation)', () => {
    // Without compensation drive 24 would be about 8 dB louder; the curve's small-signal slope is
    // normalised to one, and what remains is the compression of the peaks (measured -0.9 dB worst).
    for (const mode of [0, 1]) {
      for (const drive of [0, 6, 12, 18, 24]) {
        const x = sine(SR, SR, 1000, 0.2);
        const out = render(x, x.slice(), {
          ...onlyStages('character'),
          'character.drive': drive,
          'character.mix': 100,
          'character.mode': mode,
        });
        const level = db(toneAmplitude(out.left, SR, 1000, SR / 4, SR) / 0.2);
        expect(Math.abs(level), `mode ${mode} drive ${drive}`).toBeLessThan(1.5);
      }
    }
  });

  it('lifts the top with air along the analog high shelf, by the amount set', () => {
    const gainAt = (f: number, airDb: number, airFreq: number) => {
      const x = sine(SR, SR, f, 0.1);
      const out = render(x, x.slice(), {
        ...onlyStages('character'),
        'character.air': airDb,
        'character.airFreq': airFreq,
      });
      return db(toneAmplitude(out.left, SR, f, SR / 4, SR) / 0.1);
    };
    // The analog high shelf (RBJ prototype, Q 0.5, the design biquad.h matches): air should follow it.
    const analog = (f: number, airDb: number, airFreq: number) => {
      const a = 10 ** (airDb / 40),
        sa = Math.sqrt(a),
        q = 0.5,
        w = f / airFreq;
      const mag2 =
        ((a - a * a * w * w) ** 2 + ((a * sa * w) / q) ** 2) / ((a - w * w) ** 2 + ((sa * w) / q) ** 2);
      return 10 * Math.log10(mag2);
    };
    for (const f of [200, 2000, 8000, 16000])
      expect(Math.abs(gainAt(f, 6, 8000) - analog(f, 6, 8000)), `${f} Hz`).toBeLessThan(0.3);
    // 12 dB at 4 kHz: 16 kHz (two octaves up) against 1 kHz is nearly the full setting.
    const lift = gainAt(16000, 12, 4000) - gainAt(1000, 12, 4000);
    expect(Math.abs(lift - (analog(16000, 12, 4000) - analog(1000, 12, 4000)))).toBeLessThan(0.3);
    expect(lift).toBeGreaterThan(10);
  });

  it('is an exact delay at its defaults and when bypassed, whatever it was set to', () => {
    const x = sine(SR / 2, SR, 440, 0.5);
    const plain = render(x, x.slice(), onlyStages('character'));
    expect(plain.left.every((v, i) => i < startFadeSamples() || v === x[i])).toBe(true);
    const bypassed = render(x, x.slice(), {
      ...onlyStages('character'),
      'character.bypass': 1,
      'character.drive': 24,
      'character.mix': 100,
      'character.air': 12,
    });
    expect(bypassed.left.every((v, i) => i < startFadeSamples() || v === x[i])).toBe(true);
  });

  for (const [name, base, id, from, to] of [
    ['drive 0 -> 24 dB at full mix (tape)', { 'character.mix': 100 }, 'character.drive', 0, 24],
    [
      'drive 0 -> 24 dB at full mix (tube)',
      { 'character.mix': 100, 'character.mode': 1 },
      'character.drive',
      0,
      24,
    ],
    ['air 0 -> 12 dB with no saturation', {}, 'character.air', 0, 12],
    ['mix 0 -> 100 % out of the idle pass-through', {}, 'character.mix', 0, 100],
  ] as const) {
    it(`glides ${name} over 200 ms without clicks`, () => {
      const values = { ...onlyStages('character'), ...base };
      const swept = sweep(values, id, from, to);
      // Reference: the same tone held at the end setting; its roughness is what the harmonics
      // (or the lifted top) legitimately add. A click or a gap adds broadband energy that a
      // 256-sample window shows many times over. Measured: at most 1.4x; coefficients or drive
      // stepped every 16 or 8 samples instead of gliding read 100x to 9000x, the 1.5 ms gap an
      // unwarmed oversampler left when leaving idle over 1000x.
      const x = sine(SR / 2, SR, 220, 0.5);
      const held = render(x, x.slice(), { ...values, [id]: to }).left;
      const ceiling = Math.max(...roughness(held, 4800, 20000));
      const during = roughness(swept, 2400, 20000);
      expect(Math.max(...during) / ceiling).toBeLessThan(2);
    });
  }

  it('switches modes and bypass without clicks', () => {
    const x = sine(SR / 2, SR, 440, 0.5);
    const moved = render(
      x,
      x.slice(),
      { ...onlyStages('character'), 'character.mix': 100, 'character.drive': 12 },
      {
        block: 256,
        onBlock: (chain, start) => {
          if (start === 256 * 20) chain.set('character.mode', 1);
          if (start === 256 * 40) chain.set('character.bypass', 1);
          if (start === 256 * 60) chain.set('character.bypass', 0);
        },
      },
    );
    let maxStep = 0;
    for (let i = 1000; i < moved.left.length; i++)
      maxStep = Math.max(maxStep, Math.abs(moved.left[i] - moved.left[i - 1]));
    // A 440 Hz tone at 0.5 moves at most 0.029 per sample; with saturation harmonics a little
    // more. A click would jump by a large part of the amplitude.
    expect(maxStep).toBeLessThan(0.06);
  });
});
