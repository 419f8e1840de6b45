/**
 * The HTML every report is made of: escaping, number formatting and the document shell (inline
 * CSS, the rig's dark palette on screen, a light one on paper). Browser-safe, so the page's
 * session export can build the same document the command line writes.
 */
import { COLORS, type ColorName } from '../palette.ts';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Text made inert for HTML and SVG, in element content and in quoted attributes alike: a file
 * named `"><script>` shows as its name and never becomes markup.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

// U+2212: a real minus sign, as wide as a plus, so signed columns line up (the page shows it too).
const MINUS = '\u2212';

/**
 * A number as a report shows it: fixed digits, a real minus sign, `—` for what was not measured
 * (null, silence's -Infinity, NaN); `signed` puts a plus on positive values (gains, deltas).
 */
export function formatNumber(value: number | null | undefined, digits = 1, signed = false): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const text = Math.abs(value).toFixed(digits);
  // -0.04 at one digit is "0.0": no sign on a zero.
  if (Number(text) === 0) return text;
  if (value < 0) return MINUS + text;
  return signed ? `+${text}` : text;
}

/**
 * Paper wants dark ink on white: the same names, darker tones, so print keeps the meaning of each
 * colour (green pass, red fail, blue momentary) while staying readable without a ground. These have
 * no counterpart on the page, which is never printed.
 */
const PRINT_COLORS: Partial<Record<ColorName, string>> = {
  ground: '#ffffff',
  panel: '#ffffff',
  panelEdge: '#b8bec6',
  well: '#ffffff',
  grid: '#e2e5e9',
  gridStrong: '#a9b0b8',
  text: '#111418',
  dim: '#4a525c',
  faint: '#7a828c',
  green: '#0f8a45',
  yellow: '#8a7200',
  amber: '#b36b00',
  red: '#c81e1e',
  rose: '#d2645a',
  blue: '#1d63c4',
  cyan: '#0b8797',
  violet: '#6b3fc4',
  accent: '#9a5a00',
};

function customProperties(colors: Partial<Record<ColorName, string>>): string {
  return Object.entries(colors)
    .map(([name, value]) => `--c-${name}: ${value};`)
    .join(' ');
}

const DOCUMENT_CSS = `
:root { ${customProperties(COLORS)}
  --font-label: system-ui, 'DejaVu Sans', 'Liberation Sans', sans-serif;
  --font-numeric: 'DejaVu Sans Mono', 'Liberation Mono', ui-monospace, monospace;
  color-scheme: dark; }
* { box-sizing: border-box; }
html { background: var(--c-ground); }
body { margin: 0 auto; max-width: 1280px; padding: 24px 28px 40px; color: var(--c-text);
  font: 14px/1.4 var(--font-label); font-variant-numeric: tabular-nums; }
@media print {
  :root { ${customProperties(PRINT_COLORS)} color-scheme: light; }
  @page { size: A4; margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 11px; }
}
`;

/**
 * A complete, self-contained HTML document. The Content-Security-Policy forbids every fetch and
 * every script, so a report opened from a mail attachment can neither phone home nor run anything
 * a file name smuggled in; `styles` are the stylesheets of the parts it is made of.
 */
export function documentShell({
  title,
  body,
  styles = [],
}: {
  title: string;
  /** Markup, already escaped where it carries text. */
  body: string;
  styles?: string[];
}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark light">
<title>${escapeHtml(title)}</title>
<style>${[DOCUMENT_CSS, ...styles].join('\n')}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
