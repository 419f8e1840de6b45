/**
 * The parameter panel's arrangement, derived from the schema alone: stages are the id's prefix
 * before the first dot, sections within a stage the second part of a three-part id (an EQ band,
 * the sidechain filter). A section's common label words become its heading, so its knobs can
 * say just "frequency", "gain", "Q".
 */
import { STAGE_TITLES, type ParameterSpec } from '../../../../engine/src/browser-safe.ts';

export interface PanelControl {
  spec: ParameterSpec;
  /** The label without the section's heading. */
  label: string;
}

export interface PanelSection {
  key: string;
  heading: string | null;
  controls: PanelControl[];
}

export interface PanelStage {
  stage: string;
  title: string;
  sections: PanelSection[];
}

/** A parameter's name where no panel gives it context (the learn prompt): "Glue compressor · Attack". */
export function parameterTitle(spec: ParameterSpec): string {
  const stage = spec.id.split('.')[0];
  return `${STAGE_TITLES[stage] ?? stage} · ${spec.label}`;
}

function commonWords(labels: string[]): string[] {
  const split = labels.map((label) => label.split(' '));
  const common: string[] = [];
  for (let i = 0; split.every((words) => i < words.length && words[i] === split[0][i]); i++)
    common.push(split[0][i]);
  return common;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function groupParameters(parameters: readonly ParameterSpec[]): PanelStage[] {
  const stages = new Map<string, Map<string, ParameterSpec[]>>();
  for (const spec of parameters) {
    const parts = spec.id.split('.');
    const stage = parts[0];
    // Two-part ids share the stage's main section ('' key), in schema order.
    const section = parts.length > 2 ? parts[1] : '';
    if (!stages.has(stage)) stages.set(stage, new Map());
    const sections = stages.get(stage)!;
    if (!sections.has(section)) sections.set(section, []);
    sections.get(section)!.push(spec);
  }
  return [...stages].map(([stage, sections]) => ({
    stage,
    title: STAGE_TITLES[stage] ?? stage,
    sections: [...sections].map(([key, specs]) => {
      const shared = key && specs.length > 1 ? commonWords(specs.map((s) => s.label)) : [];
      return {
        key,
        heading: shared.length ? shared.join(' ') : null,
        controls: specs.map((spec) => {
          const rest = spec.label.split(' ').slice(shared.length).join(' ');
          return { spec, label: capitalise(rest || spec.id.split('.').pop()!) };
        }),
      };
    }),
  }));
}
