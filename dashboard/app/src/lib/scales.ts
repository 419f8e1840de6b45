/**
 * Display scales of the meters: where a level sits on a bar, and which ticks to draw. A mastering
 * meter spends its height where the decisions are made, near the top, so the level scale is
 * piecewise linear with more room per dB towards 0 dBFS.
 */

/** [dB, fraction of the bar's height]; the bar's bottom is the first entry, its top the last. */
const LEVEL_BREAKPOINTS: readonly (readonly [number, number])[] = [
  [-60, 0],
  [-40, 0.12],
  [-30, 0.24],
  [-20, 0.4],
  [-12, 0.58],
  [-6, 0.75],
  [-3, 0.86],
  [0, 0.97],
  [3, 1],
];

/** Labelled ticks; the top +3 dB is headroom for overs and carries no label of its own. */
export const LEVEL_TICKS_DB: readonly number[] = [0, -3, -6, -9, -12, -18, -24, -30, -40, -50, -60];
export const LEVEL_FLOOR_DB = LEVEL_BREAKPOINTS[0][0];

/** dB -> 0..1 of the bar; below the floor (and -Infinity, silence) is 0. */
export function levelFraction(db: number): number {
  if (!(db > LEVEL_BREAKPOINTS[0][0])) return 0;
  for (let i = 1; i < LEVEL_BREAKPOINTS.length; i++) {
    const [db1, f1] = LEVEL_BREAKPOINTS[i];
    if (db <= db1) {
      const [db0, f0] = LEVEL_BREAKPOINTS[i - 1];
      return f0 + ((db - db0) / (db1 - db0)) * (f1 - f0);
    }
  }
  return 1;
}

/** Gain reduction: the first 6 dB (where glue compression lives) get most of the travel. */
const GR_BREAKPOINTS: readonly (readonly [number, number])[] = [
  [0, 0],
  [1, 0.14],
  [3, 0.38],
  [6, 0.62],
  [12, 0.84],
  [20, 1],
];
export const GR_TICKS_DB: readonly number[] = [0, 1, 2, 3, 6, 9, 12, 20];
export const GR_MAX_DB = GR_BREAKPOINTS[GR_BREAKPOINTS.length - 1][0];

export function grFraction(db: number): number {
  if (!(db > 0)) return 0;
  for (let i = 1; i < GR_BREAKPOINTS.length; i++) {
    const [db1, f1] = GR_BREAKPOINTS[i];
    if (db <= db1) {
      const [db0, f0] = GR_BREAKPOINTS[i - 1];
      return f0 + ((db - db0) / (db1 - db0)) * (f1 - f0);
    }
  }
  return 1;
}

/** Frequency axis of the spectrum: log, the band centres' own span. */
export const SPECTRUM_MIN_HZ = 20;
export const SPECTRUM_MAX_HZ = 20000;
export const SPECTRUM_FLOOR_DB = -90;
export const SPECTRUM_TOP_DB = 0;
export const SPECTRUM_FREQ_TICKS: readonly number[] = [20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000];
export const SPECTRUM_DB_TICKS: readonly number[] = [0, -12, -24, -36, -48, -60, -72, -84];

export function frequencyFraction(hz: number): number {
  return Math.log(hz / SPECTRUM_MIN_HZ) / Math.log(SPECTRUM_MAX_HZ / SPECTRUM_MIN_HZ);
}

export function spectrumFraction(db: number): number {
  if (!(db > SPECTRUM_FLOOR_DB)) return 0;
  return Math.min(1, (db - SPECTRUM_FLOOR_DB) / (SPECTRUM_TOP_DB - SPECTRUM_FLOOR_DB));
}

export function formatHz(hz: number): string {
  return hz >= 1000 ? `${hz / 1000}k` : String(hz);
}

/** Loudness history: wide enough for a quiet acoustic master and a loud club master alike. */
export const HISTORY_TOP_LUFS = -3;
export const HISTORY_FLOOR_LUFS = -45;
export const HISTORY_LUFS_TICKS: readonly number[] = [-6, -12, -18, -24, -30, -36, -42];

export function historyFraction(lufs: number): number {
  if (!(lufs > HISTORY_FLOOR_LUFS)) return 0;
  return Math.min(1, (lufs - HISTORY_FLOOR_LUFS) / (HISTORY_TOP_LUFS - HISTORY_FLOOR_LUFS));
}
