/** The drive search's decisions, without rendering audio: when to step, and which of the ways of stopping applies. */
import { describe, expect, it } from 'vitest';
import { MAX_PASSES, decideDrive, plateauStart, type DrivePass } from '../../engine/src/drive-search.ts';
import { describeStop } from '../../engine/src/master.ts';

// limiter.gain's range in the schema.
const RANGE = { min: -12, max: 24 };
const pass = (gainDb: number, lufs: number): DrivePass => ({ gainDb, lufs });

describe('drive search', () => {
  it('stops on target within 0.1 LU', () => {
    expect(decideDrive([pass(6, -14.08)], -14, RANGE)).toEqual({ stop: 'on-target' });
  });

  it('steps by the distance to the target first, then along the secant', () => {
    expect(decideDrive([pass(6, -17)], -14, RANGE)).toEqual({ next: 9 });
    // 3 dB of drive gained 1.5 LU: half a LU per dB, so the remaining 1.5 LU needs 3 dB more.
    const next = decideDrive([pass(6, -17), pass(9, -15.5)], -14, RANGE);
    expect(next).toEqual({ next: 12 });
  });

  it('says the range ended when the drive it needs is past the end of the range', () => {
    expect(decideDrive([pass(24, -36)], -14, RANGE)).toEqual({ stop: 'range-ended' });
    // The other end: even the least drive is too loud.
    expect(decideDrive([pass(-12, -3)], -14, RANGE)).toEqual({ stop: 'range-ended' });
  });

  it('says loudness stopped rising when a pass 1 dB or more up gained under 0.05 LU', () => {
    const passes = [pass(14.2, -8.12), pass(16, -8.09)];
    expect(plateauStart(passes)).toEqual(pass(14.2, -8.12));
    expect(decideDrive(passes, -7, RANGE)).toEqual({ stop: 'stopped-rising' });
  });

  it('prefers "stopped rising" over "range ended" when the last 1 dB or more at the end of the range gained nothing', () => {
    expect(decideDrive([pass(20, -8.1), pass(24, -8.08)], -7, RANGE)).toEqual({ stop: 'stopped-rising' });
  });

  it('does not give up on a flat step smaller than 1 dB: it probes at least 1 dB further', () => {
    // 0.4 dB gained 0.01 LU: not evidence yet, and the secant is unusable (slope 0.025 LU/dB).
    const passes = [pass(14.2, -7.45), pass(14.6, -7.44)];
    expect(plateauStart(passes)).toBeUndefined();
    expect(decideDrive(passes, -7.2, RANGE)).toEqual({ next: 15.6 });
  });

  it('does not give up when a 1 dB step gained 0.05 LU or more', () => {
    const decision = decideDrive([pass(14, -8.2), pass(15, -8.14)], -8, RANGE);
    expect(decision).toHaveProperty('next');
    expect((decision as { next: number }).next).toBeGreaterThan(15);
  });

  it('stops after the pass limit when nothing else ended the search', () => {
    // A chain whose loudness keeps oscillating around the target never settles.
    const passes = Array.from({ length: MAX_PASSES }, (_, i) => pass(6 + (i % 2) * 2, i % 2 ? -13 : -15));
    expect(decideDrive(passes, -14, RANGE)).toEqual({ stop: 'pass-limit' });
    expect(decideDrive(passes.slice(0, -1), -14, RANGE)).toHaveProperty('next');
  });
});

describe('the warning when the drive search stops short of the target', () => {
  const reduction = { loudestDb: 0.5, maxDb: 1 };

  it('names the bottom of the range when even the least drive is too loud, with the input trim it took', () => {
    // Below the limiter's least drive (-12 dB) the search turns input.trim down, to -24 dB:
    // a drive of -36 dB is the bottom of the range.
    const warning = describeStop('range-ended', -40, pass(-36, -31.5), reduction, {});
    expect(warning).toBe(
      'target -40 LUFS not reached: the drive range ends at its bottom, limiter drive -12.0 dB with input.trim -24.0 dB (-31.5 LUFS, limiter reducing 0.5 dB on the loudest passages), 8.5 LU over; lower output.trim',
    );
    expect(warning).not.toMatch(/raise|short/);
  });

  it('names the top of the range when the most drive is not loud enough', () => {
    expect(describeStop('range-ended', -14, pass(24, -36), reduction, {})).toMatch(
      /^target -14 LUFS not reached: the drive range ends at \+24\.0 dB \(-36\.0 LUFS.*\), 22\.0 LU short; raise input\.trim$/,
    );
  });
});
