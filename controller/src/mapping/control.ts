/**
 * One physical control between its messages: whether a pot has picked up its value and where it
 * was, the ticks an encoder owes the next detent and how fast it turns, the binding a held
 * button went down under. Each gesture says what value it asks of its parameter; the mapper
 * sets it, so this holds no store and no layer state of its own.
 */
import { getSpec, positionToValue, valueToPosition } from '../../../engine/src/browser-safe.ts';
import { accelerationFactor, clamp01 } from './decode.ts';
import type { FeedbackOutlet } from './feedback.ts';
import {
  bindingOn,
  isParameterBinding,
  positionsOf,
  type Binding,
  type ControlSpec,
  type ParameterBinding,
} from './types.ts';

/** Fraction of the full travel per encoder tick: a 24-detent encoder sweeps the range in about four turns. */
const DEFAULT_SENSITIVITY = 0.01;
/** One detent per tick makes a stepped parameter jump on every nudge; two give a deliberate click. */
const DEFAULT_TICKS_PER_STEP = 2;
/**
 * A pot takes over when it comes this close to the value: a little more than one 7-bit step
 * (1/127), so a pot moved slowly enough to send every value can never step over it unseen.
 */
const PICKUP_TOLERANCE = 0.012;

/** Bindings that act while the button is held rather than once per press. */
function isHoldBinding(binding: Binding): boolean {
  if (isParameterBinding(binding)) return binding.mode === 'momentary';
  return binding.action === 'fine' || (binding.action === 'layer' && binding.hold === true);
}

/** A button message resolved: where it goes, whether it counts as down, and whether every message is a press. */
export interface ButtonPress {
  readonly binding: Binding;
  readonly pressed: boolean;
  readonly pressEach: boolean;
}

export class Control {
  /** Feedback repositions the control (motor fader, endless encoder): it never needs pickup. */
  readonly moves: boolean;
  pickedUp: boolean;
  /** The value this control last set; a different current value means someone else moved it. */
  lastValueSet: number | undefined;
  /** The binding a button was pressed under, so its release goes to the same place across a layer change. */
  heldBinding: Binding | undefined;
  /** Last hardware position 0..1 of an absolute control, unknown until it first moves. */
  private lastPosition: number | undefined;
  /** Encoder ticks toward the next detent of a stepped parameter. */
  private pendingTicks = 0;
  private lastTickAt = -Infinity;

  constructor(
    readonly spec: ControlSpec,
    /** Where its feedback goes; none when the control shows nothing. */
    readonly outlet: FeedbackOutlet | undefined,
  ) {
    this.moves = spec.feedback?.moves === true;
    this.pickedUp = this.moves;
  }

  /** The value moved away from under a pot (a change from elsewhere, a page change): it must reach it again. */
  losePickup(): void {
    if (!this.moves) this.pickedUp = false;
  }

  /**
   * Soft takeover: a pot whose position is unknown or disagrees with the value does nothing until
   * it reaches the value (within PICKUP_TOLERANCE, inside the same detent, or by crossing it
   * between two messages), so a recall or a page change never makes the sound jump.
   * Returns the value the pot asks for, or undefined while it waits.
   */
  absolute(binding: ParameterBinding, rawPosition: number, current: number): number | undefined {
    const spec = getSpec(binding.param);
    const position = binding.invert ? 1 - rawPosition : rawPosition;
    const previous = this.lastPosition;
    this.lastPosition = position;
    if (!this.pickedUp) {
      const target = valueToPosition(spec, current);
      const near =
        Math.abs(position - target) <= PICKUP_TOLERANCE || positionToValue(spec, position) === current;
      const crossed = previous !== undefined && (previous - target) * (position - target) <= 0;
      if (!near && !crossed) return undefined;
      this.pickedUp = true;
    }
    return positionToValue(spec, position);
  }

  /** `fineScale`: 1, or the mapping's fine factor while fine is held. Undefined: no change yet. */
  relative(
    binding: ParameterBinding,
    ticks: number,
    current: number,
    nowMs: number,
    fineScale: number,
  ): number | undefined {
    if (ticks === 0) return undefined;
    const spec = getSpec(binding.param);
    const direction = binding.invert ? -1 : 1;
    const elapsedMs = Math.max(1, nowMs - this.lastTickAt);
    this.lastTickAt = nowMs;

    const positions = positionsOf(spec);
    if (positions) {
      // A stepped parameter moves detent by detent, like the stepped knob it models; leftover
      // ticks are dropped when someone else changed the value meanwhile.
      if (this.lastValueSet !== current) this.pendingTicks = 0;
      this.pendingTicks += ticks * direction;
      const perStep = binding.ticksPerStep ?? DEFAULT_TICKS_PER_STEP;
      const steps = Math.trunc(this.pendingTicks / perStep);
      this.lastValueSet = current;
      if (steps === 0) return undefined;
      this.pendingTicks -= steps * perStep;
      return positions[Math.min(positions.length - 1, Math.max(0, positions.indexOf(current) + steps))];
    }

    let amount = ticks * direction;
    if (binding.acceleration) amount *= accelerationFactor(binding.acceleration, ticks, elapsedMs);
    const scale = (binding.sensitivity ?? DEFAULT_SENSITIVITY) * fineScale;
    return positionToValue(spec, clamp01(valueToPosition(spec, current) + amount * scale));
  }

  /** Which binding a button message on `layer` goes to; undefined when it has none there. */
  button(down: boolean, layer: string): ButtonPress | undefined {
    const latching = this.spec.latching === true;
    let binding: Binding | undefined;
    if (latching) {
      binding = bindingOn(this.spec, layer);
    } else {
      binding = down ? bindingOn(this.spec, layer) : (this.heldBinding ?? bindingOn(this.spec, layer));
      this.heldBinding = down ? binding : undefined;
    }
    if (!binding) return undefined;
    // A latching button's state is the hold; for everything else each of its messages is a press,
    // after which its latch is set to show the result.
    const pressEach = latching && !isHoldBinding(binding);
    return { binding, pressed: pressEach || down, pressEach };
  }
}

/** What a button message asks of its parameter: momentary follows the hold, toggle and step act on a press. */
export function buttonValue(
  binding: ParameterBinding,
  pressed: boolean,
  current: number,
): number | undefined {
  const spec = getSpec(binding.param);
  const off = binding.off ?? spec.min;
  const on = binding.on ?? spec.max;
  if (binding.mode === 'momentary') return pressed ? on : off;
  if (!pressed) return undefined;
  if (binding.mode === 'toggle') return current !== off ? off : on;
  if (binding.mode !== 'step') return undefined;
  const positions = positionsOf(spec)!;
  const count = positions.length;
  const next = positions.indexOf(current) + (binding.direction ?? 1);
  const wrap = binding.wrap ?? true;
  return positions[wrap ? (next + count) % count : Math.min(count - 1, Math.max(0, next))];
}
