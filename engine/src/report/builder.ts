/**
 * A report as data: a header (title, files, an overall verdict) and a list of sections, rendered
 * to one self-contained HTML document. Delivery, compare, check and the page's session export
 * each compose their report from these sections, so every report reads the same way.
 * Browser-safe.
 */
import { documentShell, escapeHtml } from './html.ts';
import { PLOT_CSS, type SvgMarkup } from './svg.ts';

/** The outcome of a check; 'unchecked' is a check that was not run (shown, never hidden). */
export type Verdict = 'pass' | 'warn' | 'fail' | 'unchecked';

export interface KeyValue {
  key: string;
  value: string;
  verdict?: Verdict;
}

/** A table cell: text, or text with a verdict that colours it; numeric cells align right. */
export type Cell = string | { text: string; verdict?: Verdict; numeric?: boolean };

export interface Column {
  label: string;
  numeric?: boolean;
}

export interface Badge {
  /** What was checked: "True peak", "Spotify". */
  label: string;
  verdict: Verdict;
  /** The numbers behind the verdict: "−1.2 dBTP ≤ −1.0". */
  detail?: string;
  /** A kicker above the label: "codec", "platform". */
  group?: string;
}

interface Placed {
  /** 'half' sits beside the next half section on a wide page; default 'full'. */
  span?: 'full' | 'half';
}

export type Section = Placed &
  (
    | { kind: 'heading'; text: string; note?: string }
    | { kind: 'keyValues'; title: string; rows: KeyValue[] }
    | { kind: 'table'; title: string; columns: Column[]; rows: Cell[][]; note?: string }
    | { kind: 'badges'; title: string; badges: Badge[] }
    | { kind: 'figure'; title: string; svg: SvgMarkup; caption: string }
    /** 'unchecked' notes say what the report could not show, in the place it would have been. */
    | { kind: 'notes'; title: string; lines: string[]; tone?: 'info' | 'unchecked' }
  );

export interface Report {
  title: string;
  /** A line above the title: what kind of report this is. */
  kicker?: string;
  subtitle?: string;
  /** Files, dates, settings: the header's facts. */
  meta?: KeyValue[];
  verdict?: { verdict: Verdict; text: string };
  sections: Section[];
  footer?: string;
}

const VERDICT_TEXT: Record<Verdict, string> = {
  pass: 'pass',
  warn: 'warn',
  fail: 'fail',
  unchecked: 'not checked',
};

// Worst first: a report is as good as its worst check; a check not run does not fail it.
const SEVERITY: Record<Verdict, number> = { fail: 3, warn: 2, pass: 1, unchecked: 0 };

/** The worst of `verdicts`; 'unchecked' when none was run. */
export function worstVerdict(verdicts: Iterable<Verdict>): Verdict {
  let worst: Verdict = 'unchecked';
  for (const v of verdicts) if (SEVERITY[v] > SEVERITY[worst]) worst = v;
  return worst;
}

function chip(verdict: Verdict): string {
  return `<span class="chip v-${verdict}">${VERDICT_TEXT[verdict]}</span>`;
}

function keyValues(rows: KeyValue[]): string {
  const body = rows
    .map(
      (r) =>
        `<tr><th scope="row">${escapeHtml(r.key)}</th><td class="num${r.verdict ? ` t-${r.verdict}` : ''}">${escapeHtml(r.value)}</td>` +
        `<td class="verdict">${r.verdict ? chip(r.verdict) : ''}</td></tr>`,
    )
    .join('');
  return `<table class="kv"><tbody>${body}</tbody></table>`;
}

function cell(c: Cell, column: Column | undefined): string {
  const { text, verdict, numeric } =
    typeof c === 'string' ? { text: c, verdict: undefined, numeric: undefined } : c;
  const classes = [(numeric ?? column?.numeric) ? 'num' : '', verdict ? `t-${verdict}` : ''].filter(Boolean);
  const content = verdict && text === VERDICT_TEXT[verdict] ? chip(verdict) : escapeHtml(text);
  return `<td${classes.length ? ` class="${classes.join(' ')}"` : ''}>${content}</td>`;
}

