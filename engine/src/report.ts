/** Human-readable loudness reports for the command line. */
import type { LoudnessReport } from './loudness.ts';

const ROWS: Array<[keyof LoudnessReport, string, string]> = [
  ['integratedLufs', 'Integrated', 'LUFS'],
  ['lra', 'Loudness range', 'LU'],
  ['truePeakDbtp', 'True peak', 'dBTP'],
  ['plr', 'PLR', 'dB'],
  ['momentaryMaxLufs', 'Max momentary', 'LUFS'],
  ['shortTermMaxLufs', 'Max short-term', 'LUFS'],
  ['samplePeakDbfs', 'Sample peak', 'dBFS'],
];

function cell(value: number | null): string {
  return value === null || !Number.isFinite(value) ? '—' : value.toFixed(1);
}

/** One column per report: `formatReports({ input, output })`. */
export function formatReports(columns: Record<string, LoudnessReport>): string {
  const names = Object.keys(columns);
  const width = Math.max(10, ...names.map((n) => n.length));
  const lines = [`${''.padEnd(16)}${names.map((n) => n.padStart(width)).join('  ')}`];
  for (const [key, label, unit] of ROWS) {
    lines.push(
      `${label.padEnd(16)}${names.map((n) => cell(columns[n][key]).padStart(width)).join('  ')}  ${unit}`,
    );
  }
  return lines.join('\n');
}
