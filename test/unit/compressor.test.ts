/** The glue compressor, alone in the chain: static curve, time constants, auto release, sidechain. */
import { describe, expect, it } from 'vitest';
import { meterValue } from '../../engine/src/meter-layout.ts';
import { onlyStages, render, rms, sine } from '../helpers/signals.ts';

const SR = 48000;

/** Giannoulis et al. 2012, written out independently of the native code. */
function expectedReductionDb(levelDb: number, threshold: number, ratio: number, knee: number): number {
  const over = levelDb - threshold;
  if (2 * over <= -knee) return 0;
  if (2 * Math.abs(over) < knee) return ((1 - 1 / ratio) * (over + knee / 2) ** 2) / (2 * knee);
  return (1 - 1 / ratio) * over;
}

/** A DC step (the sidechain high-pass off) makes the gain readable sample by sample. */
function dcSteps(levels: Array<[number, number]>): Float32Array {
  const out: number[] = [];
  for (const [db, seconds] of levels) for (let i = 0; i < seconds * SR; i++) out.push(10 ** (db / 20));
  return Float32Array.from(out);
}

describe('glue compressor', () => {
  it('follows the soft-knee static curve', () => {
    const failures: string[] = [];
    for (const knee of [0, 6, 12]) {
      for (const ratio of [2, 4, 10]) {
        for (let level = -40; level <= -2; level += 4) {
          const x = dcSteps([[level, 0.5]]);
          const out = render(x, x.slice(), {
            ...onlyStages('comp'),
            'comp.threshold': -20,
            'comp.ratio': ratio,
            'comp.knee': knee,
            'comp.attack': 1,
            'comp.scHpf.on': 0,
          });
          const gainDb = 20 * Math.log10(out.left[x.length - 1] / x[x.length - 1]);
          const expected = -expectedReductionDb(level, -20, ratio, knee);
          // 0.05 dB: after 0.5 s at 1 ms attack the envelope has settled to far better than that.
          if (Math.abs(gainDb - expected) > 0.05)
            failures.push(
              `knee ${knee} ratio ${ratio} at ${level} dB: ${gainDb.toFixed(2)} vs ${expected.toFixed(2)}`,
            );
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('reaches 63 % of a gain change in the attack and release times', () => {
    for (const [attackMs, releaseMs] of [
      [10, 100],
      [1, 500],
      [50, 1000],
    ]) {
      const x = dcSteps([
        [-40, 0.5],
        [-10, 2],
        [-40, 4],
      ]);
      const out = render(x, x.slice(), {
        ...onlyStages('comp'),
        'comp.threshold': -30,
        'comp.ratio': 10,
        'comp.knee': 0,
        'comp.attack': attackMs,
        'comp.release': releaseMs,
        'comp.scHpf.on': 0,
      });
      const grDb = (i: number) => -20 * Math.log10(out.left[i] / x[i]);
      const full = grDb(Math.round(2.49 * SR));
      const attackStart = SR / 2;
      let i = attackStart;
      while (grDb(i) < 0.632 * full) i++;
      const measuredAttack = ((i - attackStart) / SR) * 1000;
      const releaseStart = Math.round(2.5 * SR);
      let j = releaseStart;
      while (grDb(j) > 0.368 * full) j++;
      const measuredRelease = ((j - releaseStart) / SR) * 1000;
      // One-pole smoothing: 63.2 % after one time constant; 2 % + one sample covers discretisation.
      expect(Math.abs(measuredAttack - attackMs)).toBeLessThanOrEqual(attackMs * 0.02 + 1000 / SR);
      expect(Math.abs(measuredRelease - releaseMs)).toBeLessThanOrEqual(releaseMs * 0.02 + 1000 / SR);
    }
  });

  it('releases a short overload faster than a sustained one with auto release', () => {
    const releaseTime = (overloadSeconds: number) => {
      const x = dcSteps([
        [-40, 0.5],
        [-10, overloadSeconds],
        [-40, 4],
      ]);
      const out = render(x, x.slice(), {
        ...onlyStages('comp'),
        'comp.threshold': -30,
        'comp.ratio': 10,
        'comp.knee': 0,
        'comp.attack': 0.1,
        'comp.release': 300,
        'comp.autoRelease': 1,
        'comp.scHpf.on': 0,
      });
      const start = Math.round((0.5 + overloadSeconds) * SR);
      let i = start;
      while (-20 * Math.log10(out.left[i] / x[i]) > 1) i++;
      return (i - start) / SR;
    };
    expect(releaseTime(0.05) * 2).toBeLessThan(releaseTime(3));
  });

  it('ignores the bass with the sidechain high-pass on', () => {
    const grFor = (on: number) => {
      const x = sine(SR, SR, 40, 0.5);
      const out = render(x, x.slice(), {
        ...onlyStages('comp'),
        'comp.threshold': -20,
        'comp.ratio': 4,
        'comp.scHpf.on': on,
        'comp.scHpf.freq': 150,
      });
      return meterValue(out.chain.meters, 'comp.grDb');
    };
    expect(grFor(0)).toBeGreaterThan(5);
    expect(grFor(1)).toBeLessThan(grFor(0) - 4);
  });

  it('adds makeup gain and blends the dry signal with mix', () => {
    const x = sine(SR, SR, 1000, 0.01); // -40 dBFS: below threshold, no reduction
    const made = render(x, x.slice(), { ...onlyStages('comp'), 'comp.makeup': 6 });
    expect(20 * Math.log10(rms(made.left, SR / 2, SR) / rms(x, SR / 2, SR))).toBeCloseTo(6, 2);
    const loud = sine(SR, SR, 1000, 1);
    const wet = render(loud, loud.slice(), {
      ...onlyStages('comp'),
      'comp.threshold': -30,
      'comp.ratio': 10,
      'comp.mix': 100,
    });
    const half = render(loud, loud.slice(), {
      ...onlyStages('comp'),
      'comp.threshold': -30,
      'comp.ratio': 10,
      'comp.mix': 50,
    });
    const level = (y: Float32Array) => rms(y, SR / 2, SR);
    // Parallel compression: half dry plus half compressed, sample for sample.
    expect(level(half.left)).toBeCloseTo(0.5 * (level(wet.left) + level(loud)), 3);
  });

  it('reports the gain reduction it applies', () => {
    const x = dcSteps([[-10, 1]]);
    let reading = NaN;
    render(
      x,
      x.slice(),
      { ...onlyStages('comp'), 'comp.threshold': -30, 'comp.ratio': 4, 'comp.knee': 0, 'comp.scHpf.on': 0 },
      {
        onBlock: (chain, start) => {
          if (start >= SR / 2 && Number.isNaN(reading)) reading = meterValue(chain.meters, 'comp.grDb');
        },
      },
    );
    expect(reading).toBeCloseTo(15, 1);
  });
});
