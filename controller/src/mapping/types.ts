/**
 * A mapping file's shape, as mappings/mapping.schema.json declares it. The loader checks a file
 * against the schema and the parameter schema before anything here sees it, so these types
 * describe data that is already known to be good.
 */
import type { ParameterSpec } from '../../../engine/src/browser-safe.ts';

export type MidiAddress =
  | { kind: 'cc'; channel: number; controller: number }
  | { kind: 'cc14'; channel: number; controller: number }
  | { kind: 'nrpn'; channel: number; parameter: number; dataBits?: 7 | 14 }
  | { kind: 'note'; channel: number; note: number }
  | { kind: 'pitchbend'; channel: number };

export type SerialAddress = { kind: 'knob' | 'button' | 'encoder' | 'ring' | 'led'; index: number };

/** A message a control sends, or a light/ring/motor it listens on. MIDI channels are 1..16 here. */
export type Address = MidiAddress | SerialAddress;

export interface FeedbackSpec {
  readonly to?: Address;
  /** The feedback repositions the control itself (motor fader, endless encoder), so no pickup. */
  readonly moves?: boolean;
  readonly on?: number;
  readonly off?: number;
}

export type RelativeMode =
  'relative-twos-complement' | 'relative-signed-bit' | 'relative-binary-offset' | 'relative';
export type ButtonMode = 'toggle' | 'momentary' | 'step';
export type BindingMode = 'absolute' | RelativeMode | ButtonMode;

export interface ParameterBinding {
  readonly param: string;
  readonly mode: BindingMode;
  readonly sensitivity?: number;
  readonly acceleration?: number;
  readonly ticksPerStep?: number;
  readonly on?: number;
  readonly off?: number;
  readonly direction?: 1 | -1;
  readonly wrap?: boolean;
  readonly invert?: boolean;
}

export type QuickSlot = 'A' | 'B' | 'C' | 'D';

export type ActionBinding =
  | { readonly action: 'slot'; readonly slot: QuickSlot }
  | { readonly action: 'ab' | 'undo' | 'redo' | 'fine' }
  | { readonly action: 'layer'; readonly layer: string; readonly hold?: boolean };

export type Binding = ParameterBinding | ActionBinding;

export interface ControlSpec {
  readonly name: string;
  readonly input: Address;
  readonly feedback?: FeedbackSpec;
  /** The device latches the button itself: every message is a press (see the schema). */
  readonly latching?: boolean;
  readonly bind?: Binding;
  readonly onLayer?: Readonly<Record<string, Binding>>;
}

export type DeviceMatch = { kind: 'midi'; portName: string } | { kind: 'serial'; deviceKind: string };

export interface MappingDocument {
  readonly $schema?: string;
  readonly name: string;
  readonly description: string;
  readonly device: DeviceMatch;
  readonly layers?: readonly string[];
  readonly fineFactor?: number;
  readonly controls: readonly ControlSpec[];
}

/** A mapping as the rig holds it: the document plus the file it came from (none when built in code). */
export interface Mapping extends MappingDocument {
  readonly file?: string;
}

export function isParameterBinding(binding: Binding): binding is ParameterBinding {
  return 'param' in binding;
}

export const RELATIVE_MODES: readonly BindingMode[] = [
  'relative-twos-complement',
  'relative-signed-bit',
  'relative-binary-offset',
  'relative',
];
export const BUTTON_MODES: readonly BindingMode[] = ['toggle', 'momentary', 'step'];

/** Bindings driven by presses: every action, and the button modes of a parameter. */
export function isButtonBinding(binding: Binding | undefined): boolean {
  return binding !== undefined && (!isParameterBinding(binding) || BUTTON_MODES.includes(binding.mode));
}

/** The detented positions a stepped or switch parameter can take, in order. */
export function positionsOf(spec: ParameterSpec): readonly number[] | undefined {
  if (spec.steps) return spec.steps;
  if (spec.choices) return spec.choices.map((_, index) => index);
  return undefined;
}

/** The first layer is the one active on connect; a file without layers has one, unnamed. */
export const DEFAULT_LAYER = 'main';

export function layerNames(mapping: MappingDocument): readonly string[] {
  return mapping.layers ?? [DEFAULT_LAYER];
}

/** What a control does on `layer`: its own entry for that layer, else its all-layer binding. */
export function bindingOn(control: ControlSpec, layer: string): Binding | undefined {
  return control.onLayer?.[layer] ?? control.bind;
}

/** Where the feedback of a control goes when the file does not say: its own message, or the serial light of the same index. */
export function feedbackAddress(control: ControlSpec): Address | undefined {
  if (!control.feedback) return undefined;
  if (control.feedback.to) return control.feedback.to;
  const input = control.input;
  if (input.kind === 'knob' || input.kind === 'encoder') return undefined; // ring index depends on the box: must be explicit
  if (input.kind === 'button') return { kind: 'led', index: input.index };
  return input;
}

/** The document without the in-memory `file`, as it is written to disk. */
export function toDocument(mapping: Mapping): MappingDocument {
  const { file: _file, ...document } = mapping;
  return document;
}
