/**
 * The mapping engine: one per connected surface. Control events become parameter changes in the
 * ParameterStore (with the surface as origin), and parameter changes become feedback (rings,
 * motor faders, button lights), so the hardware always shows the rig's state. Everything every
 * controller needs lives here once: relative encoder decoding and acceleration, soft takeover,
 * stepped parameters, fine adjust, layers, and rate-limited feedback.
 */
import { getSpec, positionToValue, valueToPosition, type ParameterSpec } from '../../../engine/src/schema.ts';
import type { ParameterChange, ParameterStore } from '../../../engine/src/index.ts';
import type { ControlEvent, FeedbackMessage, SurfaceActions } from '../events.ts';
import {
  BUTTON_MODES,
  bindingOn,
  feedbackAddress,
  isParameterBinding,
  layerNames,
  type ActionBinding,
  type Address,
  type Binding,
  type ControlSpec,
  type Mapping,
  type ParameterBinding,
} from './types.ts';

/** Feedback per control at most this often; the last value always follows (trailing update). */
const DEFAULT_FEEDBACK_INTERVAL_MS = 20;
const DEFAULT_FINE_FACTOR = 0.1;
/** Fraction of the full travel per encoder tick: a 24-detent encoder sweeps the range in about four turns. */
const DEFAULT_SENSITIVITY = 0.01;
/** One detent per tick makes a stepped parameter jump on every nudge; two give a deliberate click. */
const DEFAULT_TICKS_PER_STEP = 2;
/**
 * A pot takes over when it comes this close to the value: a little more than one 7-bit step
 * (1/127), so a pot moved slowly enough to send every value can never step over it unseen.
 */
const PICKUP_TOLERANCE = 0.012;
/** Acceleration starts above this turning speed and reaches its full factor at FAST. */
const SLOW_TICKS_PER_SECOND = 10;
const FAST_TICKS_PER_SECOND = 50;

const KNOB_MAX = 1023;
const MIDI_7_BIT_MAX = 127;
const MIDI_14_BIT_MAX = 16383;

