/**
 * What crosses between a surface adapter and the mapping engine. Adapters are the only code that
 * knows MIDI bytes or serial lines; the mapping engine knows only these shapes.
 *
 * MIDI values keep their wire resolution (7 or 14 bit) so the mapping engine can tell a 7-bit
 * pot from a 14-bit fader; serial knobs report the firmware's 10-bit ADC scale.
 */

export type MidiChannel = number; // 0..15, as on the wire (displayed as 1..16)

export type ControlEvent =
  /** Absolute or relative 7-bit controller; relative decoding is the mapping's business. */
  | { kind: 'cc'; channel: MidiChannel; controller: number; value: number }
  /** A 14-bit controller pair (MSB on `controller` 0..31, LSB on controller+32), value 0..16383. */
  | { kind: 'cc14'; channel: MidiChannel; controller: number; value: number }
  /** A registered-by-number parameter (CC 99/98 select, 6/38 data), value 0..16383. */
  | { kind: 'nrpn'; channel: MidiChannel; parameter: number; value: number }
  | { kind: 'note'; channel: MidiChannel; note: number; velocity: number; on: boolean }
  /** Motor faders send and receive pitch bend; value 0..16383, centre 8192. */
  | { kind: 'pitchbend'; channel: MidiChannel; value: number }
  /** Serial knob box: absolute pot, 0..1023 after the firmware's smoothing and hysteresis. */
  | { kind: 'knob'; index: number; value: number }
  | { kind: 'button'; index: number; pressed: boolean }
  /** Serial encoder: signed detent count since the last message. */
  | { kind: 'encoder'; index: number; delta: number };

/**
 * What the mapping engine asks a surface to show. MIDI kinds are sent as the same message the
 * control itself sends (an LED ring listens on its own CC); serial kinds follow PROTOCOL.md.
 */
export type FeedbackMessage =
  | { kind: 'cc'; channel: MidiChannel; controller: number; value: number }
  | { kind: 'cc14'; channel: MidiChannel; controller: number; value: number }
  | { kind: 'nrpn'; channel: MidiChannel; parameter: number; value: number }
  | { kind: 'note'; channel: MidiChannel; note: number; velocity: number }
  | { kind: 'pitchbend'; channel: MidiChannel; value: number }
  /** LED ring around knob or encoder `index`, 0..1023 (serial). */
  | { kind: 'ring'; index: number; value: number }
  /** Button light (serial). */
  | { kind: 'led'; index: number; on: boolean };

/**
 * How a MIDI adapter must group bytes before the mapping engine sees them; derived from the
 * mapping file (only the mapping knows that CC 0/32 is one 14-bit fader, not two knobs).
 */
export interface MidiDecoderConfig {
  /** Per channel, the MSB controller numbers (0..31) that pair with controller+32 as 14-bit. */
  readonly cc14: ReadonlyArray<{ channel: MidiChannel; controller: number }>;
  /** Whether CC 99/98/6/38 are NRPN framing on this device rather than plain controls. */
  readonly nrpn: boolean;
}

/** A connected device, as the rest of the rig sees it. */
export interface SurfaceAdapter {
  /** Stable within a run: `midi:<port name>` or `serial:<path>`; the parameter-store origin is `controller:<id>`. */
  readonly id: string;
  readonly kind: 'midi' | 'serial';
  /** What the device calls itself (port name, or the knob box's handshake identity). */
  readonly name: string;
  onEvent(listener: (event: ControlEvent) => void): void;
  send(message: FeedbackMessage): void;
  close(): Promise<void>;
}
