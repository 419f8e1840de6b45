/** The corrective EQ, alone in the chain, measured against its analog prototypes. */
import { describe, expect, it } from 'vitest';
import { onlyStages, render, rms, sine, toneAmplitude, startFadeSamples } from '../helpers/signals.ts';

/** Analog prototypes (RBJ's definitions, A = 10^(gain/40)), evaluated at s = j f/f0. */
function analogDb(
  type: 'bell' | 'lowShelf' | 'highShelf',
  f: number,
  f0: number,
  gainDb: number,
  q: number,
): number {
  const a = 10 ** (gainDb / 40);
  const sa = Math.sqrt(a);
  const w = f / f0;
  const [n2, n1, n0, d2, d1, d0] =
    type === 'bell'
      ? [1, a / q, 1, 1, 1 / (a * q), 1]
      : type === 'lowShelf'
        ? [a, (a * sa) / q, a * a, a, sa / q, 1]
        : [a * a, (a * sa) / q, a, 1, sa / q, a];
  const mag2 = ((n0 - n2 * w * w) ** 2 + (n1 * w) ** 2) / ((d0 - d2 * w * w) ** 2 + (d1 * w) ** 2);
  return 10 * Math.log10(mag2);
}

/** The bilinear (RBJ cookbook) bell's response, for comparison: what cramping looks like. */
function bilinearBellDb(f: number, f0: number, gainDb: number, q: number, sr: number): number {
  const a = 10 ** (gainDb / 40);
  const w0 = (2 * Math.PI * f0) / sr;
  const alpha = Math.sin(w0) / (2 * q);
  const b = [1 + alpha * a, -2 * Math.cos(w0), 1 - alpha * a];
  const d = [1 + alpha / a, -2 * Math.cos(w0), 1 - alpha / a];
  const w = (2 * Math.PI * f) / sr;
  const mag = (c: number[]) =>
    Math.hypot(
      c[0] + c[1] * Math.cos(w) + c[2] * Math.cos(2 * w),
      c[1] * Math.sin(w) + c[2] * Math.sin(2 * w),
    );
  return 20 * Math.log10(mag(b) / mag(d));
}

/** Steady-state gain of the EQ at each frequency: a sine per frequency through the real chain. */
function measure(
  values: Record<string, number>,
  freqs: number[],
  sr: number,
  channel: 'left' | 'right' = 'left',
  sideOnly = false,
): number[] {
  return freqs.map((f) => {
    const n = Math.round(sr * 0.25);
    const x = sine(n, sr, f, 0.1);
    const other = sideOnly ? x.map((v) => -v) : x.slice();
    const out = render(x, other, { ...onlyStages('eq'), ...values }, { sampleRate: sr });
    const start = Math.round(sr * 0.1);
    return 20 * Math.log10(toneAmplitude(out[channel], sr, f, start, n) / toneAmplitude(x, sr, f, start, n));
  });
}

const FREQS = [31, 63, 125, 250, 500, 1000, 2000, 4000, 8000, 11000, 13000, 15000, 17000, 19000];

