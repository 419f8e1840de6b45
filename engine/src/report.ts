/** Human-readable loudness reports for the command line. */
import type { LoudnessReport, SignalCounts } from './loudness.ts';

const ROWS: Array<[keyof LoudnessReport, string, string]> = [
  ['integratedLufs', 'Integrated', 'LUFS'],
  ['lra', 'Loudness range', 'LU'],
  ['truePeakDbtp', 'True peak', 'dBTP'],
  ['plr', 'PLR', 'dB'],
  ['momentaryMaxLufs', 'Max momentary', 'LUFS'],
  ['shortTermMaxLufs', 'Max short-term', 'LUFS'],
  ['samplePeakDbfs', 'Sample peak', 'dBFS'],
];

/** A column: a loudness report, with the signal's counts when it measured a file. */
export type ReportColumn = LoudnessReport & Partial<SignalCounts>;

function cell(value: number | null): string {
  return value === null || !Number.isFinite(value) ? '—' : value.toFixed(1);
}

/** What a column's numbers do not say by themselves: no audio at all, or samples repaired to measure. */
export function signalNotes(counts: Partial<SignalCounts>): string[] {
  const { frames, channels, nonFiniteSamples = 0, clampedSamples = 0 } = counts;
  if (frames === 0) return ['empty: no audio frames (0 frames), nothing to measure'];
  const notes: string[] = [];
  const samples = frames !== undefined && channels !== undefined ? frames * channels : undefined;
  if (nonFiniteSamples > 0 && nonFiniteSamples === samples)
    notes.push(
      `non-finite throughout: all ${nonFiniteSamples} samples (measured as silence, as the live chain plays them)`,
    );
  else if (nonFiniteSamples > 0)
    notes.push(`non-finite samples: ${nonFiniteSamples} (measured as silence, as the live chain plays them)`);
  if (clampedSamples > 0)
    notes.push(
      `samples beyond +30 dBFS: ${clampedSamples} (measured at +30 dBFS, where the live chain clamps its input)`,
    );
  return notes;
}

/** One column per report: `formatReports({ input, output })`, then each column's notes. */
export function formatReports(columns: Record<string, ReportColumn>): string {
  const names = Object.keys(columns);
  const width = Math.max(10, ...names.map((n) => n.length));
  const lines = [`${''.padEnd(16)}${names.map((n) => n.padStart(width)).join('  ')}`];
  for (const [key, label, unit] of ROWS) {
    lines.push(
      `${label.padEnd(16)}${names.map((n) => cell(columns[n][key]).padStart(width)).join('  ')}  ${unit}`,
    );
  }
  const notes = names.flatMap((n) => signalNotes(columns[n]).map((note) => `${n}: ${note}`));
  if (notes.length > 0) lines.push('', ...notes);
  return lines.join('\n');
}
