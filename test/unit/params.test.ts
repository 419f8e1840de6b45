import { describe, expect, it } from 'vitest';
import {
  PARAMETERS,
  checkValue,
  clampValue,
  defaultValues,
  getSpec,
  parseValue,
  positionToValue,
  valueToPosition,
} from '../../engine/src/params.ts';

describe('parameter schema', () => {
  it('declares every id once, with a default inside its range', () => {
    const ids = PARAMETERS.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of PARAMETERS) {
      expect(p.min, p.id).toBeLessThan(p.max);
      expect(p.default, p.id).toBeGreaterThanOrEqual(p.min);
      expect(p.default, p.id).toBeLessThanOrEqual(p.max);
      if (p.steps) expect(p.steps, p.id).toContain(p.default);
      if (p.taper === 'log') expect(p.min, p.id).toBeGreaterThan(0);
    }
  });

  it('names the closest id when a parameter is unknown', () => {
    expect(() => getSpec('comp.ration')).toThrow(
      /unknown parameter "comp.ration" \(did you mean "comp.ratio"\?\)/,
    );
  });

  it('snaps the stepped ratio knob to its bus-compressor detents', () => {
    const ratio = getSpec('comp.ratio');
    expect(clampValue(ratio, 2.4)).toBe(2);
    expect(clampValue(ratio, 2.6)).toBe(3);
    expect(clampValue(ratio, 100)).toBe(10);
    // Six detents share the knob's travel evenly, as on the hardware.
    expect([0, 0.2, 0.4, 0.55, 0.75, 1].map((p) => positionToValue(ratio, p))).toEqual([1.5, 2, 3, 4, 6, 10]);
  });

  it('round-trips positions through log, linear and dB tapers', () => {
    for (const p of PARAMETERS.filter((s) => !s.steps && !s.choices)) {
      for (const position of [0, 0.137, 0.5, 0.91, 1]) {
        expect(valueToPosition(p, positionToValue(p, position)), p.id).toBeCloseTo(position, 9);
      }
    }
    // A log-tapered frequency knob puts the geometric mean at mid-travel.
    const hp = getSpec('eq.hp.freq');
    expect(positionToValue(hp, 0.5)).toBeCloseTo(Math.sqrt(hp.min * hp.max), 9);
  });

  it('rejects out-of-range and non-numeric values with the parameter named', () => {
    expect(() => checkValue(getSpec('limiter.ceiling'), 0.5)).toThrow(
      /"limiter.ceiling": 0.5 is out of range -3..0 dBTP/,
    );
    expect(() => parseValue(getSpec('comp.attack'), 'fast')).toThrow(/"comp.attack": "fast" is not a number/);
    expect(() => parseValue(getSpec('comp.ratio'), '5')).toThrow(/not one of its steps/);
    expect(() => clampValue(getSpec('input.trim'), NaN)).toThrow(/not a finite number/);
  });

  it('parses switch positions by name', () => {
    expect(parseValue(getSpec('character.mode'), 'tube')).toBe(1);
    expect(parseValue(getSpec('eq.hp.slope'), '24 dB/oct')).toBe(2);
    expect(() => parseValue(getSpec('eq.bell1.mode'), 'centre')).toThrow(/one of: stereo, mid, side/);
  });

  it('keeps the output trim from lifting anything over the limiter ceiling', () => {
    expect(getSpec('output.trim').max).toBe(0);
    expect(defaultValues()['limiter.ceiling']).toBe(-1);
  });
});
