/**
 * The parameter schema: every parameter of the rig, declared once.
 *
 * Controllers, the dashboard, recall, the CLI and the native chain take ranges, defaults,
 * tapers and steps from here and nowhere else. The native chain is told the ids in this
 * order at construction, so a parameter's index is its position in PARAMETERS.
 */

export type Taper = 'linear' | 'log' | 'dB';

export interface ParameterSpec {
  /** Stable id, `stage.name`; never renamed once released (recall files store it). */
  readonly id: string;
  readonly label: string;
  readonly unit: '' | 'dB' | 'dBTP' | 'Hz' | 'ms' | '%' | ':1';
  readonly min: number;
  readonly max: number;
  readonly default: number;
  /** How a knob's travel maps onto the range (see positionToValue). */
  readonly taper: Taper;
  /** Detented positions of a stepped knob; the value is always one of these. */
  readonly steps?: readonly number[];
  /** Names of the positions of a switch; the value is the index into this list. */
  readonly choices?: readonly string[];
}

const STEREO_MID_SIDE = ['stereo', 'mid', 'side'] as const;
const OFF_ON = ['off', 'on'] as const;

function gain(id: string, label: string, min: number, max: number, def = 0): ParameterSpec {
  return { id, label, unit: 'dB', min, max, default: def, taper: 'linear' };
}
function freq(id: string, label: string, min: number, max: number, def: number): ParameterSpec {
  return { id, label, unit: 'Hz', min, max, default: def, taper: 'log' };
}
function choice(id: string, label: string, choices: readonly string[], def = 0): ParameterSpec {
  return { id, label, unit: '', min: 0, max: choices.length - 1, default: def, taper: 'linear', choices };
}
function percent(id: string, label: string, min: number, max: number, def: number): ParameterSpec {
  return { id, label, unit: '%', min, max, default: def, taper: 'linear' };
}
function q(id: string, label: string, def: number): ParameterSpec {
  return { id, label, unit: '', min: 0.1, max: 10, default: def, taper: 'log' };
}

function eqBand(band: string, label: string, minHz: number, maxHz: number, defHz: number, defQ: number) {
  return [
    freq(`eq.${band}.freq`, `${label} frequency`, minHz, maxHz, defHz),
    gain(`eq.${band}.gain`, `${label} gain`, -12, 12),
    q(`eq.${band}.q`, `${label} Q`, defQ),
    choice(`eq.${band}.mode`, `${label} channels`, STEREO_MID_SIDE),
  ];
}

