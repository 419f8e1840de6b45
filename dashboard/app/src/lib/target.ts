/**
 * How a loudness reading stands against the target: the panel's colours. Within a tolerance it
 * is on target; the verdict otherwise says which way to turn.
 */
import type { TargetState } from '../../../protocol.ts';

/** ±1 LU: what loudness-normalising platforms let pass without moving the master. */
export const ON_TARGET_LU = 1;

export type Verdict = 'on' | 'over' | 'under' | 'none';

export function loudnessVerdict(lufs: number, target: TargetState | null | undefined): Verdict {
  if (!target || target.lufs === null || !Number.isFinite(lufs)) return 'none';
  const delta = lufs - target.lufs;
  if (Math.abs(delta) <= ON_TARGET_LU) return 'on';
  return delta > 0 ? 'over' : 'under';
}

export function peakVerdict(dbtp: number, ceilingDbtp: number | null): Verdict {
  if (ceilingDbtp === null || !Number.isFinite(dbtp)) return 'none';
  return dbtp > ceilingDbtp ? 'over' : 'on';
}

/** Fixed-width figures: one decimal, a real minus sign, a dash for silence or "not yet". */
export function formatDb(value: number, digits = 1): string {
  if (value === -Infinity) return '−∞';
  if (!Number.isFinite(value)) return '—';
  const text = Math.abs(value).toFixed(digits);
  return value < 0 && Number(text) !== 0 ? `−${text}` : text;
}

/**
 * Loudness is undefined until its window has filled (NaN) and -Infinity in digital silence;
 * neither is a reading, so both show as a dash rather than a number or "−∞".
 */
export function formatLufs(lufs: number): string {
  return Number.isFinite(lufs) ? formatDb(lufs) : '—';
}

/**
 * Gain reduction as the attenuation it is: the meter frame counts reduction positive
 * (engine/src/meter-layout.ts), the page shows it as the gain it applies, like the bars'
 * scale (3 dB of reduction reads −3.0). Nothing reduced reads 0.0, never "−0.0".
 */
export function formatReduction(grDb: number): string {
  return formatDb(-Math.max(0, grDb));
}

export function formatSignedDb(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return '—';
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return `±${text}`;
  return value < 0 ? `−${text}` : `+${text}`;
}
