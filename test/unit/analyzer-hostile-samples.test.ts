/**
 * What the analyzer reads from samples no audio should hold: NaN, infinities, floats far past
 * full scale, and no samples at all. It measures what the live chain would play (non-finite
 * samples as silence, the rest clamped at +30 dBFS) and counts what it had to repair.
 */
import { describe, expect, it } from 'vitest';
import { LoudnessAnalyzer, measureLoudness } from '../../engine/src/loudness.ts';
import { sine } from '../helpers/signals.ts';

const SR = 48000;
// 997 Hz (not a divisor of the rate) so the crests fall on different samples each cycle.
const tone = (seconds: number, dbfs: number) => sine(seconds * SR, SR, 997, 10 ** (dbfs / 20));

function withEvery(signal: Float32Array, step: number, value: number): Float32Array {
  const out = signal.slice();
  for (let i = step - 1; i < out.length; i += step) out[i] = value;
  return out;
}

describe('analyzer input guard', () => {
  it('measures true and sample peak around one +Infinity sample, and counts it', () => {
    const clean = tone(4, -6);
    const left = clean.slice();
    left[SR] = Infinity;
    const analyzer = new LoudnessAnalyzer(SR);
    analyzer.push(left, clean);
    const report = analyzer.report();
    const reference = measureLoudness(clean, clean, SR);
    // The repaired sample is one zero in a -6 dBFS tone: peaks read the tone exactly, and its
    // missing energy (1 sample in 192000) moves the loudness by under 0.001 LU.
    expect(report.samplePeakDbfs).toBeCloseTo(reference.samplePeakDbfs!, 2);
    expect(report.truePeakDbtp).toBeCloseTo(reference.truePeakDbtp!, 1);
    expect(Math.abs(report.integratedLufs! - reference.integratedLufs!)).toBeLessThan(0.01);
    expect(analyzer.signal()).toEqual({
      frames: 4 * SR,
      channels: 2,
      nonFiniteSamples: 1,
      clampedSamples: 0,
    });
  });

  it('keeps integrated loudness defined with a NaN every 1000 samples', () => {
    const clean = tone(6, -20);
    const holed = withEvery(clean, 1000, NaN);
    const analyzer = new LoudnessAnalyzer(SR);
    analyzer.push(holed, holed);
    const report = analyzer.report();
    const reference = measureLoudness(clean, clean, SR);
    // One zero per 1000 samples removes 0.1 % of the energy (0.004 LU) and adds sparse clicks
    // far below the tone: 0.02 LU covers both.
    expect(Math.abs(report.integratedLufs! - reference.integratedLufs!)).toBeLessThan(0.02);
    expect(Math.abs(report.momentaryMaxLufs! - reference.momentaryMaxLufs!)).toBeLessThan(0.02);
    expect(report.lra).not.toBeNull();
    expect(report.plr).not.toBeNull();
    expect(analyzer.signal().nonFiniteSamples).toBe(2 * Math.floor(holed.length / 1000));
  });

  it('clamps floats near 1e38 at +30 dBFS, as the live chain does, and counts them', () => {
    const huge = sine(4 * SR, SR, 997, 1e38);
    const analyzer = new LoudnessAnalyzer(SR);
    analyzer.push(huge, huge);
    const report = analyzer.report();
    // Clamped at 31.6 the tone becomes a near-square wave of +30 dBFS: its sample peak is the
    // clamp itself, and its loudness can exceed +30 LUFS only by K-weighting's high shelf
    // (+4 dB at most) and the two channels' sum (+3 dB), never the 748 LUFS of raw 1e38.
    expect(report.samplePeakDbfs).toBeCloseTo(20 * Math.log10(31.6), 2);
    expect(report.momentaryMaxLufs!).toBeGreaterThan(25);
    expect(report.momentaryMaxLufs!).toBeLessThan(37);
    expect(report.integratedLufs!).toBeLessThan(37);
    const counts = analyzer.signal();
    expect(counts.nonFiniteSamples).toBe(0);
    expect(counts.clampedSamples).toBeGreaterThan(huge.length);
  });

  it('reads the integrated loudness of a tone at the +30 dBFS clamp', () => {
    const loud = tone(6, 20 * Math.log10(31.6));
    const report = measureLoudness(loud, loud, SR);
    // As a -20 dBFS 997 Hz sine reads -20 LUFS (BS.1770's reference), this one reads +30; the
    // histogram once ended at +10 LUFS and gated every block of it out.
    expect(Math.abs(report.integratedLufs! - 30)).toBeLessThan(0.05);
    expect(report.lra).toBeLessThan(0.1);
  });

  it('reads a signal non-finite throughout as silence, every sample counted', () => {
    const nan = new Float32Array(2 * SR).fill(NaN);
    const inf = new Float32Array(2 * SR).fill(-Infinity);
    const analyzer = new LoudnessAnalyzer(SR);
    analyzer.push(nan, inf);
    expect(Object.values(analyzer.report()).every((v) => v === null)).toBe(true);
    expect(analyzer.signal()).toEqual({
      frames: 2 * SR,
      channels: 2,
      nonFiniteSamples: 4 * SR,
      clampedSamples: 0,
    });
  });

  it('counts a mono signal once, though both sides carry it', () => {
    const holed = withEvery(tone(1, -20), 1000, NaN);
    const analyzer = new LoudnessAnalyzer(SR);
    analyzer.push(holed, holed);
    expect(analyzer.signal(1).nonFiniteSamples).toBe(Math.floor(holed.length / 1000));
  });

  it('starts the counts again with a new song and after reset()', () => {
    const analyzer = new LoudnessAnalyzer(SR);
    const bad = withEvery(tone(1, -20), 100, Infinity);
    analyzer.push(bad, bad);
    analyzer.resetIntegrated();
    expect(analyzer.signal()).toEqual({ frames: 0, channels: 2, nonFiniteSamples: 0, clampedSamples: 0 });
    analyzer.push(bad, bad);
    analyzer.reset();
    expect(analyzer.signal()).toEqual({ frames: 0, channels: 2, nonFiniteSamples: 0, clampedSamples: 0 });
  });

  it('reports every measure undefined for a signal with no frames', () => {
    const analyzer = new LoudnessAnalyzer(SR);
    expect(analyzer.report()).toEqual({
      integratedLufs: null,
      momentaryMaxLufs: null,
      shortTermMaxLufs: null,
      lra: null,
      truePeakDbtp: null,
      samplePeakDbfs: null,
      plr: null,
    });
    analyzer.push(new Float32Array(0), new Float32Array(0));
    expect(Object.values(analyzer.report()).every((v) => v === null)).toBe(true);
    expect(analyzer.signal().frames).toBe(0);
  });

  it('leaves the caller’s samples as they were', () => {
    const left = withEvery(tone(1, -6), 500, NaN);
    const right = sine(SR, SR, 997, 1e30);
    const before = [left.slice(), right.slice()];
    const analyzer = new LoudnessAnalyzer(SR);
    analyzer.push(left, right);
    expect(left).toEqual(before[0]);
    expect(right).toEqual(before[1]);
  });
});
