/**
 * The drive search of `rig master`: from the passes rendered so far, the next limiter drive to
 * try, or why to stop. Pure, so every way of stopping is testable without rendering audio.
 */
import { getSpec, type ParameterValues } from './params.ts';

export interface DrivePass {
  /**
   * The drive, dB: the limiter's, and below the limiter's least, that least with input.trim
   * turned down by the rest (driveSettings below).
   */
  gainDb: number;
  /** Integrated loudness of the pass; -Infinity when it measured silent. */
  lufs: number;
}

export interface DriveRange {
  min: number;
  max: number;
}

/**
 * Why the search ended: on target; loudness stopped rising (more drive only deepened the
 * limiting); the drive range ended before the target; or the search ran out of passes.
 */
export type SearchStop = 'on-target' | 'stopped-rising' | 'range-ended' | 'pass-limit';

export type DriveDecision = { next: number } | { stop: SearchStop };

// Within this the measured loudness counts as on target: a third of the +-0.3 LU promise,
// leaving room for the last pass's dither and the meter's own 0.1 LU tolerance.
export const TOLERANCE_LU = 0.1;
export const MAX_PASSES = 8;
// "Stopped rising" needs evidence: a pass that raised the drive by at least PROBE_STEP_DB and
// gained less than FLAT_GAIN_LU. Renders are deterministic, so 0.05 LU is the limiter flattening
// (a slope under 0.05 LU/dB, where the secant stops being usable), not measurement noise.
export const PROBE_STEP_DB = 1;
export const FLAT_GAIN_LU = 0.05;

/**
 * The pass that shows loudness has stopped rising: among the earlier passes at least
 * PROBE_STEP_DB below the last one's drive, the nearest, when the last pass gained less than
 * FLAT_GAIN_LU over it. Undefined while there is no such evidence.
 */
export function plateauStart(passes: readonly DrivePass[]): DrivePass | undefined {
  const last = passes.at(-1);
  if (!last) return undefined;
  let below: DrivePass | undefined;
  for (const pass of passes.slice(0, -1)) {
    if (pass.gainDb <= last.gainDb - PROBE_STEP_DB && (!below || pass.gainDb > below.gainDb)) below = pass;
  }
  return below && last.lufs - below.lufs < FLAT_GAIN_LU ? below : undefined;
}

export function decideDrive(
  passes: readonly DrivePass[],
  targetLufs: number,
  range: DriveRange,
): DriveDecision {
  const last = passes.at(-1);
  if (!last) throw new Error('decideDrive needs at least one rendered pass');
  const error = targetLufs - last.lufs;
  if (Math.abs(error) <= TOLERANCE_LU) return { stop: 'on-target' };
  if (error > 0 && plateauStart(passes)) return { stop: 'stopped-rising' };
  let next = last.gainDb + error;
  const previous = passes.at(-2);
  // Secant step: the limiter compresses, so loudness grows less than 1 dB per dB of drive.
  const slope = previous ? (last.lufs - previous.lufs) / (last.gainDb - previous.gainDb) : NaN;
  if (Number.isFinite(slope) && slope > FLAT_GAIN_LU) next = last.gainDb + error / slope;
  else if (previous && error > 0) next = Math.max(next, last.gainDb + PROBE_STEP_DB); // flat so far: probe far enough to tell
  next = Math.min(range.max, Math.max(range.min, next));
  if (next === last.gainDb) return { stop: 'range-ended' };
  if (passes.length >= MAX_PASSES) return { stop: 'pass-limit' };
  return { next };
}

/**
 * The search's range. Its top is the limiter's most drive. Its bottom reaches below the
 * limiter's least drive through input.trim, turned down from the setting to its own least: a
 * float file at +30 dBFS (what the chain takes in before it clamps) needs more than -12 dB.
 */
export function driveRange(values: ParameterValues): DriveRange {
  const gain = getSpec('limiter.gain');
  const trim = getSpec('input.trim');
  return { min: gain.min - ((values['input.trim'] ?? trim.default) - trim.min), max: gain.max };
}

/** A drive as the chain's settings: the limiter's drive, and the input trim below its least. */
export function driveSettings(
  driveDb: number,
  values: ParameterValues,
): { limiterGainDb: number; inputTrimDb: number } {
  const least = getSpec('limiter.gain').min;
  const trimDb = values['input.trim'] ?? getSpec('input.trim').default;
  return driveDb >= least
    ? { limiterGainDb: driveDb, inputTrimDb: trimDb }
    : { limiterGainDb: least, inputTrimDb: trimDb + driveDb - least };
}

/** The chain's values for a master at `driveDb` under `ceilingDbtp`. */
export function valuesAtDrive(
  values: ParameterValues,
  driveDb: number,
  ceilingDbtp: number,
): ParameterValues {
  const settings = driveSettings(driveDb, values);
  return {
    ...values,
    'limiter.ceiling': ceilingDbtp,
    'limiter.gain': settings.limiterGainDb,
    'input.trim': settings.inputTrimDb,
  };
}
