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

export function formatSignedDb(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return '—';
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return `±${text}`;
  return value < 0 ? `−${text}` : `+${text}`;
}
