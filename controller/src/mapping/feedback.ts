/**
 * Feedback: what a control's LED ring, motor fader or button light should show for the rig's
 * current values, as the message its device understands, sent at most once per interval per
 * control with the last value always following, so a recall moves the hardware without
 * flooding a slow MIDI port.
 */
import { getSpec, valueToPosition } from '../../../engine/src/browser-safe.ts';
import type { FeedbackMessage } from '../events.ts';
import { KNOB_MAX, MIDI_14_BIT_MAX, MIDI_7_BIT_MAX } from './decode.ts';
import {
  BUTTON_MODES,
  isButtonBinding,
  isParameterBinding,
  positionsOf,
  type Address,
  type Binding,
  type ControlSpec,
} from './types.ts';

/** Feedback per control at most this often; the last value always follows (trailing update). */
export const DEFAULT_FEEDBACK_INTERVAL_MS = 20;

/** The surface's state a light can show besides parameter values, read at the moment of sending. */
export interface SurfaceView {
  activeLayer(): string;
  fineHeld(): boolean;
  value(id: string): number;
}

/** What the control's light, ring or motor should show now, with `binding` its binding on the current layer. */
export function feedbackMessage(
  control: ControlSpec,
  to: Address,
  binding: Binding | undefined,
  view: SurfaceView,
): FeedbackMessage | undefined {
  let position = 0;
  let lit = false;
  if (binding && isParameterBinding(binding)) {
    const spec = getSpec(binding.param);
    const value = view.value(spec.id);
    if (BUTTON_MODES.includes(binding.mode)) {
      lit = binding.mode === 'step' ? value !== positionsOf(spec)![0] : value !== (binding.off ?? spec.min);
    } else {
      position = valueToPosition(spec, value);
      if (binding.invert) position = 1 - position;
    }
  } else if (binding) {
    lit =
      (binding.action === 'layer' && view.activeLayer() === binding.layer) ||
      (binding.action === 'fine' && view.fineHeld());
  }
  const onValue = control.feedback?.on ?? MIDI_7_BIT_MAX;
  const offValue = control.feedback?.off ?? 0;
  const lightOrLevel = (max: number) =>
    isButtonBinding(binding) ? (lit ? onValue : offValue) : Math.round(position * max);
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

export interface FeedbackTiming {
  readonly intervalMs: number;
  readonly now: () => number;
}

/**
 * One control's way out: rate-limited sends of whatever `render` says at the moment of sending,
 * so a trailing send carries the latest value, not the one that scheduled it.
 */
export class FeedbackOutlet {
  private lastSentAt = -Infinity;
  private lastSentValue: number | undefined;
  private forceNextSend = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly timing: FeedbackTiming,
    private readonly render: () => FeedbackMessage | undefined,
    private readonly send: (message: FeedbackMessage) => void,
  ) {}

  /** `force`: send even when the value is the one last sent (the device may show something else by now). */
  queue(force: boolean): void {
    if (this.closed) return;
    if (force) this.forceNextSend = true;
    if (this.timer) return; // the trailing send reads the value when it fires
    const waitMs = this.lastSentAt + this.timing.intervalMs - this.timing.now();
    if (waitMs <= 0) {
      this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, waitMs);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flush(): void {
    const message = this.render();
    if (!message) return;
    const value =
      'value' in message ? message.value : 'velocity' in message ? message.velocity : message.on ? 1 : 0;
    if (!this.forceNextSend && value === this.lastSentValue) return;
    this.forceNextSend = false;
    this.lastSentValue = value;
    this.lastSentAt = this.timing.now();
    this.send(message);
  }
}
