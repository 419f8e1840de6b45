/**
 * Plots as inline SVG markup: time series against a target band and a ceiling, histograms and
 * log-frequency spectra. Every plot has a viewBox, so it scales to its column on screen and on
 * paper, and carries its colours twice: as attributes (the SVG alone still reads) and as classes
 * that the report's stylesheet (PLOT_CSS) maps to the palette, so print can swap in darker ink.
 */
import { COLORS, type ColorName } from '../palette.ts';
import { decimateMinMax } from './decimate.ts';
import { escapeHtml, formatNumber } from './html.ts';

/** Markup made by this module (every text in it escaped), as opposed to any string. */
export type SvgMarkup = string & { readonly __brand: 'SvgMarkup' };

export interface Axis {
  /** Shown at the axis' end: the unit or quantity ("LUFS", "time"). */
  label?: string;
  /** Without min or max, the data's range rounded out to ticks. */
  min?: number;
  max?: number;
  ticks?: readonly number[];
  format?: (value: number) => string;
  /** 'time' ticks seconds on the clock (0:30, 1:00, ...). */
  kind?: 'linear' | 'time';
}

export interface Series {
  label: string;
  color: ColorName;
  /** Values; null, NaN and the infinities are gaps (silence has no loudness). */
  y: ArrayLike<number | null>;
  /** Where each value lies on the x axis; without it, `x0 + i * dx` (a regularly sampled series). */
  x?: ArrayLike<number>;
  x0?: number;
  dx?: number;
  /** 'step' holds each value until the next, as block maxima and meters do; default 'line'. */
  shape?: 'line' | 'step';
  /** Fills between the curve and `baseline` (default: the bottom of the y axis). */
  fill?: boolean;
  baseline?: number;
  widthPx?: number;
}

/** A range drawn behind the data: a target and its tolerance. */
export interface Band {
  center: number;
  tolerance: number;
  label: string;
  color?: ColorName;
}

/** A line across the plot: a ceiling on the y axis, or a marker on a histogram's x axis. */
export interface Threshold {
  value: number;
  label: string;
  color?: ColorName;
}

interface PlotSize {
  /** Accessible name and tooltip of the plot. */
  title: string;
  widthPx?: number;
  heightPx?: number;
}

export interface LinePlotOptions extends PlotSize {
  series: Series[];
  x: Axis;
  y: Axis;
  band?: Band;
  threshold?: Threshold;
  /** Per series, after min/max decimation; a plot has about this many pixels across at most. */
  maxPoints?: number;
}

export interface HistogramBin {
  from: number;
  to: number;
  value: number;
}

export interface HistogramOptions extends PlotSize {
  bins: HistogramBin[];
  label: string;
  color: ColorName;
  x: Axis;
  y: Axis;
  band?: Band;
  markers?: Threshold[];
}

export interface SpectrumOptions extends PlotSize {
  /** Each series' `x` is its band centres in Hz, `y` the level of each band. */
  series: Series[];
  y: Axis;
  minHz?: number;
  maxHz?: number;
}

const DEFAULT_WIDTH = 1100;
const DEFAULT_HEIGHT = 280;
const DEFAULT_MAX_POINTS = 2000;
// Room for tick labels left and below, the legend above.
const MARGIN = { left: 52, right: 14, top: 30, bottom: 30 };
// An estimate of the label font's advance (600 12 px DejaVu Sans, the widest of the stack), to
// lay the legend out right to left without overlaps; narrower fonts just leave more room.
const CHAR_PX = 7.6;

export const PLOT_CSS = `
svg.plot { display: block; width: 100%; height: auto; font-family: var(--font-label); }
.plot-well { fill: var(--c-well); stroke: var(--c-panelEdge); }
.plot-grid { stroke: var(--c-grid); }
.plot-zero { stroke: var(--c-gridStrong); }
.plot-tick { fill: var(--c-dim); font: 500 12px var(--font-numeric); }
.plot-axis { fill: var(--c-faint); font: 600 11px var(--font-label); letter-spacing: 0.04em; }
.plot-legend { fill: var(--c-dim); font: 600 12px var(--font-label); }
.plot-empty { fill: var(--c-faint); font: 600 13px var(--font-label); }
${(Object.keys(COLORS) as ColorName[])
  .map((name) => `.stroke-${name} { stroke: var(--c-${name}); } .fill-${name} { fill: var(--c-${name}); }`)
  .join('\n')}
`;