interface ControlState {
  readonly spec: ControlSpec;
  readonly feedbackTo: Address | undefined;
  /** Feedback repositions the control (motor fader, endless encoder): it never needs pickup. */
  readonly moves: boolean;
  /** Last hardware position 0..1 of an absolute control, unknown until it first moves. */
  lastPosition: number | undefined;
  pickedUp: boolean;
  /** The value this control last set; a different current value means someone else moved it. */
  lastValueSet: number | undefined;
  /** Encoder ticks toward the next detent of a stepped parameter. */
  pendingTicks: number;
  lastTickAt: number;
  /** The binding a button was pressed under, so its release goes to the same place across a layer change. */
  heldBinding: Binding | undefined;
  // Feedback rate limiting.
  lastSentAt: number;
  lastSentValue: number | undefined;
  forceNextSend: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface MappingEngineOptions {
  mapping: Mapping;
  store: ParameterStore;
  surfaceId: string;
  send: (message: FeedbackMessage) => void;
  actions?: Partial<SurfaceActions>;
  feedbackIntervalMs?: number;
  now?: () => number;
}

/** A numeric key per incoming message, so the hot path looks controls up without building strings. */
function eventKey(kind: string, channel: number, number: number): number {
  return KIND_CODES[kind] * 0x200000 + channel * 0x4000 + number;
}
const KIND_CODES: Record<string, number> = {
  cc: 1,
  cc14: 2,
  nrpn: 3,
  note: 4,
  pitchbend: 5,
  knob: 6,
  button: 7,
  encoder: 8,
};

function inputKey(input: Address): number {
  switch (input.kind) {
    case 'cc':
    case 'cc14':
      return eventKey(input.kind, input.channel - 1, input.controller);
    case 'nrpn':
      return eventKey('nrpn', input.channel - 1, input.parameter);
    case 'note':
      return eventKey('note', input.channel - 1, input.note);
    case 'pitchbend':
      return eventKey('pitchbend', input.channel - 1, 0);
    default:
      return eventKey(input.kind, 0, input.index);
  }
}

function controlEventKey(event: ControlEvent): number {
  switch (event.kind) {
    case 'cc':
    case 'cc14':
      return eventKey(event.kind, event.channel, event.controller);
    case 'nrpn':
      return eventKey('nrpn', event.channel, event.parameter);
    case 'note':
      return eventKey('note', event.channel, event.note);
    case 'pitchbend':
      return eventKey('pitchbend', event.channel, 0);
    default:
      return eventKey(event.kind, 0, event.index);
  }
}

/** The control's travel as 0..1, at whatever resolution it sends. */
function absolutePosition(event: ControlEvent, input: Address): number {
  switch (event.kind) {
    case 'cc':
      return event.value / MIDI_7_BIT_MAX;
    case 'cc14':
    case 'pitchbend':
      return event.value / MIDI_14_BIT_MAX;
    case 'nrpn':
      // MSB-only devices top out at 127 << 7; scaling by the MSB alone lets them reach the end.
      return input.kind === 'nrpn' && input.dataBits === 7
        ? (event.value >> 7) / MIDI_7_BIT_MAX
        : event.value / MIDI_14_BIT_MAX;
    case 'knob':
      return event.value / KNOB_MAX;
    default:
      return NaN;
  }
}

/** Signed ticks from one relative message (see the mapping schema for the three CC encodings). */
function relativeTicks(mode: ParameterBinding['mode'], event: ControlEvent): number {
  if (event.kind === 'encoder') return event.delta;
  if (event.kind !== 'cc') return 0;
  const value = event.value;
  switch (mode) {
    case 'relative-twos-complement':
      return value >= 64 ? value - 128 : value;
    case 'relative-signed-bit':
      return value & 0x40 ? -(value & 0x3f) : value & 0x3f;
    case 'relative-binary-offset':
      return value - 64;
    default:
      return 0;
  }
}

function isPress(event: ControlEvent): boolean {
  if (event.kind === 'note') return event.on;
  if (event.kind === 'button') return event.pressed;
  if (event.kind === 'cc') return event.value >= 64;
  return false;
}

/** The detented positions a stepped or switch parameter can take, in order. */
function positionsOf(spec: ParameterSpec): readonly number[] | undefined {
  if (spec.steps) return spec.steps;
  if (spec.choices) return spec.choices.map((_, index) => index);
  return undefined;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** Bindings that act while the button is held rather than once per press. */
function isHoldBinding(binding: Binding): boolean {
  if (isParameterBinding(binding)) return binding.mode === 'momentary';
  return binding.action === 'fine' || (binding.action === 'layer' && binding.hold === true);
}

export class MappingEngine {
  private readonly mapping: Mapping;
  private readonly store: ParameterStore;
  private readonly origin: string;
  private readonly send: (message: FeedbackMessage) => void;
  private readonly actions: Partial<SurfaceActions>;
  private readonly feedbackIntervalMs: number;
  private readonly now: () => number;
  private readonly fineFactor: number;
  private readonly firstLayer: string;

  private readonly controls: ControlState[];
  private readonly byInput = new Map<number, ControlState>();
  /** Controls bound to each parameter on the current layer. */
  private byParameter = new Map<string, ControlState[]>();
  private layer: string;
  private layerBeforeHold: string | undefined;
  private fine = false;
  /** The control whose event is being applied, so its own change is not echoed back to it. */
  private handling: ControlState | undefined;
  private readonly unsubscribe: () => void;
  private disposed = false;

  constructor(options: MappingEngineOptions) {
    this.mapping = options.mapping;
    this.store = options.store;
    this.origin = `controller:${options.surfaceId}`;
    this.send = options.send;
    this.actions = options.actions ?? {};
    this.feedbackIntervalMs = options.feedbackIntervalMs ?? DEFAULT_FEEDBACK_INTERVAL_MS;
    this.now = options.now ?? (() => performance.now());
    this.fineFactor = this.mapping.fineFactor ?? DEFAULT_FINE_FACTOR;
    this.firstLayer = layerNames(this.mapping)[0];
    this.layer = this.firstLayer;

    this.controls = this.mapping.controls.map((spec) => {
      const moves = spec.feedback?.moves === true;
      return {
        spec,
        feedbackTo: feedbackAddress(spec),
        moves,
        lastPosition: undefined,
        pickedUp: moves,
        lastValueSet: undefined,
        pendingTicks: 0,
        lastTickAt: -Infinity,
        heldBinding: undefined,
        lastSentAt: -Infinity,
        lastSentValue: undefined,
        forceNextSend: false,
        timer: undefined,
      };
    });
    for (const control of this.controls) this.byInput.set(inputKey(control.spec.input), control);
    this.indexLayer();
    this.unsubscribe = this.store.subscribe((change) => this.onParameterChange(change));
  }

  handle(event: ControlEvent): void {
    if (this.disposed) return;
    const control = this.byInput.get(controlEventKey(event));
    if (!control) return;
    const input = control.spec.input.kind;
    if (
      input === 'note' ||
      input === 'button' ||
      control.heldBinding ||
      this.isButtonBinding(bindingOn(control.spec, this.layer))
    ) {
      this.button(control, event);
      return;
    }
    const binding = bindingOn(control.spec, this.layer);
    if (!binding || !isParameterBinding(binding)) return;
    if (binding.mode === 'absolute')
      this.absolute(control, binding, absolutePosition(event, control.spec.input));
    else this.relative(control, binding, relativeTicks(binding.mode, event));
  }

  syncAll(): void {
    for (const control of this.controls) this.queueFeedback(control, true);
  }

  /**
   * After a recall or a reconnect: every pot waits for its value again, and its last position is
   * forgotten (it may have been moved while nobody listened), so only reaching the value counts.
   */
  enterPickup(): void {
    for (const control of this.controls) {
      if (control.moves) continue;
      control.pickedUp = false;
      control.lastPosition = undefined;
    }
  }

  dispose(): void {
    this.disposed = true;
    this.unsubscribe();
    for (const control of this.controls) {
      if (control.timer) clearTimeout(control.timer);
      control.timer = undefined;
    }
  }

  /** The active layer (page); exposed for status displays and tests. */
  get activeLayer(): string {
    return this.layer;
  }

  private isButtonBinding(binding: Binding | undefined): boolean {
    return binding !== undefined && (!isParameterBinding(binding) || BUTTON_MODES.includes(binding.mode));
  }

  private setParameter(control: ControlState, id: string, value: number): number {
    this.handling = control;
    try {
      control.lastValueSet = this.store.set(id, value, this.origin);
    } finally {
      this.handling = undefined;
    }
    return control.lastValueSet;
  }

  /**
   * Soft takeover: a pot whose position is unknown or disagrees with the value does nothing until
   * it reaches the value (within PICKUP_TOLERANCE, inside the same detent, or by crossing it
   * between two messages), so a recall or a page change never makes the sound jump.
   */
  private absolute(control: ControlState, binding: ParameterBinding, rawPosition: number): void {
    const spec = getSpec(binding.param);
    const position = binding.invert ? 1 - rawPosition : rawPosition;
    const previous = control.lastPosition;
    control.lastPosition = position;
    if (!control.pickedUp) {
      const current = this.store.get(spec.id);
      const target = valueToPosition(spec, current);
      const near =
        Math.abs(position - target) <= PICKUP_TOLERANCE || positionToValue(spec, position) === current;
      const crossed = previous !== undefined && (previous - target) * (position - target) <= 0;
      if (!near && !crossed) return;
      control.pickedUp = true;
    }
    this.setParameter(control, spec.id, positionToValue(spec, position));
  }

  private relative(control: ControlState, binding: ParameterBinding, ticks: number): void {
    if (ticks === 0) return;
    const spec = getSpec(binding.param);
    const direction = binding.invert ? -1 : 1;
    const current = this.store.get(spec.id);
    const now = this.now();
    const elapsedMs = Math.max(1, now - control.lastTickAt);
    control.lastTickAt = now;

    const positions = positionsOf(spec);
    if (positions) {
      // A stepped parameter moves detent by detent, like the stepped knob it models; leftover
      // ticks are dropped when someone else changed the value meanwhile.
      if (control.lastValueSet !== current) control.pendingTicks = 0;
      control.pendingTicks += ticks * direction;
      const perStep = binding.ticksPerStep ?? DEFAULT_TICKS_PER_STEP;
      const steps = Math.trunc(control.pendingTicks / perStep);
      control.lastValueSet = current;
      if (steps === 0) return;
      control.pendingTicks -= steps * perStep;
      const index = Math.min(positions.length - 1, Math.max(0, positions.indexOf(current) + steps));
      this.setParameter(control, spec.id, positions[index]);
      return;
    }

    let amount = ticks * direction;
    if (binding.acceleration) {
      const ticksPerSecond = (Math.abs(ticks) * 1000) / elapsedMs;
      const speed = clamp01(
        (ticksPerSecond - SLOW_TICKS_PER_SECOND) / (FAST_TICKS_PER_SECOND - SLOW_TICKS_PER_SECOND),
      );
      amount *= 1 + binding.acceleration * speed;
    }
    const scale = (binding.sensitivity ?? DEFAULT_SENSITIVITY) * (this.fine ? this.fineFactor : 1);
    this.setParameter(
      control,
      spec.id,
      positionToValue(spec, clamp01(valueToPosition(spec, current) + amount * scale)),
    );
  }

  private button(control: ControlState, event: ControlEvent): void {
    const down = isPress(event);
    const latching = control.spec.latching === true;
    let binding: Binding | undefined;
    if (latching) {
      binding = bindingOn(control.spec, this.layer);
    } else {
      binding = down
        ? bindingOn(control.spec, this.layer)
        : (control.heldBinding ?? bindingOn(control.spec, this.layer));
      control.heldBinding = down ? binding : undefined;
    }
    if (!binding) return;
    // A latching button's state is the hold; for everything else each of its messages is a press,
    // after which its latch is set to show the result.
    const pressEach = latching && !isHoldBinding(binding);
    const pressed = pressEach || down;
    if (!isParameterBinding(binding)) {
      this.action(control, binding, pressed);
    } else {
      this.parameterButton(control, binding, pressed);
    }
    if (pressEach) this.queueFeedback(control, true);
  }

  private parameterButton(control: ControlState, binding: ParameterBinding, pressed: boolean): void {
    const spec = getSpec(binding.param);
    const off = binding.off ?? spec.min;
    const on = binding.on ?? spec.max;
    const current = this.store.get(spec.id);
    if (binding.mode === 'momentary') {
      this.setParameter(control, spec.id, pressed ? on : off);
      return;
    }
    if (!pressed) {
      // Many devices light a button while it is held and darken it on release by themselves;
      // the state it should show is sent again after that.
      this.queueFeedback(control, true);
      return;
    }
    if (binding.mode === 'toggle') {
      this.setParameter(control, spec.id, current !== off ? off : on);
    } else if (binding.mode === 'step') {
      const positions = positionsOf(spec)!;
      const count = positions.length;
      const next = positions.indexOf(current) + (binding.direction ?? 1);
      const wrap = binding.wrap ?? true;
      const index = wrap ? (next + count) % count : Math.min(count - 1, Math.max(0, next));
      this.setParameter(control, spec.id, positions[index]);
    }
  }

  private action(control: ControlState, binding: ActionBinding, pressed: boolean): void {
    switch (binding.action) {
      case 'fine':
        this.fine = pressed;
        this.queueFeedback(control, true);
        return;
      case 'layer':
        if (binding.hold) {
          if (pressed) {
            this.layerBeforeHold = this.layer;
            this.selectLayer(binding.layer);
          } else {
            this.selectLayer(this.layerBeforeHold ?? this.firstLayer);
            this.layerBeforeHold = undefined;
          }
        } else if (pressed) {
          this.selectLayer(this.layer === binding.layer ? this.firstLayer : binding.layer);
        } else {
          this.queueFeedback(control, true);
        }
        return;
    }
    if (!pressed) return;
    switch (binding.action) {
      case 'recall':
        this.actions.recallSlot?.(binding.slot);
        return;
      case 'ab':
        this.actions.toggleAB?.();
        return;
      case 'undo':
        this.actions.undo?.();
        return;
      case 'redo':
        this.actions.redo?.();
        return;
    }
  }

  /** A page change rebinds the controls: pots must be picked up again, and every light shows the new page. */
  private selectLayer(layer: string): void {
    if (layer === this.layer) return;
    this.layer = layer;
    this.indexLayer();
    // The pots stay where they are, so their positions still count for crossing the new values.
    for (const control of this.controls) if (!control.moves) control.pickedUp = false;
    this.syncAll();
  }

  private indexLayer(): void {
    const index = new Map<string, ControlState[]>();
    for (const control of this.controls) {
      const binding = bindingOn(control.spec, this.layer);
      if (!binding || !isParameterBinding(binding)) continue;
      const list = index.get(binding.param) ?? [];
      list.push(control);
      index.set(binding.param, list);
    }
    this.byParameter = index;
  }

  private onParameterChange(change: ParameterChange): void {
    const bound = this.byParameter.get(change.id);
    if (!bound) return;
    for (const control of bound) {
      if (control === this.handling) {
        // The hand on an absolute control already shows its position (a motor fader must not
        // fight it, an endless encoder must not be snapped back mid-turn). Encoders and buttons
        // cannot know the resulting value, so they are told.
        const binding = bindingOn(control.spec, this.layer) as ParameterBinding;
        if (binding.mode === 'absolute') continue;
      } else if (!control.moves) {
        control.pickedUp = false;
      }
      this.queueFeedback(control, false);
    }
  }

  private queueFeedback(control: ControlState, force: boolean): void {
    if (!control.feedbackTo || this.disposed) return;
    if (force) control.forceNextSend = true;
    if (control.timer) return; // the trailing send reads the value when it fires
    const waitMs = control.lastSentAt + this.feedbackIntervalMs - this.now();
    if (waitMs <= 0) {
      this.flushFeedback(control);
      return;
    }
    control.timer = setTimeout(() => {
      control.timer = undefined;
      this.flushFeedback(control);
    }, waitMs);
  }

  private flushFeedback(control: ControlState): void {
    const message = this.feedbackMessage(control);
    if (!message) return;
    const value =
      'value' in message ? message.value : 'velocity' in message ? message.velocity : message.on ? 1 : 0;
    if (!control.forceNextSend && value === control.lastSentValue) return;
    control.forceNextSend = false;
    control.lastSentValue = value;
    control.lastSentAt = this.now();
    this.send(message);
  }

  /** What the control's light, ring or motor should show now, on the current layer. */
  private feedbackMessage(control: ControlState): FeedbackMessage | undefined {
    const to = control.feedbackTo;
    if (!to) return undefined;
    const binding = bindingOn(control.spec, this.layer);
    let position = 0;
    let lit = false;
    if (binding && isParameterBinding(binding)) {
      const spec = getSpec(binding.param);
      const value = this.store.get(spec.id);
      if (BUTTON_MODES.includes(binding.mode)) {
        lit = binding.mode === 'step' ? value !== positionsOf(spec)![0] : value !== (binding.off ?? spec.min);
      } else {
        position = valueToPosition(spec, value);
        if (binding.invert) position = 1 - position;
      }
    } else if (binding) {
      lit =
        (binding.action === 'layer' && this.layer === binding.layer) ||
        (binding.action === 'fine' && this.fine);
    }
    const onValue = control.spec.feedback?.on ?? MIDI_7_BIT_MAX;
    const offValue = control.spec.feedback?.off ?? 0;
    const lightOrLevel = (max: number) =>
      this.isButtonBinding(binding) ? (lit ? onValue : offValue) : Math.round(position * max);
    switch (to.kind) {
      case 'cc':
        return {
          kind: 'cc',
          channel: to.channel - 1,
          controller: to.controller,
          value: lightOrLevel(MIDI_7_BIT_MAX),
        };
      case 'cc14':
        return {
          kind: 'cc14',
          channel: to.channel - 1,
          controller: to.controller,
          value: Math.round(position * MIDI_14_BIT_MAX),
        };
      case 'nrpn':
        return {
          kind: 'nrpn',
          channel: to.channel - 1,
          parameter: to.parameter,
          value: Math.round(position * MIDI_14_BIT_MAX),
        };
      case 'pitchbend':
        return { kind: 'pitchbend', channel: to.channel - 1, value: Math.round(position * MIDI_14_BIT_MAX) };
      case 'note':
        return { kind: 'note', channel: to.channel - 1, note: to.note, velocity: lit ? onValue : offValue };
      case 'ring':
        return { kind: 'ring', index: to.index, value: Math.round(position * KNOB_MAX) };
      case 'led':
        return { kind: 'led', index: to.index, on: lit };
      default:
        return undefined;
    }
  }
}
