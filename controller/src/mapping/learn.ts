/**
 * MIDI learn: "the next control that moves sets this parameter". A LearnSession watches control
 * events until one control has clearly moved (pot jitter and a single stray message are not
 * enough), decides how it behaves (absolute pot, one of the relative encoder encodings, or a
 * button), and learnBinding writes that into a mapping. saveUserMapping stores the result in the
 * user's mapping folder, where it takes precedence over the built-in file of the same name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { getSpec, type ParameterSpec } from '../../../engine/src/browser-safe.ts';
import type { ControlEvent } from '../events.ts';
import {
  addressKey,
  builtinMappingDir,
  describeAddress,
  loadMapping,
  userMappingDir,
  validateMapping,
  type DeviceIdentity,
} from './load.ts';
import type {
  Address,
  BindingMode,
  ControlSpec,
  Mapping,
  MappingDocument,
  ParameterBinding,
} from './types.ts';
import { layerNames, toDocument } from './types.ts';

export interface LearnedControl {
  readonly input: Address;
  readonly mode: BindingMode;
}

/** A pot must travel this far (of its full range) before it counts as moved rather than jittering. */
const MOVE_THRESHOLD = 0.015;
/** 7-bit CCs: two values apart is a move; one apart is what a pot on the edge of a step does by itself. */
const CC_MOVE_STEPS = 2;
/** Relative encoders send small magnitudes; anything larger is a position. */
const RELATIVE_MAGNITUDE_MAX = 15;

function buttonMode(spec: ParameterSpec): BindingMode {
  const positions = spec.steps?.length ?? spec.choices?.length ?? 0;
  return positions > 2 ? 'step' : 'toggle';
}

/** Which relative encoding a run of CC values fits, if any (see the mapping schema for the three). */
function relativeEncoding(values: readonly number[]): BindingMode | undefined {
  const small = (v: number) => v >= 1 && v <= RELATIVE_MAGNITUDE_MAX;
  const twosNegative = (v: number) => v >= 128 - RELATIVE_MAGNITUDE_MAX && v <= 127;
  const signedNegative = (v: number) => v >= 65 && v <= 64 + RELATIVE_MAGNITUDE_MAX;
  const offsetNegative = (v: number) => v >= 64 - RELATIVE_MAGNITUDE_MAX && v <= 63;
  if (values.every((v) => small(v) || twosNegative(v))) return 'relative-twos-complement';
  if (values.every((v) => small(v) || signedNegative(v))) {
    // 65.. alone is +1.. in binary offset (the commoner encoding); only together with 1.. is it signed bit.
    return values.some(small) ? 'relative-signed-bit' : 'relative-binary-offset';
  }
  if (values.every((v) => signedNegative(v) || offsetNegative(v))) return 'relative-binary-offset';
  return undefined;
}

function strictlyMonotone(values: readonly number[]): boolean {
  let rising = true;
  let falling = true;
  for (let i = 1; i < values.length; i++) {
    if (values[i] <= values[i - 1]) rising = false;
    if (values[i] >= values[i - 1]) falling = false;
  }
  return rising || falling;
}

/** Devices send a pot only when it changes, so the same value twice in a row is an encoder's tick. */
function repeatsConsecutively(values: readonly number[]): boolean {
  return values.some((value, i) => i > 0 && value === values[i - 1]);
}

/** Enough CC messages from one controller to tell a pot from an encoder from a button. */
const CC_EVENTS_TO_DECIDE = 3;

export class LearnSession {
  readonly spec: ParameterSpec;
  private readonly ccHistory = new Map<string, number[]>();
  private readonly firstPosition = new Map<string, number>();
  private readonly sawLowBits = new Set<string>();

  constructor(readonly paramId: string) {
    this.spec = getSpec(paramId);
  }

  /** Feeds one event; returns the control once one has clearly been moved. */
  offer(event: ControlEvent): LearnedControl | undefined {
    switch (event.kind) {
      case 'note':
        return event.on
          ? {
              input: { kind: 'note', channel: event.channel + 1, note: event.note },
              mode: buttonMode(this.spec),
            }
          : undefined;
      case 'button':
        return event.pressed
          ? { input: { kind: 'button', index: event.index }, mode: buttonMode(this.spec) }
          : undefined;
      case 'encoder':
        return event.delta !== 0
          ? { input: { kind: 'encoder', index: event.index }, mode: 'relative' }
          : undefined;
      case 'knob':
        return this.moved({ kind: 'knob', index: event.index }, event.value / 1023);
      case 'pitchbend':
        return this.moved({ kind: 'pitchbend', channel: event.channel + 1 }, event.value / 16383);
      case 'cc14':
        return this.moved(
          { kind: 'cc14', channel: event.channel + 1, controller: event.controller },
          event.value / 16383,
        );
      case 'nrpn': {
        const key = `nrpn:${event.channel}:${event.parameter}`;
        if (event.value & 0x7f) this.sawLowBits.add(key);
        const dataBits = this.sawLowBits.has(key) ? 14 : 7;
        return this.moved(
          { kind: 'nrpn', channel: event.channel + 1, parameter: event.parameter, dataBits },
          event.value / 16383,
          key,
        );
      }
      case 'cc':
        return this.cc(event.channel, event.controller, event.value);
    }
  }

