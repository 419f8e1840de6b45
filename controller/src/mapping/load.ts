/**
 * Reading mapping files: JSON syntax, the JSON Schema, then what only the rig can check (real
 * parameter ids, modes that fit the control, no two controls on one message). Every refusal is a
 * MappingError naming the file, the place in it and the reason, so a user can fix a hand-edited
 * file without guessing; a bad file never stops the others from loading.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { checkValue, getSpec, type ParameterSpec } from '../../../engine/src/browser-safe.ts';
import type { MidiDecoderConfig } from '../events.ts';
import {
  BUTTON_MODES,
  RELATIVE_MODES,
  feedbackAddress,
  isParameterBinding,
  layerNames,
  type Address,
  type Binding,
  type ControlSpec,
  type Mapping,
  type MappingDocument,
  type QuickSlot,
} from './types.ts';

export class MappingError extends Error {
  constructor(
    readonly file: string,
    /** Where in the document, e.g. `controls[3].bind.param`; empty for the file as a whole. */
    readonly jsonPath: string,
    readonly reason: string,
  ) {
    super(`mapping "${file}": ${jsonPath ? `${jsonPath}: ` : ''}${reason}`);
    this.name = 'MappingError';
  }
}

const SCHEMA_FILE_NAME = 'mapping.schema.json';

export function builtinMappingDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../mappings');
}

/** `$RIG_CONFIG_DIR/mappings`, else `$XDG_CONFIG_HOME/rig/mappings`, else `~/.config/rig/mappings`. */
export function userMappingDir(): string {
  if (process.env.RIG_CONFIG_DIR) return path.join(process.env.RIG_CONFIG_DIR, 'mappings');
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'rig', 'mappings');
}

let validator: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(fs.readFileSync(path.join(builtinMappingDir(), SCHEMA_FILE_NAME), 'utf8'));
    validator = new Ajv2020({ allErrors: true, discriminator: true }).compile(schema);
  }
  return validator;
}

/** JSON.parse's "at position N" turned into the line and column an editor shows. */
function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const offset = position ? Number(position[1]) : text.length;
    const before = text.slice(0, offset).split('\n');
    const where = `line ${before.length}, column ${before[before.length - 1].length + 1}`;
    throw new MappingError(
      file,
      '',
      `invalid JSON at ${where}: ${message.replace(/\s*in JSON at position \d+.*$/, '')}`,
    );
  }
}

/** `/controls/3/input/channel` -> `controls[3].input.channel`. */
function jsonPathOf(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}

function describeSchemaError(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `unknown property "${params.additionalProperty}"`;
    case 'required':
      return `missing property "${params.missingProperty}"`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'discriminator':
      return params.tagValue === undefined
        ? `missing property "${params.tag}"`
        : `${params.tag} ${JSON.stringify(params.tagValue)} is not one this field accepts`;
    default:
      return error.message ?? error.keyword;
  }
}

/**
 * Ajv reports every branch it tried; the useful error is the deepest one that is not merely
 * "a branch failed" (if/then, oneOf), which is where the file actually goes wrong.
 */
function mostSpecific(errors: readonly ErrorObject[]): ErrorObject {
  const concrete = errors.filter((e) => e.keyword !== 'if' && e.keyword !== 'oneOf');
  const pool = concrete.length > 0 ? concrete : errors;
  return pool.reduce((best, e) =>
    e.instancePath.split('/').length > best.instancePath.split('/').length ? e : best,
  );
}

const MIDI_KINDS = new Set(['cc', 'cc14', 'nrpn', 'note', 'pitchbend']);
const BUTTON_INPUTS = new Set(['note', 'cc', 'button']);
const ABSOLUTE_INPUTS = new Set(['cc', 'cc14', 'nrpn', 'pitchbend', 'knob']);
const CONTINUOUS_FEEDBACK = new Set(['cc', 'cc14', 'nrpn', 'pitchbend', 'ring']);
const LIGHT_FEEDBACK = new Set(['cc', 'note', 'led']);
/** CCs that carry NRPN selection and data entry (and RPN selection, which deselects ours). */
const NRPN_FRAMING_CCS = [6, 38, 98, 99, 100, 101];