function table(columns: Column[], rows: Cell[][]): string {
  const head = columns
    .map((c) => `<th scope="col"${c.numeric ? ' class="num"' : ''}>${escapeHtml(c.label)}</th>`)
    .join('');
  const body = rows.map((row) => `<tr>${row.map((c, i) => cell(c, columns[i])).join('')}</tr>`).join('');
  return `<table class="data"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function badges(list: Badge[]): string {
  return `<div class="badges">${list
    .map(
      (b) =>
        `<div class="badge v-${b.verdict}">` +
        (b.group ? `<span class="badge-group">${escapeHtml(b.group)}</span>` : '') +
        `<span class="badge-label">${escapeHtml(b.label)}</span>` +
        `<span class="badge-state">${VERDICT_TEXT[b.verdict]}</span>` +
        (b.detail ? `<span class="badge-detail">${escapeHtml(b.detail)}</span>` : '') +
        `</div>`,
    )
    .join('')}</div>`;
}

function panel(section: Section, title: string, content: string): string {
  return `<section class="panel span-${section.span ?? 'full'} kind-${section.kind}"><h3>${escapeHtml(title)}</h3>${content}</section>`;
}

function renderSection(section: Section): string {
  switch (section.kind) {
    case 'heading':
      return `<div class="group span-full"><h2>${escapeHtml(section.text)}</h2>${section.note ? `<p>${escapeHtml(section.note)}</p>` : ''}</div>`;
    case 'keyValues':
      return panel(section, section.title, keyValues(section.rows));
    case 'table':
      return panel(
        section,
        section.title,
        table(section.columns, section.rows) +
          (section.note ? `<p class="note">${escapeHtml(section.note)}</p>` : ''),
      );
    case 'badges':
      return panel(section, section.title, badges(section.badges));
    case 'figure':
      return panel(
        section,
        section.title,
        `<figure><div class="plot-box">${section.svg}</div><figcaption>${escapeHtml(section.caption)}</figcaption></figure>`,
      );
    case 'notes':
      return panel(
        section,
        section.title,
        `<ul class="notes${section.tone === 'unchecked' ? ' unchecked' : ''}">${section.lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`,
      );
  }
}

const REPORT_CSS = `
.head { display: flex; justify-content: space-between; align-items: flex-start; gap: 24px;
  padding-bottom: 14px; border-bottom: 2px solid var(--c-accent); }
.kicker { font: 700 12px/1 var(--font-label); letter-spacing: 0.14em; text-transform: uppercase; color: var(--c-accent); }
h1 { margin: 8px 0 4px; font: 700 26px/1.15 var(--font-label); letter-spacing: 0.01em; overflow-wrap: anywhere; }
.subtitle { color: var(--c-dim); font-size: 14px; overflow-wrap: anywhere; }
.stamp { flex: none; min-width: 170px; text-align: center; padding: 10px 18px; border: 2px solid currentColor;
  border-radius: 6px; }
.stamp b { display: block; font: 800 30px/1 var(--font-label); letter-spacing: 0.12em; text-transform: uppercase; }
.stamp span { display: block; margin-top: 6px; font: 600 12px var(--font-label); color: var(--c-dim); }
.meta { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 6px 24px; margin: 12px 0 4px; }
.meta div { display: flex; flex-direction: column; min-width: 0; }
.meta dt { font: 600 11px var(--font-label); letter-spacing: 0.08em; text-transform: uppercase; color: var(--c-faint); }
.meta dd { margin: 0; font: 500 13px var(--font-numeric); overflow-wrap: anywhere; }
.sections { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; margin-top: 14px; }
.span-full { grid-column: 1 / -1; }
.group h2 { margin: 12px 0 0; font: 700 15px/1 var(--font-label); letter-spacing: 0.1em; text-transform: uppercase;
  color: var(--c-text); padding-bottom: 6px; border-bottom: 1px solid var(--c-panelEdge); }
.group p { margin: 6px 0 0; color: var(--c-dim); font-size: 13px; }
.panel { background: var(--c-panel); border: 1px solid var(--c-panelEdge); border-radius: 6px; padding: 12px 14px;
  min-width: 0; overflow-x: auto; break-inside: avoid; }
.panel h3 { margin: 0 0 10px; font: 700 12px/1 var(--font-label); letter-spacing: 0.12em; text-transform: uppercase;
  color: var(--c-accent); }
table { width: 100%; border-collapse: collapse; }
th, td { padding: 5px 8px; text-align: left; vertical-align: baseline; }
.num { text-align: right; font: 600 13px var(--font-numeric); white-space: nowrap; }
table.data thead th { font: 600 11px var(--font-label); letter-spacing: 0.06em; text-transform: uppercase; color: var(--c-dim);
  border-bottom: 1px solid var(--c-gridStrong); }
table.data tbody tr + tr td, table.kv tr + tr > * { border-top: 1px solid var(--c-grid); }
table.data td:first-child { font-weight: 600; }
table.kv th { font-weight: 500; color: var(--c-dim); width: 45%; }
table.kv td.verdict { width: 1%; text-align: right; }
.t-pass { color: var(--c-green); } .t-warn { color: var(--c-amber); } .t-fail { color: var(--c-red); }
.t-unchecked { color: var(--c-faint); }
.chip { display: inline-block; min-width: 4.6em; padding: 2px 7px; border-radius: 3px; text-align: center;
  font: 800 11px/1.3 var(--font-label); letter-spacing: 0.08em; text-transform: uppercase; border: 1px solid currentColor; }
.chip.v-pass, .stamp.v-pass, .badge.v-pass .badge-state { color: var(--c-green); }
.chip.v-warn, .stamp.v-warn, .badge.v-warn .badge-state { color: var(--c-amber); }
.chip.v-fail, .stamp.v-fail, .badge.v-fail .badge-state { color: var(--c-red); }
.chip.v-unchecked, .stamp.v-unchecked, .badge.v-unchecked .badge-state { color: var(--c-faint); }
.chip.v-fail { background: color-mix(in srgb, var(--c-red) 18%, transparent); }
.badges { display: grid; grid-template-columns: repeat(auto-fill, minmax(168px, 1fr)); gap: 8px; }
.badge { display: grid; grid-template-columns: minmax(min-content, 1fr) auto; align-items: baseline; gap: 2px 8px; padding: 8px 10px;
  background: var(--c-well); border: 1px solid var(--c-panelEdge); border-left: 5px solid var(--c-faint); border-radius: 4px; }
.badge.v-pass { border-left-color: var(--c-green); } .badge.v-warn { border-left-color: var(--c-amber); }
.badge.v-fail { border-left-color: var(--c-red); background: color-mix(in srgb, var(--c-red) 10%, var(--c-well)); }
.badge-group { grid-column: 1 / -1; font: 600 10px var(--font-label); letter-spacing: 0.1em; text-transform: uppercase; color: var(--c-faint); }
.badge-label { font: 700 14px var(--font-label); overflow-wrap: break-word; }
.badge-state { font: 800 12px var(--font-label); letter-spacing: 0.08em; text-transform: uppercase; text-align: right; }
.badge.v-unchecked .badge-state { font-size: 10.5px; }
.badge-detail { grid-column: 1 / -1; font: 500 12px var(--font-numeric); color: var(--c-dim); }
figure { margin: 0; }
figcaption, .note { margin-top: 6px; color: var(--c-dim); font-size: 12.5px; }
ul.notes { margin: 0; padding-left: 18px; color: var(--c-dim); }
ul.notes.unchecked { list-style: none; padding: 10px 12px; border: 1px dashed var(--c-gridStrong); border-radius: 4px; color: var(--c-faint); }
ul.notes.unchecked li::before { content: 'not checked: '; font-weight: 700; text-transform: uppercase; font-size: 11px; letter-spacing: 0.08em; }
footer { margin-top: 18px; padding-top: 8px; border-top: 1px solid var(--c-panelEdge); color: var(--c-faint); font-size: 12px; }
@media screen and (max-width: 900px) { .sections { grid-template-columns: 1fr; } .span-half { grid-column: 1 / -1; } }
@media print {
  .panel { border-color: var(--c-panelEdge); padding: 8px 10px; }
  .sections { gap: 8px; }
  /* A4 is too narrow for two tables side by side; the half figures still pair up. */
  .span-half:not(.kind-figure) { grid-column: 1 / -1; }
  .badge.v-fail, .chip.v-fail { background: none; }
  h1 { font-size: 20px; }
}
`;

/** The whole report as one self-contained HTML document. */
export function renderReport(report: Report): string {
  const meta = report.meta?.length
    ? `<dl class="meta">${report.meta
        .map((m) => `<div><dt>${escapeHtml(m.key)}</dt><dd>${escapeHtml(m.value)}</dd></div>`)
        .join('')}</dl>`
    : '';
  const stamp = report.verdict
    ? `<div class="stamp v-${report.verdict.verdict}"><b>${VERDICT_TEXT[report.verdict.verdict]}</b><span>${escapeHtml(report.verdict.text)}</span></div>`
    : '';
  const body =
    `<header class="head"><div>${report.kicker ? `<div class="kicker">${escapeHtml(report.kicker)}</div>` : ''}` +
    `<h1>${escapeHtml(report.title)}</h1>${report.subtitle ? `<div class="subtitle">${escapeHtml(report.subtitle)}</div>` : ''}</div>` +
    `${stamp}</header>${meta}<main class="sections">${report.sections.map(renderSection).join('\n')}</main>` +
    (report.footer ? `<footer>${escapeHtml(report.footer)}</footer>` : '');
  return documentShell({ title: report.title, body, styles: [PLOT_CSS, REPORT_CSS] });
}
