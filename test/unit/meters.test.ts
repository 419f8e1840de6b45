/** The rest of the meter frame: peaks, RMS, correlation, spectrum, conventions. */
import { describe, expect, it } from 'vitest';
import { LoudnessAnalyzer } from '../../engine/src/loudness.ts';
import { METER_LAYOUT, SPECTRUM_BAND_CENTERS_HZ, meterSlice, meterValue } from '../../engine/src/meter-layout.ts';
import { sine, whiteNoise } from '../helpers/signals.ts';

const SR = 48000;
function analyse(left: Float32Array, right: Float32Array): Float32Array {
  const a = new LoudnessAnalyzer(SR);
  a.push(left, right);
  return a.meters;
}

describe('meters', () => {
  it('reads sample peak and RMS of a sine', () => {
    const x = sine(SR * 3, SR, 1000, 0.5); // 3 s: ten time constants of the 300 ms RMS
    const m = analyse(x, x);
    expect(meterValue(m, 'input.samplePeakDbfs')).toBeCloseTo(-6.02, 1);
    expect(meterValue(m, 'input.rmsDbfs')).toBeCloseTo(-9.03, 1); // a sine's RMS is 3.01 dB under its peak
  });

  it('reads correlation +1, -1 and about 0', () => {
    const x = sine(SR, SR, 440, 0.5);
    expect(meterValue(analyse(x, x), 'input.correlation')).toBeCloseTo(1, 3);
    expect(meterValue(analyse(x, x.map((v) => -v)), 'input.correlation')).toBeCloseTo(-1, 3);
    expect(Math.abs(meterValue(analyse(whiteNoise(SR, 0.3, 1), whiteNoise(SR, 0.3, 2)), 'input.correlation'))).toBeLessThan(0.1);
  });

  it('puts a tone in its spectrum band at its level', () => {
    const x = sine(SR, SR, 1000, 1);
    const spectrum = meterSlice(analyse(x, x), 'input.spectrumDb');
    const band = SPECTRUM_BAND_CENTERS_HZ.reduce((best, c, i) => (Math.abs(Math.log(c / 1000)) < Math.abs(Math.log(SPECTRUM_BAND_CENTERS_HZ[best] / 1000)) ? i : best), 0);
    expect(spectrum[band]).toBeGreaterThan(-1);
    expect(spectrum[band]).toBeLessThan(0.5);
    expect(spectrum[band + 6]).toBeLessThan(spectrum[band] - 40); // an octave up: window leakage only
  });

  it('shows silence as -Infinity and undefined values as NaN, nothing else non-finite', () => {
    const m = analyse(new Float32Array(SR), new Float32Array(SR));
    expect(meterValue(m, 'input.momentaryLufs')).toBe(-Infinity);
    expect(meterValue(m, 'input.truePeakMaxDbtp')).toBe(-Infinity);
    expect(Number.isNaN(meterValue(m, 'input.integratedLufs'))).toBe(true);
    expect(Number.isNaN(meterValue(m, 'input.lra'))).toBe(true);
    expect(meterValue(m, 'input.correlation')).toBe(0);
    const loud = sine(SR * 4, SR, 1000, 0.5);
    const frame = analyse(loud, loud);
    for (const [name, offset] of Object.entries(METER_LAYOUT.offsets)) {
      if (!name.startsWith('input.')) continue;
      for (let k = 0; k < METER_LAYOUT.widths[name as keyof typeof METER_LAYOUT.widths]; k++) {
        if (name === 'input.lra' || name === 'input.spectrumDb') continue;
        expect(Number.isFinite(frame[offset + k]), name).toBe(true);
      }
    }
  });

  it('fits the meter frame in 1 KiB for the dashboard', () => {
    expect(METER_LAYOUT.length * 4).toBeLessThanOrEqual(1024);
  });
});