describe('corrective EQ', () => {
  for (const sr of [44100, 48000]) {
    it(`bells follow the analog bell to near Nyquist at ${sr / 1000} kHz, where a bilinear bell cramps`, () => {
      const cases: Array<[number, number, number]> = [
        [100, 6, 1],
        [1000, -12, 4],
        [5000, 12, 0.7],
        [12000, 9, 1.5],
        [16000, 12, 2],
      ];
      for (const [f0, gain, q] of cases) {
        const measured = measure({ 'eq.bell2.freq': f0, 'eq.bell2.gain': gain, 'eq.bell2.q': q }, FREQS, sr);
        const matchedError = Math.max(
          ...FREQS.map((f, i) => Math.abs(measured[i] - analogDb('bell', f, f0, gain, q))),
        );
        const bilinearError = Math.max(
          ...FREQS.map((f) =>
            Math.abs(bilinearBellDb(f, f0, gain, q, sr) - analogDb('bell', f, f0, gain, q)),
          ),
        );
        // Narrow bells well below Nyquist are all but exact; a bell whose skirt reaches Nyquist
        // (wide, or centred above 10 kHz) keeps within 0.5-1 dB of the analog curve, where the
        // three matched points (DC, centre, Nyquist) cannot pin the whole skirt. A bilinear bell
        // loses several dB there.
        const bound = f0 >= 10000 ? 1.0 : f0 * (1 + 1 / q) > 8000 ? 0.5 : 0.1;
        expect(matchedError, `bell ${f0} Hz ${gain} dB Q${q}`).toBeLessThan(bound);
        if (f0 >= 12000) expect(matchedError, `bell ${f0} Hz vs bilinear`).toBeLessThan(bilinearError / 2);
      }
    });

    it(`shelves follow their analog prototypes at ${sr / 1000} kHz`, () => {
      for (const [type, f0, gain] of [
        ['lowShelf', 100, 6],
        ['lowShelf', 400, -9],
        ['highShelf', 8000, 6],
        ['highShelf', 3000, -12],
      ] as const) {
        const measured = measure(
          { [`eq.${type}.freq`]: f0, [`eq.${type}.gain`]: gain, [`eq.${type}.q`]: 0.707 },
          FREQS,
          sr,
        );
        const error = Math.max(
          ...FREQS.map((f, i) => Math.abs(measured[i] - analogDb(type, f, f0, gain, 0.707))),
        );
        expect(error, `${type} ${f0} Hz ${gain} dB`).toBeLessThan(0.25);
      }
    });
  }

  it('cuts at 12 and 24 dB per octave below the high-pass corner', () => {
    for (const [slope, perOctave] of [
      [1, 12],
      [2, 24],
    ]) {
      const [atCorner, twoOctavesDown, fourOctavesUp] = measure(
        { 'eq.hp.slope': slope, 'eq.hp.freq': 200 },
        [200, 50, 3200],
        48000,
      );
      expect(atCorner).toBeCloseTo(-3.01, 1); // Butterworth: -3 dB at the corner for both slopes
      // Two octaves down the asymptote is 2 x slope; Butterworth sits within 0.5 dB of it there.
      expect(Math.abs(twoOctavesDown + 2 * perOctave)).toBeLessThan(0.5);
      expect(Math.abs(fourOctavesUp)).toBeLessThan(0.01);
    }
    const [lpCorner, lpTwoUp] = measure({ 'eq.lp.slope': 2, 'eq.lp.freq': 2000 }, [2000, 8000], 48000);
    expect(lpCorner).toBeCloseTo(-3.01, 1);
    expect(Math.abs(lpTwoUp + 48)).toBeLessThan(1);
  });

  it('applies a mid band to the mid only and a side band to the side only', () => {
    const boost = { 'eq.bell1.freq': 1000, 'eq.bell1.gain': 12, 'eq.bell1.q': 1 };
    // A side-only tone (L = -R) is untouched by a mid bell and lifted 12 dB by a side bell.
    expect(Math.abs(measure({ ...boost, 'eq.bell1.mode': 1 }, [1000], 48000, 'left', true)[0])).toBeLessThan(
      0.01,
    );
    expect(measure({ ...boost, 'eq.bell1.mode': 2 }, [1000], 48000, 'left', true)[0]).toBeCloseTo(12, 1);
    // A mono tone (mid only) the other way round.
    expect(measure({ ...boost, 'eq.bell1.mode': 1 }, [1000], 48000)[0]).toBeCloseTo(12, 1);
    expect(Math.abs(measure({ ...boost, 'eq.bell1.mode': 2 }, [1000], 48000)[0])).toBeLessThan(0.01);
  });

  it('switches a band between stereo, mid and side without a click', () => {
    const sr = 48000;
    const x = sine(sr, sr, 300, 0.3);
    const y = sine(sr, sr, 300, 0.2, 1);
    const out = render(
      x,
      y,
      { ...onlyStages('eq'), 'eq.bell1.freq': 300, 'eq.bell1.gain': 12 },
      {
        block: 256,
        onBlock: (chain, start) => {
          if (start === 256 * 60) chain.set('eq.bell1.mode', 2);
          if (start === 256 * 120) chain.set('eq.hp.slope', 2);
        },
      },
    );
    // Sample-to-sample steps of a 300 Hz tone at this level stay under 0.03; a click would not.
    let maxStep = 0;
    for (let i = 1000; i < out.left.length; i++)
      maxStep = Math.max(maxStep, Math.abs(out.left[i] - out.left[i - 1]));
    expect(maxStep).toBeLessThan(0.06);
  });

  it('passes the signal bit for bit when bypassed and when flat', () => {
    const x = sine(4800, 48000, 440, 0.5);
    const y = sine(4800, 48000, 660, 0.5);
    for (const values of [{ ...onlyStages('eq'), 'eq.bypass': 1, 'eq.bell1.gain': 6 }, onlyStages('eq')]) {
      const out = render(x, y, values);
      expect(rms(out.left.map((v, i) => (i < startFadeSamples() ? 0 : v - x[i])))).toBe(0);
    }
  });
});