export function addressKey(address: Address): string {
  switch (address.kind) {
    case 'cc':
    case 'cc14':
      return `${address.kind}:${address.channel}:${address.controller}`;
    case 'nrpn':
      return `nrpn:${address.channel}:${address.parameter}`;
    case 'note':
      return `note:${address.channel}:${address.note}`;
    case 'pitchbend':
      return `pitchbend:${address.channel}`;
    default:
      return `${address.kind}:${address.index}`;
  }
}

export function describeAddress(address: Address): string {
  switch (address.kind) {
    case 'cc':
      return `CC ${address.controller} on channel ${address.channel}`;
    case 'cc14':
      return `14-bit CC ${address.controller}/${address.controller + 32} on channel ${address.channel}`;
    case 'nrpn':
      return `NRPN ${address.parameter} on channel ${address.channel}`;
    case 'note':
      return `note ${address.note} on channel ${address.channel}`;
    case 'pitchbend':
      return `pitch bend on channel ${address.channel}`;
    default:
      return `${address.kind} ${address.index}`;
  }
}

function checkBinding(
  file: string,
  at: string,
  where: string,
  binding: Binding,
  control: ControlSpec,
  layers: readonly string[],
  feedbackKind: string | undefined,
): void {
  const input = control.input.kind;
  if (!isParameterBinding(binding)) {
    if (!BUTTON_INPUTS.has(input))
      throw new MappingError(
        file,
        `${where}.action`,
        `"${binding.action}" needs a button (note, cc or serial button), not a ${input}`,
      );
    if (binding.action === 'layer' && !layers.includes(binding.layer)) {
      throw new MappingError(
        file,
        `${where}.layer`,
        `layer "${binding.layer}" is not declared in "layers" (${layers.join(', ')})`,
      );
    }
    if (feedbackKind && !LIGHT_FEEDBACK.has(feedbackKind))
      throw new MappingError(file, `${at}.feedback`, `a button light cannot be ${feedbackKind} feedback`);
    return;
  }
  let spec: ParameterSpec;
  try {
    spec = getSpec(binding.param);
  } catch (error) {
    throw new MappingError(file, `${where}.param`, (error as Error).message);
  }
  const mode = binding.mode;
  const fits =
    mode === 'absolute'
      ? ABSOLUTE_INPUTS.has(input)
      : mode === 'relative'
        ? input === 'encoder'
        : RELATIVE_MODES.includes(mode)
          ? input === 'cc'
          : BUTTON_INPUTS.has(input);
  if (!fits) throw new MappingError(file, `${where}.mode`, `mode "${mode}" does not fit a ${input} input`);
  if (mode === 'step' && !spec.steps && !spec.choices) {
    throw new MappingError(
      file,
      `${where}.mode`,
      `"step" needs a parameter with steps or choices; "${spec.id}" is continuous`,
    );
  }
  for (const key of ['on', 'off'] as const) {
    const value = binding[key];
    if (value === undefined) continue;
    try {
      checkValue(spec, value);
    } catch (error) {
      throw new MappingError(file, `${where}.${key}`, (error as Error).message);
    }
  }
  if (feedbackKind) {
    const allowed = BUTTON_MODES.includes(mode) ? LIGHT_FEEDBACK : CONTINUOUS_FEEDBACK;
    if (!allowed.has(feedbackKind)) {
      throw new MappingError(
        file,
        `${at}.feedback`,
        `a ${mode} binding cannot show its value on ${feedbackKind} feedback`,
      );
    }
  }
}

