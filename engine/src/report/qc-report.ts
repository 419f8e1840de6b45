/**
 * The delivery QC report: is this master ready for its platforms? Loudness of input and output,
 * each codec's decoded peaks, each platform's playback gain, and the figures behind the numbers,
 * composed with the report builder from one typed data object. What the data lacks (no codec
 * checked, no series recorded) shows as a "not checked" line in its place, never as an empty or
 * broken plot. Browser-safe: the page's session export can build it too.
 */
import type { LoudnessReport } from '../loudness.ts';
import { renderReport, worstVerdict, type Badge, type Cell, type Section, type Verdict } from './builder.ts';
import { formatNumber } from './html.ts';
import { binValues, formatClock, histogram, linePlot, spectrumPlot, type Series } from './svg.ts';

/** A file's loudness as `measureLoudness` gives it; the sample peak is optional here. */
export type QcLoudness = Omit<LoudnessReport, 'samplePeakDbfs'> & { samplePeakDbfs?: number | null };

/** A regularly sampled measure: `values[i]` at `startS + i * stepS` seconds. */
export interface TimeSeries {
  startS?: number;
  stepS: number;
  /** null (or a non-finite number) where there is nothing to measure: silence has no loudness. */
  values: ArrayLike<number | null>;
}

/** The output encoded with one codec and decoded again. */
export interface QcCodecCheck {
  /** As shown: "AAC 256 kb/s", "Opus 160 kb/s". */
  codec: string;
  truePeakDbtp: number | null;
  /** Decoded samples beyond full scale: what a fixed-point decoder clips. */
  overs: number;
  integratedLufs: number | null;
  /** Why it could not be checked (no encoder, the decode failed): the row reads "not checked". */
  error?: string;
}

/** What a platform's loudness normalisation does to the output on playback. */
export interface QcPlatform {
  name: string;
  targetLufs: number;
  /** The gain the platform applies, dB: negative turns the master down. */
  gainDb: number;
  /** The platform raised this master (some platforms never turn quiet masters up). */
  turnedUp: boolean;
  /** True peak after the platform's gain. */
  peakAfterDbtp: number | null;
  /** The highest peak the platform's playback takes without clipping or limiting it. */
  ceilingDbtp: number;
}

export interface QcReportData {
  title: string;
  inputFile: string;
  outputFile: string;
  /** When the report was made, ISO 8601. */
  generatedAt: string;
  /** Preset and chain settings as the engineer reads them: { key: 'Preset', value: 'spotify' }. */
  settings: { key: string; value: string }[];
  targetLufs: number;
  /** Integrated loudness within targetLufs ± toleranceLu passes. */
  toleranceLu: number;
  ceilingDbtp: number;
  sampleRate?: number;
  durationS?: number;
  loudness: { input: QcLoudness | null; output: QcLoudness | null };
  /** Missing or empty: the codecs were not checked. */
  codecs?: QcCodecCheck[];
  /** Missing or empty: playback on the platforms was not checked. */
  platforms?: QcPlatform[];
  /** The output's measures over time. */
  series?: {
    momentaryLufs?: TimeSeries;
    shortTermLufs?: TimeSeries;
    truePeakDbtp?: TimeSeries;
    /** Positive dB = reducing, as the meters report it. */
    gainReductionDb?: { comp?: TimeSeries; limiter?: TimeSeries; clipper?: TimeSeries };
  };
  spectrum?: {
    /** As shown: "1/6 octave". */
    resolution: string;
    frequenciesHz: ArrayLike<number>;
    inputDb?: ArrayLike<number | null>;
    outputDb?: ArrayLike<number | null>;
  };
  notes?: string[];
}

export interface QcCheck {
  group: 'loudness' | 'codec' | 'platform';
  label: string;
  verdict: Verdict;
  detail: string;
}

// Peaks and loudness are compared at a hundredth of a dB: a limiter set to -1.0 dBTP that
// measures -0.999 has met its ceiling; float noise must not fail a master.
const EPSILON_DB = 0.005;

