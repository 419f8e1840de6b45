import { describe, expect, it } from 'vitest';
import { nextDrive } from '../../engine/src/realtime/loudness-assist.ts';

const options = { targetLufs: -14, minGainDb: -3, maxGainDb: 9, rateDbPerSecond: 0.5 };

describe('loudness assist', () => {
  it('moves the drive towards the target no faster than its rate', () => {
    expect(nextDrive(0, -20, 1, options)).toBeCloseTo(0.5, 9); // 6 LU short, half a dB per second
    expect(nextDrive(0, -10, 2, options)).toBeCloseTo(-1, 9);
    expect(nextDrive(0, -14.2, 1, options)).toBe(0); // within tolerance: still
  });

  it('stays inside the bounds the engineer set', () => {
    expect(nextDrive(8.9, -30, 10, options)).toBe(9);
    expect(nextDrive(-2.9, 0, 10, options)).toBe(-3);
  });

  it('holds the drive through silence and breaks', () => {
    expect(nextDrive(4, -Infinity, 1, options)).toBe(4);
    expect(nextDrive(4, NaN, 1, options)).toBe(4);
    expect(nextDrive(4, -60, 1, options)).toBe(4);
  });
});