const round = (value: number) => Math.round(value * 10) / 10;

interface Scale {
  min: number;
  max: number;
  ticks: number[];
  format: (value: number) => string;
  /** Data to plot coordinates, clamped to the plot so out-of-range values ride its edge. */
  at(value: number): number;
}

/** 1, 2, 2.5 or 5 times a power of ten: the step that gives about `count` ticks over `range`. */
function niceStep(range: number, count: number): number {
  const raw = range / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10;
  return step * power;
}

// Clock steps: a tick every 30 s over a few minutes, every 10 minutes over an hour.
const TIME_STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

/** Seconds on the clock: 0:05, 2:30, 1:02:03. */
export function formatClock(seconds: number): string {
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

function ticksBetween(min: number, max: number, step: number): number[] {
  const ticks: number[] = [];
  // A thousandth of a step of slack: 0.1 + 0.2 must still reach 0.3.
  for (let t = Math.ceil(min / step - 1e-3) * step; t <= max + step * 1e-3; t += step)
    ticks.push(Math.round(t * 1e6) / 1e6);
  return ticks;
}

function linearScale(
  axis: Axis,
  dataMin: number,
  dataMax: number,
  from: number,
  to: number,
  count: number,
): Scale {
  let lo = axis.min ?? dataMin;
  let hi = axis.max ?? dataMax;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
  const time = axis.kind === 'time';
  const step = time
    ? (TIME_STEPS_S.find((s) => (hi - lo) / s <= count) ?? niceStep(hi - lo, count))
    : niceStep(hi - lo, count);
  if (axis.min === undefined) lo = Math.floor(lo / step + 1e-9) * step;
  if (axis.max === undefined) hi = Math.ceil(hi / step - 1e-9) * step;
  const ticks = axis.ticks ? [...axis.ticks] : ticksBetween(lo, hi, step);
  const format = axis.format ?? (time ? formatClock : (v: number) => formatNumber(v, step < 1 ? 1 : 0));
  return {
    min: lo,
    max: hi,
    ticks: ticks.filter((t) => t >= lo - 1e-9 && t <= hi + 1e-9),
    format,
    at: (v) => from + ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (to - from),
  };
}

const SPECTRUM_TICKS_HZ = [20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000];

function logScale(minHz: number, maxHz: number, from: number, to: number): Scale {
  const lo = Math.log10(minHz);
  const hi = Math.log10(maxHz);
  return {
    min: minHz,
    max: maxHz,
    ticks: SPECTRUM_TICKS_HZ.filter((f) => f >= minHz && f <= maxHz),
    format: (f) => (f >= 1000 ? `${f / 1000}k` : String(f)),
    at: (f) => from + ((Math.min(hi, Math.max(lo, Math.log10(f))) - lo) / (hi - lo)) * (to - from),
  };
}

/** The finite range of every series (and of what must stay in view: a band, a ceiling). */
function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function frameOf({ widthPx = DEFAULT_WIDTH, heightPx = DEFAULT_HEIGHT }: PlotSize): Frame {
  return {
    width: widthPx,
    height: heightPx,
    left: MARGIN.left,
    right: widthPx - MARGIN.right,
    top: MARGIN.top,
    bottom: heightPx - MARGIN.bottom,
  };
}

function attr(value: number): string {
  return String(round(value));
}

function openSvg(frame: Frame, title: string): string {
  const t = escapeHtml(title);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 ${frame.width} ${frame.height}" ` +
    `width="${frame.width}" height="${frame.height}" role="img" aria-label="${t}"><title>${t}</title>` +
    `<rect class="plot-well" x="${frame.left}" y="${frame.top}" width="${frame.right - frame.left}" ` +
    `height="${frame.bottom - frame.top}" fill="${COLORS.well}" stroke="${COLORS.panelEdge}"/>`
  );
}