const db = (value: number | null | undefined, unit: string, digits = 1) =>
  value === null || value === undefined || !Number.isFinite(value)
    ? '—'
    : `${formatNumber(value, digits)} ${unit}`;

function finite(value: number | null | undefined): value is number {
  return value !== null && value !== undefined && Number.isFinite(value);
}

function loudnessCheck(data: QcReportData): QcCheck {
  const integrated = data.loudness.output?.integratedLufs;
  const target = `${formatNumber(data.targetLufs)} ±${formatNumber(data.toleranceLu)}`;
  if (!finite(integrated))
    return {
      group: 'loudness',
      label: 'Integrated',
      verdict: 'unchecked',
      detail: `no output loudness; target ${target}`,
    };
  const off = Math.abs(integrated - data.targetLufs) > data.toleranceLu + EPSILON_DB;
  return {
    group: 'loudness',
    label: 'Integrated',
    verdict: off ? 'fail' : 'pass',
    detail: `${db(integrated, 'LUFS')} ${off ? 'outside' : 'in'} ${target}`,
  };
}

function truePeakCheck(data: QcReportData): QcCheck {
  const peak = data.loudness.output?.truePeakDbtp;
  if (!finite(peak))
    return { group: 'loudness', label: 'True peak', verdict: 'unchecked', detail: 'no output true peak' };
  const over = peak > data.ceilingDbtp + EPSILON_DB;
  return {
    group: 'loudness',
    label: 'True peak',
    verdict: over ? 'fail' : 'pass',
    detail: `${db(peak, 'dBTP')} ${over ? '>' : '≤'} ${formatNumber(data.ceilingDbtp)}`,
  };
}

function codecVerdict(codec: QcCodecCheck, ceilingDbtp: number): Verdict {
  if (codec.error || !finite(codec.truePeakDbtp)) return 'unchecked';
  return codec.truePeakDbtp > ceilingDbtp + EPSILON_DB || codec.overs > 0 ? 'fail' : 'pass';
}

/** Where the output plays on a platform, LUFS: its loudness plus the platform's gain. */
function playbackLufs(data: QcReportData, platform: QcPlatform): number | null {
  const integrated = data.loudness.output?.integratedLufs;
  return finite(integrated) ? integrated + platform.gainDb : null;
}

/**
 * A platform fails when its playback peaks over what it takes; it warns when it plays the master
 * quieter than its target by more than the tolerance (it will not turn it up to its neighbours).
 */
function platformVerdict(data: QcReportData, platform: QcPlatform): Verdict {
  if (!finite(platform.peakAfterDbtp)) return 'unchecked';
  if (platform.peakAfterDbtp > platform.ceilingDbtp + EPSILON_DB) return 'fail';
  const plays = playbackLufs(data, platform);
  if (plays !== null && plays < platform.targetLufs - data.toleranceLu - EPSILON_DB) return 'warn';
  return 'pass';
}

/** Every check of the report, in the order the "at a glance" row shows them. */
export function qcChecks(data: QcReportData): QcCheck[] {
  const checks = [loudnessCheck(data), truePeakCheck(data)];
  const codecs = data.codecs ?? [];
  if (codecs.length === 0)
    checks.push({ group: 'codec', label: 'Codecs', verdict: 'unchecked', detail: 'no codec checked' });
  for (const codec of codecs)
    checks.push({
      group: 'codec',
      label: codec.codec,
      verdict: codecVerdict(codec, data.ceilingDbtp),
      detail:
        codec.error ??
        `${db(codec.truePeakDbtp, 'dBTP')}, ${codec.overs} over${codec.overs === 1 ? '' : 's'}`,
    });
  const platforms = data.platforms ?? [];
  if (platforms.length === 0)
    checks.push({
      group: 'platform',
      label: 'Platforms',
      verdict: 'unchecked',
      detail: 'no platform checked',
    });
  for (const platform of platforms)
    checks.push({
      group: 'platform',
      label: platform.name,
      verdict: platformVerdict(data, platform),
      detail: `${formatNumber(platform.gainDb, 1, true)} dB, peak ${db(platform.peakAfterDbtp, 'dBTP')}`,
    });
  return checks;
}

