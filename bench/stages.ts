/** The chain's stages as the benchmark switches them: each section measures some of them alone. */
import type { ParameterValues } from '../engine/src/params.ts';

export const STAGES = ['eq', 'comp', 'image', 'character', 'limiter'] as const;
export type Stage = (typeof STAGES)[number];

/** Bypass values that leave only the named stages in circuit. */
export const only = (...stages: string[]): ParameterValues =>
  Object.fromEntries(STAGES.map((s) => [`${s}.bypass`, stages.includes(s) ? 0 : 1]));
