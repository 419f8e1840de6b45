/**
 * How gestures move a knob, on top of the schema's taper: everything works on the knob's
 * position (0..1, positionToValue/valueToPosition), so a log-tapered frequency moves evenly in
 * octaves and a stepped knob clicks from detent to detent.
 */
import {
  clampValue,
  positionToValue,
  valueToPosition,
  type ParameterSpec,
} from '../../../../engine/src/browser-safe.ts';

/** Pixels of vertical drag for the whole travel; with shift, ten times finer. */
export const DRAG_TRAVEL_PX = 240;
export const FINE_FACTOR = 10;
/** One arrow key or wheel notch: 1 % of the travel (0.1 % fine), or one detent. */
const NUDGE_POSITION = 0.01;

/** Detents: the positions a stepped knob or a switch can take (steps or choices), else none. */
export function detentCount(spec: ParameterSpec): number {
  return spec.steps?.length ?? spec.choices?.length ?? 0;
}

/** The value `amount` nudges away (positive = clockwise); a detented knob moves whole detents. */
export function nudge(spec: ParameterSpec, value: number, amount: number, fine: boolean): number {
  const detents = detentCount(spec);
  if (detents) {
    const index = Math.round(valueToPosition(spec, value) * detents - 0.5);
    const next = Math.min(
      detents - 1,
      Math.max(0, index + Math.sign(amount) * Math.max(1, Math.round(Math.abs(amount)))),
    );
    return positionToValue(spec, (next + 0.5) / detents);
  }
  const position = valueToPosition(spec, value) + amount * NUDGE_POSITION * (fine ? 1 / FINE_FACTOR : 1);
  return clampValue(spec, positionToValue(spec, Math.min(1, Math.max(0, position))));
}

/** The text a value is edited as: the number without its unit, or a switch position's name. */
export function editText(spec: ParameterSpec, value: number): string {
  if (spec.choices) return spec.choices[Math.round(value)] ?? String(value);
  return String(Number(value.toPrecision(4)));
}

/** Arc of a knob's sweep, in degrees from 12 o'clock: 7 o'clock to 5 o'clock, like hardware. */
export const SWEEP_START_DEG = -135;
export const SWEEP_END_DEG = 135;

export function angleForPosition(position: number): number {
  return SWEEP_START_DEG + position * (SWEEP_END_DEG - SWEEP_START_DEG);
}

/** Where a bipolar knob's arc starts: at zero when the range spans it (gain, balance), else at the left end. */
export function arcOrigin(spec: ParameterSpec): number {
  return spec.min < 0 && spec.max > 0 && !spec.steps ? valueToPosition(spec, 0) : 0;
}