function verdictLine(checks: QcCheck[]): string {
  const count = (verdict: Verdict) => checks.filter((c) => c.verdict === verdict).length;
  const run = checks.length - count('unchecked');
  if (run === 0) return 'nothing was checked';
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const parts = [
    count('fail') > 0
      ? `${count('fail')} of ${plural(run, 'check')} failed`
      : `${plural(count('pass'), 'check')} passed`,
  ];
  if (count('warn')) parts.push(plural(count('warn'), 'warning'));
  // A pass with parts unchecked is not a clean bill: say what is missing on the stamp itself.
  if (count('unchecked')) parts.push(`${count('unchecked')} not checked`);
  return parts.join(', ');
}

const LOUDNESS_ROWS: Array<[keyof QcLoudness, string, string]> = [
  ['integratedLufs', 'Integrated', 'LUFS'],
  ['shortTermMaxLufs', 'Short-term max', 'LUFS'],
  ['momentaryMaxLufs', 'Momentary max', 'LUFS'],
  ['lra', 'Loudness range', 'LU'],
  ['truePeakDbtp', 'True peak', 'dBTP'],
  ['plr', 'PLR', 'dB'],
  ['samplePeakDbfs', 'Sample peak', 'dBFS'],
];

function loudnessTable(data: QcReportData, checks: QcCheck[]): Section {
  const { input, output } = data.loudness;
  const limits: Partial<Record<keyof QcLoudness, [string, Verdict]>> = {
    integratedLufs: [
      `${formatNumber(data.targetLufs)} ±${formatNumber(data.toleranceLu)}`,
      checks[0].verdict,
    ],
    truePeakDbtp: [`≤ ${formatNumber(data.ceilingDbtp)}`, checks[1].verdict],
  };
  const rows = LOUDNESS_ROWS.filter(
    ([key]) => key !== 'samplePeakDbfs' || finite(input?.[key]) || finite(output?.[key]),
  ).map(([key, label, unit]): Cell[] => {
    const [limit, verdict] = limits[key] ?? ['', undefined];
    const a = input?.[key];
    const b = output?.[key];
    return [
      label,
      formatNumber(a),
      { text: formatNumber(b), verdict: verdict === 'fail' ? 'fail' : undefined, numeric: true },
      finite(a) && finite(b) ? formatNumber(b - a, 1, true) : '—',
      limit,
      verdict ? { text: verdict === 'unchecked' ? 'not checked' : verdict, verdict } : '',
      unit,
    ];
  });
  return {
    kind: 'table',
    title: 'Loudness: input and output',
    span: 'half',
    columns: [
      { label: 'Measure' },
      { label: 'Input', numeric: true },
      { label: 'Output', numeric: true },
      { label: 'Change', numeric: true },
      { label: 'Limit', numeric: true },
      { label: '' },
      { label: 'Unit' },
    ],
    rows,
    note: input ? undefined : 'The input was not measured.',
  };
}

function codecSection(data: QcReportData): Section {
  const codecs = data.codecs ?? [];
  if (codecs.length === 0)
    return { kind: 'notes', title: 'Codecs', tone: 'unchecked', lines: ['no codec was encoded and decoded'] };
  const integrated = data.loudness.output?.integratedLufs;
  return {
    kind: 'table',
    title: 'Codecs: decoded output',
    columns: [
      { label: 'Codec' },
      { label: 'True peak dBTP', numeric: true },
      { label: 'Overs', numeric: true },
      { label: 'Integrated LUFS', numeric: true },
      { label: 'Change LU', numeric: true },
      { label: 'Result' },
    ],
    rows: codecs.map((codec): Cell[] => {
      const verdict = codecVerdict(codec, data.ceilingDbtp);
      const tpOver = finite(codec.truePeakDbtp) && codec.truePeakDbtp > data.ceilingDbtp + EPSILON_DB;
      return [
        codec.codec,
        { text: formatNumber(codec.truePeakDbtp), verdict: tpOver ? 'fail' : undefined, numeric: true },
        {
          text: codec.error ? '—' : String(codec.overs),
          verdict: codec.overs > 0 ? 'fail' : undefined,
          numeric: true,
        },
        formatNumber(codec.integratedLufs),
        finite(codec.integratedLufs) && finite(integrated)
          ? formatNumber(codec.integratedLufs - integrated, 1, true)
          : '—',
        codec.error ? { text: `not checked: ${codec.error}`, verdict } : { text: verdict, verdict },
      ];
    }),
    note: `Each codec passes when its decoded true peak stays at or under the ${formatNumber(data.ceilingDbtp)} dBTP ceiling with no samples beyond full scale.`,
  };
}