/** Marks every message a control claims; a second claim on one message is a duplicate binding. */
function claimInputs(file: string, controls: readonly ControlSpec[]): void {
  const claims = new Map<string, number>();
  const usesNrpn = controls.findIndex((c) => c.input.kind === 'nrpn');
  const claim = (key: string, index: number, what: string) => {
    const earlier = claims.get(key);
    if (earlier !== undefined) {
      throw new MappingError(
        file,
        `controls[${index}].input`,
        `${what} is already bound by controls[${earlier}] "${controls[earlier].name}"`,
      );
    }
    claims.set(key, index);
  };
  controls.forEach((control, index) => {
    const input = control.input;
    if (input.kind === 'cc14') {
      claim(`cc:${input.channel}:${input.controller}`, index, describeAddress(input));
      claim(`cc:${input.channel}:${input.controller + 32}`, index, describeAddress(input));
    } else if (input.kind === 'cc') {
      if (usesNrpn >= 0 && NRPN_FRAMING_CCS.includes(input.controller)) {
        throw new MappingError(
          file,
          `controls[${index}].input`,
          `CC ${input.controller} carries NRPN framing on this device (controls[${usesNrpn}] "${controls[usesNrpn].name}" uses NRPN)`,
        );
      }
      claim(`cc:${input.channel}:${input.controller}`, index, describeAddress(input));
    } else {
      claim(addressKey(input), index, describeAddress(input));
    }
  });
}

/** A quick-slot button's action was called "recall" before it was "slot"; the schema still accepts it. */
type LegacyBinding = Binding | { readonly action: 'recall'; readonly slot: QuickSlot };

function currentBinding(binding: LegacyBinding): Binding {
  return 'action' in binding && binding.action === 'recall' ? { ...binding, action: 'slot' } : binding;
}

/** The document with old action names read as today's, so nothing past the loader sees them. */
function withCurrentNames(mapping: MappingDocument): MappingDocument {
  const controls = mapping.controls.map((control) => ({
    ...control,
    ...(control.bind && { bind: currentBinding(control.bind) }),
    ...(control.onLayer && {
      onLayer: Object.fromEntries(
        Object.entries(control.onLayer).map(([layer, binding]) => [layer, currentBinding(binding)]),
      ),
    }),
  }));
  return { ...mapping, controls };
}

/** Checks a parsed document; returns it typed, or throws the first problem found. */
export function validateMapping(document: unknown, file: string): Mapping {
  const validate = schemaValidator();
  if (!validate(document)) {
    const error = mostSpecific(validate.errors ?? []);
    throw new MappingError(file, jsonPathOf(error.instancePath), describeSchemaError(error));
  }
  const mapping = withCurrentNames(document as MappingDocument);
  if (mapping.device.kind === 'midi') {
    try {
      new RegExp(mapping.device.portName, 'i');
    } catch (error) {
      throw new MappingError(
        file,
        'device.portName',
        `not a valid regular expression: ${(error as Error).message}`,
      );
    }
  }
  const layers = layerNames(mapping);
  const midi = mapping.device.kind === 'midi';
  const names = new Map<string, number>();
  mapping.controls.forEach((control, index) => {
    const at = `controls[${index}]`;
    const earlier = names.get(control.name);
    if (earlier !== undefined)
      throw new MappingError(
        file,
        `${at}.name`,
        `"${control.name}" is already the name of controls[${earlier}]`,
      );
    names.set(control.name, index);
    const input = control.input;
    if (input.kind === 'ring' || input.kind === 'led')
      throw new MappingError(
        file,
        `${at}.input.kind`,
        `"${input.kind}" is feedback only; a control sends knob, button or encoder`,
      );
    if (MIDI_KINDS.has(input.kind) !== midi) {
      throw new MappingError(
        file,
        `${at}.input.kind`,
        `a ${mapping.device.kind} device cannot send "${input.kind}"`,
      );
    }
    const feedback = control.feedback;
    if (feedback?.to) {
      const to = feedback.to.kind;
      if (to === 'knob' || to === 'button' || to === 'encoder')
        throw new MappingError(
          file,
          `${at}.feedback.to.kind`,
          `"${to}" is an input; feedback goes to ring or led`,
        );
      if (MIDI_KINDS.has(to) !== midi)
        throw new MappingError(
          file,
          `${at}.feedback.to.kind`,
          `a ${mapping.device.kind} device cannot receive "${to}"`,
        );
    } else if (feedback && (input.kind === 'knob' || input.kind === 'encoder')) {
      throw new MappingError(
        file,
        `${at}.feedback.to`,
        `a serial ${input.kind} needs an explicit ring index (knob rings come first, then encoder rings)`,
      );
    }
    if (control.latching && !BUTTON_INPUTS.has(input.kind))
      throw new MappingError(file, `${at}.latching`, `only a button latches, not a ${input.kind}`);
    const feedbackKind = feedbackAddress(control)?.kind;
    if (!control.bind && !control.onLayer)
      throw new MappingError(file, at, `"${control.name}" has neither "bind" nor "onLayer"`);
    if (control.bind) checkBinding(file, at, `${at}.bind`, control.bind, control, layers, feedbackKind);
    for (const [layer, binding] of Object.entries(control.onLayer ?? {})) {
      if (!layers.includes(layer))
        throw new MappingError(
          file,
          `${at}.onLayer.${layer}`,
          `layer "${layer}" is not declared in "layers" (${layers.join(', ')})`,
        );
      checkBinding(file, at, `${at}.onLayer.${layer}`, binding, control, layers, feedbackKind);
    }
  });
  claimInputs(file, mapping.controls);
  return { ...mapping, file };
}

