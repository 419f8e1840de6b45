/**
 * The HTML report builder: sections and plots composed into one self-contained document, written
 * with its JSON beside it. Everything but writeReport is browser-safe.
 */
export { escapeHtml, formatNumber, documentShell } from './html.ts';
export { decimateMinMax, type Points } from './decimate.ts';
export {
  linePlot,
  histogram,
  spectrumPlot,
  binValues,
  formatClock,
  PLOT_CSS,
  type Axis,
  type Band,
  type HistogramBin,
  type HistogramOptions,
  type LinePlotOptions,
  type Series,
  type SpectrumOptions,
  type SvgMarkup,
  type Threshold,
} from './svg.ts';
export {
  renderReport,
  worstVerdict,
  type Badge,
  type Cell,
  type Column,
  type KeyValue,
  type Report,
  type Section,
  type Verdict,
} from './builder.ts';
export {
  renderQcReport,
  qcReportJson,
  qcChecks,
  type QcCheck,
  type QcCodecCheck,
  type QcLoudness,
  type QcPlatform,
  type QcReportData,
  type QcReportJson,
  type TimeSeries,
} from './qc-report.ts';
export { writeReport, reportPaths, reportJsonText, type WrittenReport } from './write.ts';
