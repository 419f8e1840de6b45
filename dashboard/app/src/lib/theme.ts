/**
 * The page's colours. The palette is declared once in the engine (engine/src/palette.ts), shared
 * with the HTML reports so a report looks like the page; the canvases draw with it and main.ts
 * publishes it as CSS custom properties (--c-<name>) for the markup.
 */
import { COLORS, type ColorName } from '../../../../engine/src/browser-safe.ts';

export { COLORS, type ColorName };

/** A theme colour at some opacity, for canvases (which cannot read the CSS custom properties). */
export function withAlpha(name: ColorName, alpha: number): string {
  const hex = COLORS[name];
  const channel = (at: number) => parseInt(hex.slice(at, at + 2), 16);
  return `rgba(${channel(1)}, ${channel(3)}, ${channel(5)}, ${alpha})`;
}

export function publishColors(root: HTMLElement): void {
  for (const [name, value] of Object.entries(COLORS)) root.style.setProperty(`--c-${name}`, value);
}

/** Tabular figures so digits keep their width and nothing on the page shifts as they change. */
export const NUMERIC_FONT = '600 11px "DejaVu Sans Mono", "Liberation Mono", ui-monospace, monospace';
export const LABEL_FONT = '500 11px system-ui, "DejaVu Sans", "Liberation Sans", sans-serif';