  private moved(input: Address, position: number, key = addressKey(input)): LearnedControl | undefined {
    const first = this.firstPosition.get(key);
    if (first === undefined) {
      this.firstPosition.set(key, position);
      return undefined;
    }
    return Math.abs(position - first) >= MOVE_THRESHOLD ? { input, mode: 'absolute' } : undefined;
  }

  private cc(channel: number, controller: number, value: number): LearnedControl | undefined {
    const input: Address = { kind: 'cc', channel: channel + 1, controller };
    const key = addressKey(input);
    const values = this.ccHistory.get(key) ?? [];
    values.push(value);
    this.ccHistory.set(key, values);
    if (values.every((v) => v === 0 || v === 127) && values.includes(0) && values.includes(127)) {
      return { input, mode: buttonMode(this.spec) }; // a press and a release
    }
    if (values.length < CC_EVENTS_TO_DECIDE) return undefined;
    const recent = values.slice(-CC_EVENTS_TO_DECIDE);
    const encoding = relativeEncoding(recent);
    if (encoding && repeatsConsecutively(recent)) return { input, mode: encoding };
    // A pot being turned runs one way; one flickering between neighbouring values is jitter.
    const travelled = Math.max(...recent) - Math.min(...recent) >= CC_MOVE_STEPS;
    return travelled && strictlyMonotone(recent) ? { input, mode: 'absolute' } : undefined;
  }
}

export function startLearn(paramId: string): LearnSession {
  return new LearnSession(paramId);
}

/** A mapping with no controls yet, for a device no mapping claims. */
export function emptyMapping(device: DeviceIdentity): Mapping {
  if (device.kind === 'serial') {
    return {
      name: device.deviceKind,
      description: `Learned bindings for the ${device.deviceKind} serial device.`,
      device,
      controls: [],
    };
  }
  const escaped = device.portName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    name: device.portName,
    description: `Learned bindings for the MIDI device "${device.portName}".`,
    device: { kind: 'midi', portName: `^${escaped}$` },
    controls: [],
  };
}

/**
 * `mapping` with the learned control bound to `paramId` on `layer` (default: the first layer,
 * which for a single-layer mapping is every layer). An existing control on the same message keeps
 * its name and feedback and gets the new binding; otherwise a control is added.
 */
export function learnBinding(
  mapping: Mapping,
  learned: LearnedControl,
  paramId: string,
  layer?: string,
): Mapping {
  getSpec(paramId);
  const binding: ParameterBinding = { param: paramId, mode: learned.mode };
  const key = addressKey(learned.input);
  const onFirstLayer = layer === undefined || layer === layerNames(mapping)[0];
  const rebind = (control: ControlSpec): ControlSpec =>
    onFirstLayer
      ? { ...control, bind: binding }
      : { ...control, onLayer: { ...control.onLayer, [layer!]: binding } };
  const existing = mapping.controls.findIndex((control) => addressKey(control.input) === key);
  const controls =
    existing >= 0
      ? mapping.controls.map((control, index) => (index === existing ? rebind(control) : control))
      : [
          ...mapping.controls,
          rebind({
            name: uniqueName(mapping, `Learned ${describeAddress(learned.input)}`),
            input: learned.input,
          }),
        ];
  return { ...mapping, controls };
}

function uniqueName(mapping: MappingDocument, base: string): string {
  const taken = new Set(mapping.controls.map((c) => c.name));
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base} (${n})`;
  return name;
}

function fileNameFor(mapping: Mapping): string {
  if (mapping.file) return path.basename(mapping.file);
  const slug = mapping.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `${slug || 'mapping'}.json`;
}

/**
 * Writes `mapping` into the user's mapping folder under the same file name as its source (so it
 * replaces a built-in one), checked by the loader first and written atomically (temp file +
 * rename), so a crash mid-write leaves the old file whole. Returns the mapping as loaded back.
 */
export function saveUserMapping(mapping: Mapping, dir: string = userMappingDir()): Mapping {
  const target = path.join(dir, fileNameFor(mapping));
  const { $schema: _previousSchema, ...content } = toDocument(mapping);
  // An absolute schema address: the user's folder has no copy of the schema next to the file.
  const document: MappingDocument = {
    $schema: pathToFileURL(path.join(builtinMappingDir(), 'mapping.schema.json')).href,
    ...content,
  };
  validateMapping(JSON.parse(JSON.stringify(document)), target);
  fs.mkdirSync(dir, { recursive: true });
  const temp = `${target}.${process.pid}.tmp`;
  const handle = fs.openSync(temp, 'w');
  try {
    fs.writeFileSync(handle, `${JSON.stringify(document, null, 2)}\n`);
    fs.fsyncSync(handle);
  } finally {
    fs.closeSync(handle);
  }
  fs.renameSync(temp, target);
  return loadMapping(target);
}