/** Grid lines and tick labels of both axes, and each axis' label at its end. */
function axes(frame: Frame, x: Scale, y: Scale, xLabel?: string, yLabel?: string): string {
  const parts: string[] = [];
  for (const t of y.ticks) {
    const py = attr(y.at(t));
    const cls = t === 0 && y.min < 0 && y.max > 0 ? 'plot-zero' : 'plot-grid';
    parts.push(
      `<line class="${cls}" x1="${frame.left}" x2="${frame.right}" y1="${py}" y2="${py}" stroke="${COLORS.grid}"/>`,
      `<text class="plot-tick" x="${frame.left - 6}" y="${py}" dy="4" text-anchor="end" fill="${COLORS.dim}">${escapeHtml(y.format(t))}</text>`,
    );
  }
  for (const t of x.ticks) {
    const px = attr(x.at(t));
    parts.push(
      `<line class="plot-grid" x1="${px}" x2="${px}" y1="${frame.top}" y2="${frame.bottom}" stroke="${COLORS.grid}"/>`,
      `<text class="plot-tick" x="${px}" y="${frame.bottom + 16}" text-anchor="middle" fill="${COLORS.dim}">${escapeHtml(x.format(t))}</text>`,
    );
  }
  if (yLabel)
    parts.push(
      `<text class="plot-axis" x="4" y="${frame.top - 12}" fill="${COLORS.faint}">${escapeHtml(yLabel)}</text>`,
    );
  if (xLabel)
    parts.push(
      `<text class="plot-axis" x="${frame.right}" y="${frame.height - 1}" text-anchor="end" fill="${COLORS.faint}">${escapeHtml(xLabel)}</text>`,
    );
  return parts.join('');
}

interface LegendItem {
  label: string;
  color: ColorName;
  mark: 'line' | 'dash' | 'block';
}

/** The legend along the top edge, right-aligned like the page's chart legends. */
function legend(frame: Frame, items: LegendItem[]): string {
  let right = frame.right;
  const parts: string[] = [];
  for (const item of [...items].reverse()) {
    const textWidth = item.label.length * CHAR_PX;
    const textX = right - textWidth;
    const markX = textX - 22;
    const y = frame.top - 12;
    const c = item.color;
    parts.push(
      item.mark === 'block'
        ? `<rect class="fill-${c}" x="${attr(markX)}" y="${y - 5}" width="16" height="10" fill="${COLORS[c]}" fill-opacity="0.35"/>`
        : `<line class="stroke-${c}" x1="${attr(markX)}" x2="${attr(markX + 16)}" y1="${y}" y2="${y}" stroke="${COLORS[c]}" stroke-width="2.5"${item.mark === 'dash' ? ' stroke-dasharray="5 3"' : ''}/>`,
      `<text class="plot-legend" x="${attr(textX)}" y="${y}" dy="4" fill="${COLORS.dim}">${escapeHtml(item.label)}</text>`,
    );
    right = markX - 16;
  }
  return parts.join('');
}

function noData(frame: Frame): string {
  return `<text class="plot-empty" x="${(frame.left + frame.right) / 2}" y="${(frame.top + frame.bottom) / 2}" text-anchor="middle" fill="${COLORS.faint}">no data</text>`;
}

function pointsOf(series: Series, maxPoints: number) {
  const n = series.y.length;
  const x = series.x ?? Float64Array.from({ length: n }, (_, i) => (series.x0 ?? 0) + i * (series.dx ?? 1));
  return decimateMinMax(x, series.y, maxPoints);
}

/** One series as a stroke (class `series`) and, when filled, an area under it (`series-fill`). */
function seriesPaths(series: Series, x: Scale, y: Scale, maxPoints: number): string {
  const points = pointsOf(series, maxPoints);
  const base = attr(y.at(series.baseline ?? y.min));
  let line = '';
  let area = '';
  let run: string[] = [];
  let runStart = '';
  let lastX = '';
  const close = () => {
    if (run.length === 0) return;
    line += `M${run.join('')}`;
    if (series.fill) area += `M${runStart} ${base}L${run.join('')}L${lastX} ${base}Z`;
    run = [];
  };
  for (let i = 0; i < points.x.length; i++) {
    const vx = points.x[i];
    const vy = points.y[i];
    if (Number.isNaN(vy) || !Number.isFinite(vx)) {
      close();
      continue;
    }
    const px = attr(x.at(vx));
    const py = attr(y.at(vy));
    if (run.length === 0) {
      runStart = px;
      run.push(`${px} ${py}`);
    } else if (series.shape === 'step') run.push(`H${px}V${py}`);
    else run.push(`L${px} ${py}`);
    lastX = px;
  }
  close();
  const c = series.color;
  const label = escapeHtml(series.label);
  const fill = series.fill
    ? `<path class="series-fill fill-${c}" data-series="${label}" d="${area}" fill="${COLORS[c]}" fill-opacity="0.16" stroke="none"/>`
    : '';
  return (
    fill +
    `<path class="series stroke-${c}" data-series="${label}" d="${line}" fill="none" stroke="${COLORS[c]}" ` +
    `stroke-width="${series.widthPx ?? 1.5}" stroke-linejoin="round" stroke-linecap="round"/>`
  );
}

