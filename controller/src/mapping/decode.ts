/**
 * What an incoming message means to the control that sent it: which control it is (one numeric
 * key, the same for a binding's input and for the event), the travel of an absolute control,
 * the ticks of a relative one, whether a button is down. Pure functions; the mapper holds state.
 */
import type { ControlEvent } from '../events.ts';
import type { Address, ParameterBinding } from './types.ts';

export const KNOB_MAX = 1023;
export const MIDI_7_BIT_MAX = 127;
export const MIDI_14_BIT_MAX = 16383;

/** Acceleration starts above this turning speed and reaches its full factor at FAST. */
const SLOW_TICKS_PER_SECOND = 10;
const FAST_TICKS_PER_SECOND = 50;

/**
 * Where a message comes from, as it is on the wire (MIDI channel 0..15). Every ControlEvent
 * already has this shape; a binding's input gets it from `onWire`, so both share one key.
 */
export type Source =
  | { readonly kind: 'cc' | 'cc14'; readonly channel: number; readonly controller: number }
  | { readonly kind: 'nrpn'; readonly channel: number; readonly parameter: number }
  | { readonly kind: 'note'; readonly channel: number; readonly note: number }
  | { readonly kind: 'pitchbend'; readonly channel: number }
  | { readonly kind: 'knob' | 'button' | 'encoder' | 'ring' | 'led'; readonly index: number };

/** A mapping file counts MIDI channels 1..16, the wire 0..15. */
export function onWire(address: Address): Source {
  return 'channel' in address ? { ...address, channel: address.channel - 1 } : address;
}

const KIND_CODES: Record<Source['kind'], number> = {
  cc: 1,
  cc14: 2,
  nrpn: 3,
  note: 4,
  pitchbend: 5,
  knob: 6,
  button: 7,
  encoder: 8,
  ring: 9,
  led: 10,
};

/** A numeric key per message source, so the hot path looks controls up without building strings. */
export function sourceKey(source: Source): number {
  const code = KIND_CODES[source.kind] * 0x200000;
  switch (source.kind) {
    case 'cc':
    case 'cc14':
      return code + source.channel * 0x4000 + source.controller;
    case 'nrpn':
      return code + source.channel * 0x4000 + source.parameter;
    case 'note':
      return code + source.channel * 0x4000 + source.note;
    case 'pitchbend':
      return code + source.channel * 0x4000;
    default:
      return code + source.index;
  }
}

/** The control's travel as 0..1, at whatever resolution it sends. */
export function absolutePosition(event: ControlEvent, input: Address): number {
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
export function relativeTicks(mode: ParameterBinding['mode'], event: ControlEvent): number {
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

/** How much further than one tick each tick goes when `ticks` arrived `elapsedMs` after the last. */
export function accelerationFactor(acceleration: number, ticks: number, elapsedMs: number): number {
  const ticksPerSecond = (Math.abs(ticks) * 1000) / elapsedMs;
  const speed = clamp01(
    (ticksPerSecond - SLOW_TICKS_PER_SECOND) / (FAST_TICKS_PER_SECOND - SLOW_TICKS_PER_SECOND),
  );
  return 1 + acceleration * speed;
}

export function isPress(event: ControlEvent): boolean {
  if (event.kind === 'note') return event.on;
  if (event.kind === 'button') return event.pressed;
  if (event.kind === 'cc') return event.value >= 64;
  return false;
}

export const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