function platformSection(data: QcReportData): Section {
  const platforms = data.platforms ?? [];
  if (platforms.length === 0)
    return {
      kind: 'notes',
      title: 'Platforms',
      tone: 'unchecked',
      lines: ['playback normalisation was not simulated'],
    };
  return {
    kind: 'table',
    title: 'Platforms: playback normalisation',
    columns: [
      { label: 'Platform' },
      { label: 'Target LUFS', numeric: true },
      { label: 'Gain dB', numeric: true },
      { label: 'Turned up' },
      { label: 'Plays at LUFS', numeric: true },
      { label: 'Peak after dBTP', numeric: true },
      { label: 'Limit dBTP', numeric: true },
      { label: 'Result' },
    ],
    rows: platforms.map((p): Cell[] => {
      const verdict = platformVerdict(data, p);
      const peakOver = finite(p.peakAfterDbtp) && p.peakAfterDbtp > p.ceilingDbtp + EPSILON_DB;
      return [
        p.name,
        formatNumber(p.targetLufs),
        formatNumber(p.gainDb, 1, true),
        p.turnedUp ? 'yes' : 'no',
        {
          text: formatNumber(playbackLufs(data, p)),
          verdict: verdict === 'warn' ? 'warn' : undefined,
          numeric: true,
        },
        { text: formatNumber(p.peakAfterDbtp), verdict: peakOver ? 'fail' : undefined, numeric: true },
        formatNumber(p.ceilingDbtp),
        { text: verdict === 'unchecked' ? 'not checked' : verdict, verdict },
      ];
    }),
    note: 'A platform fails when its playback peaks over its limit, and warns when it plays the master more than the tolerance under its target.',
  };
}

/** A series worth drawing: at least two values to join. */
function usable(series: TimeSeries | undefined): series is TimeSeries {
  if (!series || series.stepS <= 0) return false;
  let count = 0;
  for (let i = 0; i < series.values.length && count < 2; i++) if (finite(series.values[i])) count++;
  return count >= 2;
}