function hasData(series: Series[]): boolean {
  return series.some((s) =>
    Array.prototype.some.call(s.y, (v: number | null) => v !== null && Number.isFinite(v)),
  );
}

function bandRect(frame: Frame, y: Scale, band: Band): string {
  const c = band.color ?? 'green';
  const top = y.at(band.center + band.tolerance);
  const bottom = y.at(band.center - band.tolerance);
  const center = attr(y.at(band.center));
  return (
    `<rect class="plot-band fill-${c}" x="${frame.left}" y="${attr(top)}" width="${frame.right - frame.left}" ` +
    `height="${attr(bottom - top)}" fill="${COLORS[c]}" fill-opacity="0.13"/>` +
    `<line class="stroke-${c}" x1="${frame.left}" x2="${frame.right}" y1="${center}" y2="${center}" ` +
    `stroke="${COLORS[c]}" stroke-opacity="0.55" stroke-dasharray="2 4"/>`
  );
}

function thresholdLine(frame: Frame, y: Scale, threshold: Threshold): string {
  const c = threshold.color ?? 'red';
  const py = attr(y.at(threshold.value));
  return `<line class="plot-threshold stroke-${c}" x1="${frame.left}" x2="${frame.right}" y1="${py}" y2="${py}" stroke="${COLORS[c]}" stroke-width="1.5" stroke-dasharray="6 4"/>`;
}

function seriesLegend(series: Series[]): LegendItem[] {
  return series.map((s) => ({ label: s.label, color: s.color, mark: 'line' }));
}

/**
 * One or more series over a linear x axis (usually time), with an optional target band and
 * ceiling line. Long series are decimated to `maxPoints` per series, keeping every extreme.
 */
export function linePlot(options: LinePlotOptions): SvgMarkup {
  const frame = frameOf(options);
  const maxPoints = options.maxPoints ?? DEFAULT_MAX_POINTS;
  const xs = options.series.flatMap((s) => {
    const n = s.y.length;
    if (n === 0) return [];
    return s.x ? [s.x[0], s.x[n - 1]] : [s.x0 ?? 0, (s.x0 ?? 0) + (n - 1) * (s.dx ?? 1)];
  });
  const [x0, x1] = extent(xs);
  const keep = [
    ...(options.band
      ? [options.band.center - options.band.tolerance, options.band.center + options.band.tolerance]
      : []),
    ...(options.threshold ? [options.threshold.value] : []),
  ];
  const [y0, y1] = extent([...options.series.flatMap((s) => Array.from(s.y, (v) => v ?? NaN)), ...keep]);
  const x = linearScale(options.x, x0, x1, frame.left, frame.right, 10);
  const y = linearScale(options.y, y0, y1, frame.bottom, frame.top, 5);
  const items = seriesLegend(options.series);
  if (options.band)
    items.push({ label: options.band.label, color: options.band.color ?? 'green', mark: 'block' });
  if (options.threshold)
    items.push({ label: options.threshold.label, color: options.threshold.color ?? 'red', mark: 'dash' });
  return (openSvg(frame, options.title) +
    (options.band ? bandRect(frame, y, options.band) : '') +
    axes(frame, x, y, options.x.label, options.y.label) +
    (hasData(options.series)
      ? options.series.map((s) => seriesPaths(s, x, y, maxPoints)).join('')
      : noData(frame)) +
    (options.threshold ? thresholdLine(frame, y, options.threshold) : '') +
    legend(frame, items) +
    '</svg>') as SvgMarkup;
}