export const PARAMETERS: readonly ParameterSpec[] = [
  // Input
  gain('input.trim', 'Input trim', -24, 24),
  choice('input.polarity', 'Polarity', ['normal', 'inverted']),
  // An offset costs headroom the limiter then takes out of the loudness; nobody masters DC.
  choice('input.dcBlock', 'DC blocker', OFF_ON, 1),

  // Corrective EQ
  choice('eq.bypass', 'EQ bypass', OFF_ON),
  choice('eq.hp.slope', 'High-pass slope', ['off', '12 dB/oct', '24 dB/oct']),
  freq('eq.hp.freq', 'High-pass frequency', 10, 300, 30),
  choice('eq.hp.mode', 'High-pass channels', STEREO_MID_SIDE),
  ...eqBand('lowShelf', 'Low shelf', 20, 1000, 100, 0.707),
  ...eqBand('bell1', 'Bell 1', 20, 20000, 200, 1),
  ...eqBand('bell2', 'Bell 2', 20, 20000, 1000, 1),
  ...eqBand('bell3', 'Bell 3', 20, 20000, 5000, 1),
  ...eqBand('highShelf', 'High shelf', 1000, 20000, 8000, 0.707),
  choice('eq.lp.slope', 'Low-pass slope', ['off', '12 dB/oct', '24 dB/oct']),
  freq('eq.lp.freq', 'Low-pass frequency', 1000, 22000, 20000),
  choice('eq.lp.mode', 'Low-pass channels', STEREO_MID_SIDE),

  // Glue compressor
  choice('comp.bypass', 'Compressor bypass', OFF_ON),
  { id: 'comp.threshold', label: 'Threshold', unit: 'dB', min: -40, max: 0, default: -12, taper: 'linear' },
  // Bus-compressor detents: what engineers recall by ear, so the knob only stops here.
  {
    id: 'comp.ratio',
    label: 'Ratio',
    unit: ':1',
    min: 1.5,
    max: 10,
    default: 2,
    taper: 'linear',
    steps: [1.5, 2, 3, 4, 6, 10],
  },
  { id: 'comp.attack', label: 'Attack', unit: 'ms', min: 0.1, max: 100, default: 10, taper: 'log' },
  { id: 'comp.release', label: 'Release', unit: 'ms', min: 50, max: 2000, default: 300, taper: 'log' },
  choice('comp.autoRelease', 'Auto release', OFF_ON),
  gain('comp.knee', 'Knee', 0, 12, 6),
  gain('comp.makeup', 'Makeup', 0, 18),
  percent('comp.mix', 'Mix', 0, 100, 100),
  choice('comp.scHpf.on', 'Sidechain high-pass', OFF_ON, 1),
  freq('comp.scHpf.freq', 'Sidechain high-pass frequency', 20, 300, 80),

  // Stereo image
  choice('image.bypass', 'Image bypass', OFF_ON),
  percent('image.width', 'Width', 0, 200, 100),
  choice('image.bassMono.on', 'Bass mono', OFF_ON),
  freq('image.bassMono.freq', 'Bass mono crossover', 40, 300, 120),
  percent('image.balance', 'Mid/side balance', -100, 100, 0),

  // Character
  choice('character.bypass', 'Character bypass', OFF_ON),
  gain('character.air', 'Air', 0, 12),
  freq('character.airFreq', 'Air frequency', 4000, 20000, 12000),
  choice('character.mode', 'Saturation', ['tape', 'tube']),
  gain('character.drive', 'Drive', 0, 24),
  percent('character.mix', 'Saturation mix', 0, 100, 0),

  // Soft clipper ahead of the limiter: loudness from shaving the fastest peaks instead of
  // limiting them; off by default.
  choice('clipper.bypass', 'Clipper bypass', OFF_ON, 1),
  gain('clipper.drive', 'Clipper drive', 0, 12, 3),
  { id: 'clipper.knee', label: 'Clipper knee', unit: 'dB', min: 0, max: 6, default: 1.5, taper: 'linear' },
  percent('clipper.mix', 'Clipper mix', 0, 100, 100),

  // True-peak limiter
  choice('limiter.bypass', 'Limiter bypass', OFF_ON),
  { id: 'limiter.ceiling', label: 'Ceiling', unit: 'dBTP', min: -3, max: 0, default: -1, taper: 'linear' },
  gain('limiter.gain', 'Limiter drive', -12, 24),
  // 5 ms by default: the latency is that of the longest lookahead anyway, and a slower attack
  // keeps the gain's movement across a peak's interpolation kernel (what makes overs) small.
  { id: 'limiter.lookahead', label: 'Lookahead', unit: 'ms', min: 0.5, max: 5, default: 5, taper: 'log' },
  // The peak stage's recovery, in dB; the program stage (auto release) is set by the style.
  { id: 'limiter.release', label: 'Release', unit: 'ms', min: 1, max: 1000, default: 20, taper: 'log' },
  // Off by default: the program stage smooths dense music but lowers its loudness range (0.25 LU
  // at -9 LUFS on the bench's music), and the peak stage's hold already follows the program.
  choice('limiter.autoRelease', 'Auto release', OFF_ON),
  percent('limiter.link', 'Stereo link', 0, 100, 100),
  // Time constants and link of the two release stages (limiter.h's STYLES); the release knob
  // scales the fast stage within a style.
  choice('limiter.style', 'Limiter style', ['transparent', 'punchy', 'loud']),

  // Output: trim only cuts, so nothing after the limiter can lift the signal over its ceiling.
  gain('output.trim', 'Output trim', -24, 0),
  choice('chain.bypass', 'Bypass (level-matched)', OFF_ON),
];

/** Display names of the chain's stages (the id prefix before the first dot), in chain order. */
export const STAGE_TITLES: Readonly<Record<string, string>> = {
  input: 'Input',
  eq: 'Corrective EQ',
  comp: 'Glue compressor',
  image: 'Stereo image',
  character: 'Character',
  clipper: 'Soft clipper',
  limiter: 'True-peak limiter',
  output: 'Output',
  chain: 'Chain',
};

const BY_ID = new Map(PARAMETERS.map((spec, index) => [spec.id, { spec, index }]));

