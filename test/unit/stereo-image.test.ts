/** Stereo image: width, phase-coherent bass mono, mid/side balance. */
import { describe, expect, it } from 'vitest';
import { onlyStages, render, sine, toneAmplitude, startFadeSamples } from '../helpers/signals.ts';

const SR = 48000;
const stereoPair = () => [sine(SR, SR, 440, 0.4), sine(SR, SR, 550, 0.3, 0.7)] as const;

function gainDb(out: Float32Array, reference: Float32Array, f: number): number {
  return 20 * Math.log10(toneAmplitude(out, SR, f, SR / 4, SR) / toneAmplitude(reference, SR, f, SR / 4, SR));
}

describe('stereo image', () => {
  it('makes left and right identical at width 0', () => {
    const [l, r] = stereoPair();
    const out = render(l, r, { ...onlyStages('image'), 'image.width': 0 });
    expect(out.left.every((v, i) => v === out.right[i])).toBe(true);
  });

  it('is transparent at width 100 % and doubles the side at 200 %', () => {
    const [l, r] = stereoPair();
    const same = render(l, r, onlyStages('image'));
    expect(same.left.every((v, i) => i < startFadeSamples() || v === l[i])).toBe(true);
    const wide = render(l, r, { ...onlyStages('image'), 'image.width': 200 });
    const side = l.map((v, i) => 0.5 * (v - r[i]));
    const wideSide = wide.left.map((v, i) => 0.5 * (v - wide.right[i]));
    expect(gainDb(wideSide, side, 440)).toBeCloseTo(20 * Math.log10(2), 2);
  });

  it('removes the side below the bass-mono crossover and keeps the sum flat', () => {
    const bass = sine(SR, SR, 50, 0.3);
    const top = sine(SR, SR, 2000, 0.3);
    const values = { ...onlyStages('image'), 'image.bassMono.on': 1, 'image.bassMono.freq': 120 };
    // Side-only tones: L = x, R = -x.
    const lowSide = render(
      bass,
      bass.map((v) => -v),
      values,
    );
    expect(gainDb(lowSide.left, bass, 50)).toBeLessThan(-30);
    const highSide = render(
      top,
      top.map((v) => -v),
      values,
    );
    expect(Math.abs(gainDb(highSide.left, top, 2000))).toBeLessThan(0.1);
    // Mid tones pass at unity magnitude at every frequency: the crossover's all-pass, not a dip.
    for (const f of [30, 80, 120, 200, 1000]) {
      const x = sine(SR, SR, f, 0.3);
      const out = render(x, x.slice(), values);
      expect(Math.abs(gainDb(out.left, x, f)), `${f} Hz`).toBeLessThan(0.1);
    }
  });

  it('tilts mid against side by up to 6 dB with balance', () => {
    const [l, r] = stereoPair();
    const out = render(l, r, { ...onlyStages('image'), 'image.balance': 100 });
    const side = l.map((v, i) => 0.5 * (v - r[i]));
    const mid = l.map((v, i) => 0.5 * (v + r[i]));
    const outSide = out.left.map((v, i) => 0.5 * (v - out.right[i]));
    const outMid = out.left.map((v, i) => 0.5 * (v + out.right[i]));
    expect(gainDb(outSide, side, 440)).toBeCloseTo(6, 1);
    expect(gainDb(outMid, mid, 440)).toBeCloseTo(-6, 1);
  });
});