export function loadMapping(file: string): Mapping {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new MappingError(file, '', `cannot be read: ${(error as Error).message}`);
  }
  return validateMapping(parseJson(text, file), file);
}

export interface LoadedMappings {
  /** Highest precedence first: a later directory's files come before an earlier one's. */
  readonly mappings: Mapping[];
  readonly errors: MappingError[];
}

/**
 * Loads every `*.json` in `dirs` (a missing directory is simply empty). A file in a later
 * directory replaces an earlier file with the same file name or the same mapping name, so a
 * user's copy of a built-in mapping takes its place.
 */
export function loadMappings(dirs: readonly string[]): LoadedMappings {
  const errors: MappingError[] = [];
  let chosen: Mapping[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs
        .readdirSync(dir)
        .filter((name) => name.endsWith('.json') && name !== SCHEMA_FILE_NAME)
        .sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      errors.push(new MappingError(dir, '', `mapping folder cannot be read: ${(error as Error).message}`));
      continue;
    }
    const fromThisDir: Mapping[] = [];
    for (const name of names) {
      try {
        fromThisDir.push(loadMapping(path.join(dir, name)));
      } catch (error) {
        errors.push(
          error instanceof MappingError
            ? error
            : new MappingError(path.join(dir, name), '', (error as Error).message),
        );
      }
    }
    const replaced = (m: Mapping) =>
      fromThisDir.some((n) => n.name === m.name || path.basename(n.file!) === path.basename(m.file!));
    chosen = [...fromThisDir, ...chosen.filter((m) => !replaced(m))];
  }
  return { mappings: chosen, errors };
}

export type DeviceIdentity = { kind: 'midi'; portName: string } | { kind: 'serial'; deviceKind: string };

/** The first mapping (in precedence order) that claims the device. */
export function findMapping(mappings: readonly Mapping[], device: DeviceIdentity): Mapping | undefined {
  return mappings.find((mapping) =>
    device.kind === 'midi'
      ? mapping.device.kind === 'midi' && new RegExp(mapping.device.portName, 'i').test(device.portName)
      : mapping.device.kind === 'serial' && mapping.device.deviceKind === device.deviceKind,
  );
}

/** What the MIDI decoder must know about this device's controls: 14-bit pairs and NRPN framing. */
export function decoderConfig(mapping: MappingDocument): MidiDecoderConfig {
  const cc14: { channel: number; controller: number }[] = [];
  let nrpn = false;
  for (const { input } of mapping.controls) {
    if (input.kind === 'cc14') cc14.push({ channel: input.channel - 1, controller: input.controller });
    if (input.kind === 'nrpn') nrpn = true;
  }
  return { cc14, nrpn };
}