export const PARAMETER_IDS: readonly string[] = PARAMETERS.map((p) => p.id);

export type ParameterValues = Record<string, number>;

export class UnknownParameterError extends Error {
  constructor(readonly id: string) {
    const hint = closestId(id);
    super(`unknown parameter "${id}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
    this.name = 'UnknownParameterError';
  }
}

export function getSpec(id: string): ParameterSpec {
  const entry = BY_ID.get(id);
  if (!entry) throw new UnknownParameterError(id);
  return entry.spec;
}

export function parameterIndex(id: string): number {
  const entry = BY_ID.get(id);
  if (!entry) throw new UnknownParameterError(id);
  return entry.index;
}

export function isParameterId(id: string): boolean {
  return BY_ID.has(id);
}

export function defaultValues(): ParameterValues {
  return Object.fromEntries(PARAMETERS.map((p) => [p.id, p.default]));
}

function nearestStep(steps: readonly number[], value: number): number {
  let best = steps[0];
  for (const step of steps) if (Math.abs(step - value) < Math.abs(best - value)) best = step;
  return best;
}

/** Brings any finite number into the parameter's range, onto its detents or switch positions. */
export function clampValue(spec: ParameterSpec, value: number): number {
  if (!Number.isFinite(value))
    throw new RangeError(`parameter "${spec.id}": value ${value} is not a finite number`);
  const clamped = Math.min(spec.max, Math.max(spec.min, value));
  if (spec.steps) return nearestStep(spec.steps, clamped);
  if (spec.choices) return Math.round(clamped);
  return clamped;
}

/** Like clampValue, but an out-of-range value is an error (files and the command line). */
export function checkValue(spec: ParameterSpec, value: number): number {
  if (!Number.isFinite(value))
    throw new RangeError(`parameter "${spec.id}": value ${value} is not a finite number`);
  if (value < spec.min || value > spec.max) {
    throw new RangeError(
      `parameter "${spec.id}": ${value} is out of range ${spec.min}..${spec.max}${spec.unit ? ' ' + spec.unit : ''}`,
    );
  }
  return clampValue(spec, value);
}

/** Knob position 0..1 -> value, following the taper; steps divide the travel evenly. */
export function positionToValue(spec: ParameterSpec, position: number): number {
  const p = Math.min(1, Math.max(0, Number.isFinite(position) ? position : 0));
  if (spec.steps) return spec.steps[Math.min(spec.steps.length - 1, Math.floor(p * spec.steps.length))];
  if (spec.choices) return Math.min(spec.choices.length - 1, Math.floor(p * spec.choices.length));
  if (spec.taper === 'log') return spec.min * Math.pow(spec.max / spec.min, p);
  return spec.min + p * (spec.max - spec.min);
}

/** Value -> knob position 0..1; the inverse of positionToValue (centre of a detent's span). */
export function valueToPosition(spec: ParameterSpec, value: number): number {
  const v = clampValue(spec, value);
  if (spec.steps) return (spec.steps.indexOf(v) + 0.5) / spec.steps.length;
  if (spec.choices) return (v + 0.5) / spec.choices.length;
  if (spec.taper === 'log') return Math.log(v / spec.min) / Math.log(spec.max / spec.min);
  return (v - spec.min) / (spec.max - spec.min);
}

/** Parses a user's value: a number, or a switch position by name (`eq.hp.slope=24 dB/oct`, `character.mode=tube`). */
export function parseValue(spec: ParameterSpec, text: string): number {
  if (spec.choices) {
    const byName = spec.choices.findIndex((c) => c.toLowerCase() === text.trim().toLowerCase());
    if (byName >= 0) return byName;
  }
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    const options = spec.choices ? ` (one of: ${spec.choices.join(', ')})` : '';
    throw new RangeError(`parameter "${spec.id}": "${text}" is not a number${options}`);
  }
  if (spec.steps && !spec.steps.includes(value)) {
    throw new RangeError(`parameter "${spec.id}": ${value} is not one of its steps ${spec.steps.join(', ')}`);
  }
  return checkValue(spec, value);
}

export function formatValue(spec: ParameterSpec, value: number): string {
  if (spec.choices) return spec.choices[Math.round(value)] ?? String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${spec.unit ? ' ' + spec.unit : ''}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function closestId(id: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of BY_ID.keys()) {
    const d = editDistance(id.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(id.length / 4)) ? best : undefined;
}