/** Values counted into bins `width` wide from `from` to `to`; gaps are not counted. */
export function binValues(
  values: ArrayLike<number | null>,
  { from, to, width }: { from: number; to: number; width: number },
): HistogramBin[] {
  const count = Math.max(1, Math.ceil((to - from) / width - 1e-9));
  const bins = Array.from({ length: count }, (_, i) => ({
    from: from + i * width,
    to: from + (i + 1) * width,
    value: 0,
  }));
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !Number.isFinite(v) || v < from || v > to) continue;
    bins[Math.min(count - 1, Math.floor((v - from) / width))].value++;
  }
  return bins;
}

/** Bars, one per bin (drawn as one path, class `series`), with an optional band and markers. */
export function histogram(options: HistogramOptions): SvgMarkup {
  const frame = frameOf(options);
  const bins = options.bins;
  const [x0, x1] = extent(bins.flatMap((b) => [b.from, b.to]));
  const [, top] = extent(bins.map((b) => b.value));
  const x = linearScale(options.x, x0, x1, frame.left, frame.right, 10);
  const y = linearScale({ min: 0, ...options.y }, 0, Math.max(top, 0), frame.bottom, frame.top, 4);
  const c = options.color;
  const bars = bins
    .filter((b) => b.value > 0)
    .map((b) => {
      const left = x.at(b.from) + 0.5;
      const right = Math.max(left + 1, x.at(b.to) - 0.5);
      return `M${attr(left)} ${attr(y.at(0))}V${attr(y.at(b.value))}H${attr(right)}V${attr(y.at(0))}Z`;
    })
    .join('');
  const markers = (options.markers ?? [])
    .map((m) => {
      const px = attr(x.at(m.value));
      const mc = m.color ?? 'text';
      return `<line class="plot-threshold stroke-${mc}" x1="${px}" x2="${px}" y1="${frame.top}" y2="${frame.bottom}" stroke="${COLORS[mc]}" stroke-width="1.5" stroke-dasharray="6 4"/>`;
    })
    .join('');
  const band = options.band;
  const bandMarkup = band
    ? `<rect class="plot-band fill-${band.color ?? 'green'}" x="${attr(x.at(band.center - band.tolerance))}" y="${frame.top}" ` +
      `width="${attr(x.at(band.center + band.tolerance) - x.at(band.center - band.tolerance))}" height="${frame.bottom - frame.top}" ` +
      `fill="${COLORS[band.color ?? 'green']}" fill-opacity="0.13"/>`
    : '';
  const items: LegendItem[] = [{ label: options.label, color: c, mark: 'block' }];
  if (band) items.push({ label: band.label, color: band.color ?? 'green', mark: 'block' });
  for (const m of options.markers ?? [])
    items.push({ label: m.label, color: m.color ?? 'text', mark: 'dash' });
  return (openSvg(frame, options.title) +
    bandMarkup +
    axes(frame, x, y, options.x.label, options.y.label) +
    (bars
      ? `<path class="series fill-${c}" data-series="${escapeHtml(options.label)}" d="${bars}" fill="${COLORS[c]}" fill-opacity="0.8"/>`
      : noData(frame)) +
    markers +
    legend(frame, items) +
    '</svg>') as SvgMarkup;
}

/** Level against log frequency (20 Hz to 20 kHz unless told), several series with a legend. */
export function spectrumPlot(options: SpectrumOptions): SvgMarkup {
  const frame = frameOf(options);
  const x = logScale(options.minHz ?? 20, options.maxHz ?? 20000, frame.left, frame.right);
  const [y0, y1] = extent(options.series.flatMap((s) => Array.from(s.y, (v) => v ?? NaN)));
  const y = linearScale(options.y, y0, y1, frame.bottom, frame.top, 5);
  return (openSvg(frame, options.title) +
    axes(frame, x, y, 'Hz', options.y.label) +
    (hasData(options.series)
      ? options.series.map((s) => seriesPaths(s, x, y, DEFAULT_MAX_POINTS)).join('')
      : noData(frame)) +
    legend(frame, seriesLegend(options.series)) +
    '</svg>') as SvgMarkup;
}