function finiteRange(...lists: Array<ArrayLike<number | null> | undefined>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const list of lists)
    for (let i = 0; list && i < list.length; i++) {
      const v = list[i];
      if (!finite(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  return [lo, hi];
}

function timeSeries(
  series: TimeSeries,
  label: string,
  color: Series['color'],
  extra: Partial<Series> = {},
): Series {
  return { label, color, y: series.values, x0: series.startS ?? 0, dx: series.stepS, ...extra };
}

/** Ticks every `step` dB between floor and top, both rounded out to the step. */
function dbTicks(lo: number, hi: number, step: number): { min: number; max: number; ticks: number[] } {
  const min = Math.floor(lo / step) * step;
  const max = Math.ceil(hi / step) * step;
  const ticks = Array.from({ length: Math.round((max - min) / step) + 1 }, (_, i) => min + i * step);
  return { min, max, ticks };
}

function notChecked(title: string, line: string, span: 'full' | 'half'): Section {
  return { kind: 'notes', title, tone: 'unchecked', lines: [line], span };
}

// Loudness plots reach 30 LU under the target: lower is fade-outs and silence, which would
// squash the music into the top of the plot.
const LOUDNESS_DEPTH_LU = 30;
// Plot sizes near their size on screen, so the 12 px labels stay 12 px: a half panel is about
// 560 px wide in a 1280 px page. The stacked time plots under the loudness are lower.
const HALF = { widthPx: 560, heightPx: 260 };
const LOW = { heightPx: 210 };

function loudnessFigure(data: QcReportData): Section {
  const title = 'Loudness over time';
  const { momentaryLufs: m, shortTermLufs: s } = data.series ?? {};
  if (!usable(m) && !usable(s))
    return notChecked(title, 'no momentary or short-term loudness was recorded', 'full');
  const [lo, hi] = finiteRange(m?.values, s?.values);
  const range = dbTicks(
    Math.max(lo, data.targetLufs - LOUDNESS_DEPTH_LU),
    Math.max(hi, data.targetLufs + data.toleranceLu) + 1,
    6,
  );
  const series: Series[] = [];
  if (usable(m)) series.push(timeSeries(m, 'momentary', 'blue', { widthPx: 1 }));
  if (usable(s)) series.push(timeSeries(s, 'short-term', 'text', { widthPx: 1.8 }));
  const band = `target ${formatNumber(data.targetLufs)} ±${formatNumber(data.toleranceLu)} LUFS`;
  return {
    kind: 'figure',
    title,
    svg: linePlot({
      title: `${title}: ${data.outputFile}`,
      series,
      x: { kind: 'time', label: 'time' },
      y: { label: 'LUFS', ...range },
      band: { center: data.targetLufs, tolerance: data.toleranceLu, label: band },
    }),
    caption:
      `Output ${[usable(m) ? 'momentary (400 ms)' : '', usable(s) ? 'short-term (3 s)' : ''].filter(Boolean).join(' and ')} ` +
      `loudness against the ${band}; ` +
      `integrated ${db(data.loudness.output?.integratedLufs, 'LUFS')}. Values under ${formatNumber(range.min)} LUFS ride the floor.`,
  };
}

function histogramFigure(data: QcReportData): Section {
  const title = 'Short-term loudness distribution';
  const s = data.series?.shortTermLufs;
  if (!usable(s)) return notChecked(title, 'no short-term loudness was recorded', 'half');
  const [lo, hi] = finiteRange(s.values);
  const from = Math.floor(Math.max(lo, data.targetLufs - LOUDNESS_DEPTH_LU));
  const to = Math.ceil(Math.max(hi, data.targetLufs + data.toleranceLu)) + 1;
  const bins = binValues(s.values, { from, to, width: 1 });
  const total = bins.reduce((sum, b) => sum + b.value, 0);
  const integrated = data.loudness.output?.integratedLufs;
  return {
    kind: 'figure',
    title,
    span: 'half',
    svg: histogram({
      title: `${title}: ${data.outputFile}`,
      ...HALF,
      bins: bins.map((b) => ({ ...b, value: total > 0 ? (100 * b.value) / total : 0 })),
      label: 'short-term',
      color: 'blue',
      x: { label: 'LUFS' },
      y: { label: '% of time', format: (v) => `${formatNumber(v, 0)}%` },
      band: { center: data.targetLufs, tolerance: data.toleranceLu, label: 'target' },
      markers: finite(integrated) ? [{ value: integrated, label: 'integrated', color: 'text' }] : [],
    }),
    caption: `Share of time at each short-term loudness, 1 LU bins; silence and passages under ${formatNumber(from)} LUFS are not counted.`,
  };
}

function truePeakFigure(data: QcReportData): Section {
  const title = 'True peak over time';
  const tp = data.series?.truePeakDbtp;
  if (!usable(tp)) return notChecked(title, 'no true-peak series was recorded', 'full');
  const [lo, hi] = finiteRange(tp.values);
  const range = dbTicks(Math.max(lo, data.ceilingDbtp - 24), Math.max(hi, data.ceilingDbtp) + 0.5, 3);
  let over = 0;
  for (let i = 0; i < tp.values.length; i++) {
    const v = tp.values[i];
    if (finite(v) && v > data.ceilingDbtp + EPSILON_DB) over++;
  }
  return {
    kind: 'figure',
    title,
    svg: linePlot({
      title: `${title}: ${data.outputFile}`,
      ...LOW,
      series: [timeSeries(tp, 'true peak', 'cyan', { shape: 'step', fill: true })],
      x: { kind: 'time', label: 'time' },
      y: { label: 'dBTP', ...range },
      threshold: { value: data.ceilingDbtp, label: `ceiling ${formatNumber(data.ceilingDbtp)} dBTP` },
    }),
    caption: `Output true peak per ${formatNumber(tp.stepS * 1000, 0)} ms block against the ceiling: ${
      over === 0 ? 'no block over' : `${over} block${over === 1 ? '' : 's'} over`
    }.`,
  };
}

const GR_STAGES = [
  ['comp', 'compressor', 'amber'],
  ['limiter', 'limiter', 'red'],
  ['clipper', 'clipper', 'violet'],
] as const;

function gainReductionFigure(data: QcReportData): Section {
  const title = 'Gain reduction over time';
  const gr = data.series?.gainReductionDb ?? {};
  const stages = GR_STAGES.filter(([key]) => usable(gr[key]));
  if (stages.length === 0) return notChecked(title, 'no gain reduction was recorded', 'full');
  const [, deepest] = finiteRange(...stages.map(([key]) => gr[key]!.values));
  const depth = Math.max(3, Math.ceil(deepest));
  const step = depth <= 6 ? 1 : depth <= 12 ? 2 : 6;
  const range = dbTicks(-depth, 0, step);
  return {
    kind: 'figure',
    title,
    svg: linePlot({
      title: `${title}: ${data.outputFile}`,
      ...LOW,
      // Drawn hanging from 0 dB, as the page's meters show reduction.
      series: stages.map(([key, label, color]) => {
        const s = gr[key]!;
        return timeSeries(
          { ...s, values: Array.from(s.values, (v) => (finite(v) ? -v : null)) },
          label,
          color,
          { shape: 'step', fill: true, baseline: 0 },
        );
      }),
      x: { kind: 'time', label: 'time' },
      y: { label: 'dB', ...range },
    }),
    caption: `Gain reduction per stage, hanging from 0 dB; deepest ${formatNumber(deepest)} dB.`,
  };
}

function spectrumFigure(data: QcReportData): Section {
  const title = 'Spectrum: input and output';
  const sp = data.spectrum;
  const present = (values: ArrayLike<number | null> | undefined) =>
    values !== undefined &&
    sp !== undefined &&
    values.length === sp.frequenciesHz.length &&
    finiteRange(values)[0] < Infinity;
  const series: Series[] = [];
  if (sp && present(sp.inputDb))
    series.push({ label: 'input', color: 'cyan', x: sp.frequenciesHz, y: sp.inputDb! });
  if (sp && present(sp.outputDb))
    series.push({ label: 'output', color: 'amber', x: sp.frequenciesHz, y: sp.outputDb!, fill: true });
  if (!sp || series.length === 0) return notChecked(title, 'no spectrum was measured', 'half');
  const [lo, hi] = finiteRange(...series.map((s) => s.y));
  const range = dbTicks(Math.max(lo, hi - 72), hi + 1, 12);
  const missing = present(sp.inputDb)
    ? present(sp.outputDb)
      ? ''
      : ' The output was not measured.'
    : ' The input was not measured.';
  return {
    kind: 'figure',
    title,
    span: 'half',
    svg: spectrumPlot({ title, ...HALF, series, y: { label: 'dB', ...range } }),
    caption: `Long-term average level per ${sp.resolution} band, dB relative to a full-scale sine.${missing}`,
  };
}

/** The QC report as one self-contained HTML document. */
export function renderQcReport(data: QcReportData): string {
  const checks = qcChecks(data);
  const overall = worstVerdict(checks.map((c) => c.verdict));
  const badges: Badge[] = checks.map((c) => ({
    label: c.label,
    verdict: c.verdict,
    detail: c.detail,
    group: c.group,
  }));
  const sections: Section[] = [
    { kind: 'badges', title: 'At a glance', badges },
    loudnessTable(data, checks),
    { kind: 'keyValues', title: 'Settings', span: 'half', rows: data.settings },
    codecSection(data),
    platformSection(data),
    { kind: 'heading', text: 'Figures', note: `Measured on ${data.outputFile} unless marked.` },
    // The time plots stacked full width, so a moment lines up across them; then the two halves.
    loudnessFigure(data),
    truePeakFigure(data),
    gainReductionFigure(data),
    histogramFigure(data),
    spectrumFigure(data),
  ];
  if (data.notes?.length) sections.push({ kind: 'notes', title: 'Notes', lines: data.notes });
  const meta = [
    { key: 'Input', value: data.inputFile },
    { key: 'Output', value: data.outputFile },
    { key: 'Target', value: `${formatNumber(data.targetLufs)} ±${formatNumber(data.toleranceLu)} LUFS` },
    { key: 'Ceiling', value: `${formatNumber(data.ceilingDbtp)} dBTP` },
  ];
  if (data.sampleRate)
    meta.push({ key: 'Sample rate', value: `${formatNumber(data.sampleRate / 1000, 1)} kHz` });
  if (finite(data.durationS)) meta.push({ key: 'Duration', value: formatClock(data.durationS) });
  meta.push({ key: 'Generated', value: data.generatedAt });
  return renderReport({
    kicker: 'Mastering rig · delivery QC',
    title: data.title,
    subtitle: `${data.inputFile} → ${data.outputFile}`,
    meta,
    verdict: { verdict: overall, text: verdictLine(checks) },
    sections,
    footer: `Loudness per ITU-R BS.1770-4 and EBU R 128; true peak per BS.1770-4 Annex 2. Generated ${data.generatedAt}.`,
  });
}

const plain = (values: ArrayLike<number | null> | undefined) =>
  values === undefined ? undefined : Array.from(values, (v) => (finite(v) ? v : null));

const plainSeries = (series: TimeSeries | undefined) =>
  series === undefined
    ? undefined
    : { startS: series.startS ?? 0, stepS: series.stepS, values: plain(series.values)! };

/**
 * The report's data as JSON-ready plain values, with the verdicts the HTML shows: scripts read the
 * same checks a person sees. Series become arrays with null for gaps (JSON has no -Infinity).
 */
export function qcReportJson(data: QcReportData) {
  const checks = qcChecks(data);
  const gr = data.series?.gainReductionDb;
  return {
    format: 'rig-qc-report',
    version: 1,
    title: data.title,
    inputFile: data.inputFile,
    outputFile: data.outputFile,
    generatedAt: data.generatedAt,
    settings: data.settings,
    targetLufs: data.targetLufs,
    toleranceLu: data.toleranceLu,
    ceilingDbtp: data.ceilingDbtp,
    sampleRate: data.sampleRate ?? null,
    durationS: data.durationS ?? null,
    verdict: worstVerdict(checks.map((c) => c.verdict)),
    checks,
    loudness: data.loudness,
    codecs: (data.codecs ?? []).map((c) => ({ ...c, verdict: codecVerdict(c, data.ceilingDbtp) })),
    platforms: (data.platforms ?? []).map((p) => ({
      ...p,
      playbackLufs: playbackLufs(data, p),
      verdict: platformVerdict(data, p),
    })),
    series: {
      momentaryLufs: plainSeries(data.series?.momentaryLufs),
      shortTermLufs: plainSeries(data.series?.shortTermLufs),
      truePeakDbtp: plainSeries(data.series?.truePeakDbtp),
      gainReductionDb: gr && {
        comp: plainSeries(gr.comp),
        limiter: plainSeries(gr.limiter),
        clipper: plainSeries(gr.clipper),
      },
    },
    spectrum: data.spectrum && {
      resolution: data.spectrum.resolution,
      frequenciesHz: Array.from(data.spectrum.frequenciesHz),
      inputDb: plain(data.spectrum.inputDb),
      outputDb: plain(data.spectrum.outputDb),
    },
    notes: data.notes ?? [],
  };
}

export type QcReportJson = ReturnType<typeof qcReportJson>;
