/**
 * A printable recall sheet: every parameter drawn as a knob at its position, with its value,
 * grouped by stage, like the sheets studios fill in for analog gear.
 */
import { PARAMETERS, STAGE_TITLES, formatValue, valueToPosition, type ParameterSpec } from '../params.ts';
import type { Snapshot } from './snapshot.ts';

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

// Knob travel of 270 degrees, from 7:30 to 4:30 o'clock, as on most hardware.
function knobSvg(spec: ParameterSpec, value: number): string {
  const position = valueToPosition(spec, value);
  const angle = (-135 + 270 * position) * (Math.PI / 180);
  const x = 30 + 20 * Math.sin(angle);
  const y = 30 - 20 * Math.cos(angle);
  const ticks = spec.steps ?? spec.choices ?? [];
  const tickMarks = ticks
    .map((_, i) => {
      const a = (-135 + (270 * (i + 0.5)) / ticks.length) * (Math.PI / 180);
      return `<line x1="${30 + 24 * Math.sin(a)}" y1="${30 - 24 * Math.cos(a)}" x2="${30 + 28 * Math.sin(a)}" y2="${30 - 28 * Math.cos(a)}" stroke="#333" stroke-width="1.5"/>`;
    })
    .join('');
  return `<svg viewBox="0 0 60 60" width="60" height="60" role="img" aria-label="${escapeHtml(spec.label)}">
<path d="M ${30 - 22 * Math.sin((135 * Math.PI) / 180)} ${30 + 22 * Math.cos((45 * Math.PI) / 180)} A 22 22 0 1 1 ${30 + 22 * Math.sin((135 * Math.PI) / 180)} ${30 + 22 * Math.cos((45 * Math.PI) / 180)}" fill="none" stroke="#bbb" stroke-width="2"/>
${tickMarks}<circle cx="30" cy="30" r="17" fill="#f4f4f4" stroke="#222" stroke-width="1.5"/>
<line x1="30" y1="30" x2="${x.toFixed(2)}" y2="${y.toFixed(2)}" stroke="#c00" stroke-width="3" stroke-linecap="round"/></svg>`;
}

export function renderRecallSheet(snapshot: Snapshot): string {
  const stages = new Map<string, ParameterSpec[]>();
  for (const spec of PARAMETERS) {
    const stage = spec.id.split('.')[0];
    stages.set(stage, [...(stages.get(stage) ?? []), spec]);
  }
  const sections = [...stages]
    .map(([stage, specs]) => {
      const knobs = specs
        .map((spec) => {
          const value = snapshot.values[spec.id] ?? spec.default;
          return `<figure class="knob">${knobSvg(spec, value)}<figcaption><b>${escapeHtml(spec.label)}</b><span>${escapeHtml(formatValue(spec, value))}</span></figcaption></figure>`;
        })
        .join('\n');
      return `<section><h2>${escapeHtml(STAGE_TITLES[stage] ?? stage)}</h2><div class="row">${knobs}</div></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Recall sheet: ${escapeHtml(snapshot.name)}</title>
<style>
body { font: 12px/1.3 system-ui, sans-serif; color: #111; margin: 16mm; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 13px; border-bottom: 1px solid #999; margin: 14px 0 6px; }
.meta { color: #444; margin-bottom: 8px; white-space: pre-wrap; }
.row { display: flex; flex-wrap: wrap; gap: 6px 10px; }
.knob { margin: 0; width: 92px; text-align: center; break-inside: avoid; }
.knob figcaption { display: flex; flex-direction: column; font-size: 10px; }
.knob span { font-variant-numeric: tabular-nums; }
@media print { body { margin: 10mm; } }
</style></head><body>
<h1>${escapeHtml(snapshot.name)}</h1>
<div class="meta">${escapeHtml(new Date(snapshot.createdAt).toUTCString())}${snapshot.targetPreset ? ` · target ${escapeHtml(snapshot.targetPreset)}` : ''}${snapshot.mappings.length ? ` · surfaces: ${escapeHtml(snapshot.mappings.join(', '))}` : ''}
${escapeHtml(snapshot.notes)}</div>
${sections}
</body></html>
`;
}
