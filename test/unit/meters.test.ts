/** The rest of the meter frame: peaks, RMS, correlation, spectrum, conventions, reset and pause. */
import { describe, expect, it } from 'vitest';
import { LoudnessAnalyzer } from '../../engine/src/loudness.ts';
import {
  METER_FRAME_LENGTH,
  METER_LAYOUT,
  SPECTRUM_BAND_CENTERS_HZ,
  meterSlice,
  meterValue,
} from '../../engine/src/meter-layout.ts';
import { addon } from '../../engine/src/native.ts';
import { sine, whiteNoise } from '../helpers/signals.ts';

const SR = 48000;
function analyse(left: Float32Array, right: Float32Array, sampleRate = SR): Float32Array {
  const a = new LoudnessAnalyzer(sampleRate);
  a.push(left, right);
  return a.meters;
}

function nearestBand(freqHz: number): number {
  return SPECTRUM_BAND_CENTERS_HZ.reduce(
    (best, c, i) =>
      Math.abs(Math.log(c / freqHz)) < Math.abs(Math.log(SPECTRUM_BAND_CENTERS_HZ[best] / freqHz)) ? i : best,
    0,
  );
}

describe('meters', () => {
  it('reads sample peak and RMS of a sine per channel', () => {
    const left = sine(SR, SR, 1000, 0.5);
    const right = sine(SR, SR, 1000, 0.25);
    const m = analyse(left, right);
    // Float32 samples of a 1 kHz sine at 48 kHz hit the crest exactly (every 12th sample).
    expect(meterValue(m, 'input.samplePeakDbfs', 0)).toBeCloseTo(-6.02, 2);
    expect(meterValue(m, 'input.samplePeakDbfs', 1)).toBeCloseTo(-12.04, 2);
    expect(meterValue(m, 'input.samplePeakMaxDbfs')).toBeCloseTo(-6.02, 2);
    // RMS over 300 ms (whole cycles of 1 kHz): a sine's mean square is half its peak squared.
    expect(meterValue(m, 'input.rmsDbfs', 0)).toBeCloseTo(-9.03, 2);
    expect(meterValue(m, 'input.rmsDbfs', 1)).toBeCloseTo(-15.05, 2);
  });

  it('reads true peak per channel above the sample peak of an fs/4 sine at 45 degrees', () => {
    const n = SR;
    const left = new Float32Array(n);
    const right = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const fade = Math.min(1, i / 480); // no onset step to ring the interpolator
      left[i] = fade * 0.5 * Math.sin((Math.PI / 2) * i + Math.PI / 4);
      right[i] = fade * 0.25 * Math.sin((Math.PI / 2) * i);
    }
    const m = analyse(left, right);
    // Tech 3341's true-peak tolerance, +0.2 / -0.4 dB; the samples of the left channel miss the
    // crest by 3 dB, those of the right one hit it.
    expect(meterValue(m, 'input.truePeakDbtp', 0)).toBeGreaterThan(-6.02 - 0.4);
    expect(meterValue(m, 'input.truePeakDbtp', 0)).toBeLessThan(-6.02 + 0.2);
    expect(meterValue(m, 'input.samplePeakDbfs', 0)).toBeCloseTo(-9.03, 2);
    expect(meterValue(m, 'input.truePeakDbtp', 1)).toBeGreaterThan(-12.04 - 0.4);
    expect(meterValue(m, 'input.truePeakDbtp', 1)).toBeLessThan(-12.04 + 0.2);
    // The maximum since reset is the loudest block's reading, a hair above the last block's
    // (the interpolated points fall on slightly different phases from block to block).
    const max = meterValue(m, 'input.truePeakMaxDbtp');
    expect(max).toBeGreaterThanOrEqual(meterValue(m, 'input.truePeakDbtp', 0));
    expect(max - meterValue(m, 'input.truePeakDbtp', 0)).toBeLessThan(0.01);
  });

  it('reads PLR as true-peak maximum minus integrated loudness', () => {
    const x = sine(SR * 5, SR, 1000, 10 ** (-20 / 20));
    const m = analyse(x, x);
    const plr = meterValue(m, 'input.plr');
    expect(plr).toBeCloseTo(
      meterValue(m, 'input.truePeakMaxDbtp') - meterValue(m, 'input.integratedLufs'),
      4,
    );
    // A stereo 1 kHz sine reads its peak level in LUFS (Tech 3341 case 1), so its PLR is ~0.
    expect(Math.abs(plr)).toBeLessThan(0.1);
  });

  it('reads correlation +1, -1 and about 0', () => {
    const x = sine(SR, SR, 440, 0.5);
    expect(meterValue(analyse(x, x), 'input.correlation')).toBeCloseTo(1, 3);
    expect(
      meterValue(
        analyse(
          x,
          x.map((v) => -v),
        ),
        'input.correlation',
      ),
    ).toBeCloseTo(-1, 3);
    // 300 ms of independent white noise: 14400 products, so the estimate's spread is ~0.01.
    expect(
      Math.abs(meterValue(analyse(whiteNoise(SR, 0.3, 1), whiteNoise(SR, 0.3, 2)), 'input.correlation')),
    ).toBeLessThan(0.05);
    // Quadrature sines are uncorrelated too.
    expect(
      Math.abs(meterValue(analyse(x, sine(SR, SR, 440, 0.5, Math.PI / 2)), 'input.correlation')),
    ).toBeLessThan(0.02);
  });

  for (const sampleRate of [44100, 48000, 96000]) {
    it(`puts a tone in its spectrum band at its level at ${sampleRate / 1000} kHz`, () => {
      for (const freqHz of [1000, 8000]) {
        const x = sine(sampleRate, sampleRate, freqHz, 1);
        const spectrum = meterSlice(analyse(x, x, sampleRate), 'input.spectrumDb');
        const band = nearestBand(freqHz);
        // A full-scale sine reads 0 dB in its band: these bands span 7 or more FFT bins, wider
        // than the Hann window's 4-bin main lobe, so the band holds the tone's whole power.
        expect(spectrum[band], `${freqHz} Hz`).toBeGreaterThan(-0.5);
        expect(spectrum[band], `${freqHz} Hz`).toBeLessThan(0.5);
        expect(spectrum[band + 6], `${freqHz} Hz`).toBeLessThan(spectrum[band] - 40); // an octave away: window leakage only
        expect(spectrum[band - 6], `${freqHz} Hz`).toBeLessThan(spectrum[band] - 40);
      }
      // At 100 Hz a 1/6-octave band is one FFT bin (~11 Hz) wide, narrower than the window's
      // main lobe: the tone's power spreads over the neighbouring bands, which tile the axis,
      // so together they still hold it all (Parseval), and the loudest band is next to the tone.
      const x = sine(sampleRate, sampleRate, 100, 1);
      const spectrum = meterSlice(analyse(x, x, sampleRate), 'input.spectrumDb');
      const band = nearestBand(100);
      let power = 0;
      for (let b = band - 2; b <= band + 2; b++) power += 10 ** (spectrum[b] / 10);
      expect(10 * Math.log10(power)).toBeGreaterThan(-0.5);
      expect(10 * Math.log10(power)).toBeLessThan(0.5);
      const loudest = spectrum.indexOf(Math.max(...spectrum));
      expect(Math.abs(loudest - band)).toBeLessThanOrEqual(1);
    });
  }

  it('shows silence as -Infinity and undefined values as NaN, nothing else non-finite', () => {
    const m = analyse(new Float32Array(SR), new Float32Array(SR));
    for (const field of [
      'momentaryLufs',
      'shortTermLufs',
      'momentaryMaxLufs',
      'truePeakDbtp',
      'truePeakMaxDbtp',
      'samplePeakDbfs',
      'rmsDbfs',
    ] as const) {
      expect(meterValue(m, `input.${field}`), field).toBe(-Infinity);
    }
    expect(Number.isNaN(meterValue(m, 'input.integratedLufs'))).toBe(true);
    expect(Number.isNaN(meterValue(m, 'input.lra'))).toBe(true);
    expect(Number.isNaN(meterValue(m, 'input.plr'))).toBe(true);
    expect(meterValue(m, 'input.correlation')).toBe(0);
    expect(meterSlice(m, 'input.spectrumDb').every((v) => v === -Infinity)).toBe(true);

    // A steady tone long enough for every window (LRA needs short-term values over 3 s).
    const loud = sine(SR * 8, SR, 1000, 0.5);
    const frame = analyse(loud, loud);
    for (const [name, offset] of Object.entries(METER_LAYOUT.offsets)) {
      if (!name.startsWith('input.') || name === 'input.spectrumDb') continue;
      for (let k = 0; k < METER_LAYOUT.widths[name as keyof typeof METER_LAYOUT.widths]; k++) {
        expect(Number.isFinite(frame[offset + k]), name).toBe(true);
      }
    }
    // A steady tone has no loudness range.
    expect(meterValue(frame, 'input.lra')).toBeLessThan(0.1);
    // The spectrum may show -Infinity for bands with no energy, never NaN.
    expect(meterSlice(frame, 'input.spectrumDb').some((v) => Number.isNaN(v))).toBe(false);
  });

  it('returns to silence readings after reset()', () => {
    const a = new LoudnessAnalyzer(SR);
    const loud = sine(SR * 4, SR, 1000, 0.5);
    a.push(loud, loud);
    expect(Number.isFinite(meterValue(a.meters, 'input.integratedLufs'))).toBe(true);
    a.reset();
    a.push(new Float32Array(SR), new Float32Array(SR));
    expect(meterValue(a.meters, 'input.momentaryLufs')).toBe(-Infinity);
    expect(meterValue(a.meters, 'input.truePeakMaxDbtp')).toBe(-Infinity);
    expect(meterValue(a.meters, 'input.rmsDbfs')).toBe(-Infinity);
    expect(Number.isNaN(meterValue(a.meters, 'input.integratedLufs'))).toBe(true);
  });

  it('holds integrated, LRA and maxima while paused, and keeps the live readings moving', () => {
    const a = new LoudnessAnalyzer(SR);
    const song = sine(SR * 10, SR, 1000, 10 ** (-20 / 20));
    a.push(song, song);
    const before = a.report();
    a.setIntegrationPaused(true);
    const louder = sine(SR * 5, SR, 1000, 10 ** (-6 / 20));
    a.push(louder, louder);
    expect(a.report()).toEqual(before);
    expect(meterValue(a.meters, 'input.momentaryLufs')).toBeCloseTo(-6, 1);
    expect(meterValue(a.meters, 'input.shortTermLufs')).toBeCloseTo(-6, 1);
    expect(meterValue(a.meters, 'input.samplePeakDbfs')).toBeCloseTo(-6, 1);
  });

  it('resetIntegrated() starts integrated, LRA and every maximum again', () => {
    const a = new LoudnessAnalyzer(SR);
    const loud = sine(SR * 5, SR, 1000, 10 ** (-6 / 20));
    a.push(loud, loud);
    a.resetIntegrated();
    expect(a.report()).toEqual({
      integratedLufs: null,
      momentaryMaxLufs: null,
      shortTermMaxLufs: null,
      lra: null,
      truePeakDbtp: null,
      samplePeakDbfs: null,
      plr: null,
    });
    const quiet = sine(SR * 5, SR, 1000, 10 ** (-30 / 20));
    a.push(quiet, quiet);
    const report = a.report();
    // Nothing of the -6 dB passage survives: peaks read the -30 dBFS tone, loudness its -30
    // LUFS within Tech 3341's 0.1 LU (the first window after the step also holds the
    // K-weighting filters' ringing from the 24 dB drop).
    expect(report.samplePeakDbfs!).toBeCloseTo(-30, 2);
    expect(report.truePeakDbtp!).toBeCloseTo(-30, 2);
    expect(Math.abs(report.momentaryMaxLufs! + 30)).toBeLessThan(0.1);
    expect(Math.abs(report.shortTermMaxLufs! + 30)).toBeLessThan(0.1);
    expect(Math.abs(report.integratedLufs! + 30)).toBeLessThan(0.1);
  });

  it('names a field missing from the meter layout', () => {
    const offsets: Record<string, number> = { ...METER_LAYOUT.offsets };
    delete offsets['input.correlation'];
    expect(
      () =>
        new addon.NativeAnalyzer({
          sampleRate: SR,
          maxBlock: 512,
          meterOffsets: offsets,
          spectrumBandsHz: SPECTRUM_BAND_CENTERS_HZ,
          meterFrame: new Float32Array(METER_FRAME_LENGTH),
        }),
    ).toThrow(/input\.correlation/);
  });

  it('fits the meter frame in 1 KiB for the dashboard', () => {
    expect(METER_LAYOUT.length * 4).toBeLessThanOrEqual(1024);
  });

  it('reads an fs/4 tone at 45 degrees within Tech 3341 tolerance at 176.4 and 192 kHz too', () => {
    for (const sampleRate of [176400, 192000]) {
      const n = sampleRate;
      const fade = sampleRate / 100; // a soft start: an abrupt one is a step, with its own overshoot
      const x = Float32Array.from(
        { length: n },
        (_, i) =>
          (i < fade ? 0.5 - 0.5 * Math.cos((Math.PI * i) / fade) : 1) *
          0.5011872 *
          Math.sin((Math.PI / 2) * i + Math.PI / 4),
      );
      const a = new LoudnessAnalyzer(sampleRate);
      a.push(x, x);
      const error = a.report().truePeakDbtp! + 6;
      expect(error, `${sampleRate} Hz`).toBeLessThanOrEqual(0.2);
      expect(error, `${sampleRate} Hz`).toBeGreaterThanOrEqual(-0.4);
    }
  });
});
