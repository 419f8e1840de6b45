/** Character: oversampled saturation (aliasing, harmonic signature, level) and the air shelf. */
import { describe, expect, it } from 'vitest';
import { onlyStages, render, sine, toneAmplitude } from '../helpers/signals.ts';

const SR = 48000;
const db = (ratio: number) => 20 * Math.log10(ratio);

/** Highest level (relative to the fundamental) of anything on a 50 Hz grid that is not a harmonic. */
function worstAliasDb(x: Float32Array, fundamental: number): number {
  const fund = toneAmplitude(x, SR, fundamental);
  let worst = -Infinity;
  for (let f = 50; f < SR / 2 - 50; f += 50) {
    const nearestHarmonic = Math.round(f / fundamental) * fundamental;
    if (Math.abs(f - nearestHarmonic) < 200) continue;
    worst = Math.max(worst, db(toneAmplitude(x, SR, f) / fund));
  }
  return worst;
}

describe('character', () => {
  it('keeps aliases of a full-drive 15 kHz sine more than 80 dB below it, in both modes', () => {
    for (const mode of [0, 1]) {
      const x = sine(SR, SR, 15000, 1);
      const out = render(x, x.slice(), { ...onlyStages('character'), 'character.drive': 24, 'character.mix': 100, 'character.mode': mode });
      expect(worstAliasDb(out.left.subarray(8000, 8000 + 32768), 15000), `mode ${mode}`).toBeLessThan(-80);
    }
  });

  it('gives tape even-dominant and tube odd-dominant harmonics', () => {
    const harmonics = (mode: number) => {
      const x = sine(SR, SR, 1000, 0.5);
      const out = render(x, x.slice(), { ...onlyStages('character'), 'character.drive': 12, 'character.mix': 100, 'character.mode': mode }).left.subarray(8000, 40000);
      const h1 = toneAmplitude(out, SR, 1000);
      return { second: db(toneAmplitude(out, SR, 2000) / h1), third: db(toneAmplitude(out, SR, 3000) / h1) };
    };
    const tape = harmonics(0);
    const tube = harmonics(1);
    expect(tape.second).toBeGreaterThan(tape.third);
    expect(tube.third).toBeGreaterThan(tube.second + 40);
    expect(tube.third).toBeGreaterThan(-60); // audibly there
  });

  it('keeps the level of a moderate signal roughly constant as drive rises', () => {
    const levels = [0, 12, 24].map((drive) => {
      const x = sine(SR, SR, 1000, 0.1);
      const out = render(x, x.slice(), { ...onlyStages('character'), 'character.drive': drive, 'character.mix': 100, 'character.mode': 1 });
      return db(toneAmplitude(out.left, SR, 1000, SR / 4, SR) / 0.1);
    });
    for (const level of levels) expect(Math.abs(level)).toBeLessThan(1.5);
  });

  it('lifts the top with air by the amount set', () => {
    const gainAt = (f: number) => {
      const x = sine(SR, SR, f, 0.1);
      const out = render(x, x.slice(), { ...onlyStages('character'), 'character.air': 6, 'character.airFreq': 8000 });
      return db(toneAmplitude(out.left, SR, f, SR / 4, SR) / 0.1);
    };
    // The analog high shelf (RBJ prototype, Q 0.5) at 6 dB: its curve is what air should follow.
    const analog = (f: number) => {
      const a = 10 ** (6 / 40), sa = Math.sqrt(a), q = 0.5, w = f / 8000;
      const mag2 = ((a - a * a * w * w) ** 2 + ((a * sa * w) / q) ** 2) / ((a - w * w) ** 2 + ((sa * w) / q) ** 2);
      return 10 * Math.log10(mag2);
    };
    for (const f of [200, 2000, 8000, 16000]) expect(Math.abs(gainAt(f) - analog(f)), `${f} Hz`).toBeLessThan(0.3);
    expect(gainAt(16000)).toBeGreaterThan(4);
  });

  it('is an exact delay at its defaults and glides without clicks', () => {
    const x = sine(SR, SR, 440, 0.5);
    const plain = render(x, x.slice(), onlyStages('character'));
    expect(plain.left.every((v, i) => v === x[i])).toBe(true);
    const moved = render(x, x.slice(), { ...onlyStages('character'), 'character.mix': 100 }, {
      block: 256,
      onBlock: (chain, start) => {
        if (start === 256 * 40) chain.set('character.drive', 24);
        if (start === 256 * 80) chain.set('character.air', 12);
        if (start === 256 * 120) chain.set('character.mode', 1);
      },
    });
    let maxStep = 0;
    for (let i = 1000; i < moved.left.length; i++) maxStep = Math.max(maxStep, Math.abs(moved.left[i] - moved.left[i - 1]));
    // A 440 Hz tone at 0.5 moves at most 0.03 per sample; with 12 dB of air and saturation
    // harmonics a little more. A click would jump by a large part of the amplitude.
    expect(maxStep).toBeLessThan(0.2);
  });
});
