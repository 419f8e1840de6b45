/**
 * One MIDI controller as a surface: its input port (and the output that talks back to it) under
 * one id, `midi:<input port name>`. The object outlives the cable: when the device goes, the
 * surface is disconnected, and `open()` on its return connects the same object again, so
 * listeners stay attached and the parameter-store origin stays the same.
 */
import type { ControlEvent, FeedbackMessage, MidiDecoderConfig, SurfaceAdapter } from '../events.ts';
import { MidiDecoder, encodeFeedback } from './bytes.ts';
import { bytesToEasymidiSends, easymidiMessageToBytes } from './easymidi-messages.ts';
import {
  findFeedbackPort,
  type EasyMidiMessage,
  type MidiBackend,
  type MidiInputPort,
  type MidiOutputPort,
} from './ports.ts';

export interface MidiSurfaceOptions {
  backend: MidiBackend;
  /** The input port, exactly as the backend lists it. */
  portName: string;
  /** From the mapping file: which CC pairs are 14-bit and whether NRPN framing is on. */
  decoder: MidiDecoderConfig;
}

export type MidiSurfaceState = 'disconnected' | 'connected' | 'closed';

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export class MidiSurface implements SurfaceAdapter {
  readonly kind = 'midi';
  readonly id: string;
  readonly name: string;

  private readonly backend: MidiBackend;
  private readonly decoder: MidiDecoder;
  private input: MidiInputPort | null = null;
  private detachInput: (() => void) | null = null;
  private output: MidiOutputPort | null = null;
  private currentState: MidiSurfaceState = 'disconnected';
  private feedbackPort: string | null = null;
  private problem: string | null = null;

  private readonly eventListeners: Array<(event: ControlEvent) => void> = [];
  private readonly disconnectListeners: Array<(reason: string) => void> = [];
  private readonly errorListeners: Array<(message: string) => void> = [];

  private readonly emitEvent = (event: ControlEvent): void => {
    for (const listener of this.eventListeners) {
      try {
        listener(event);
      } catch (error) {
        // A listener's bug must not travel back into RtMidi's callback and take the process down.
        this.reportError(`${this.id}: a listener failed on ${event.kind} event: ${reasonOf(error)}`);
      }
    }
  };

  constructor(options: MidiSurfaceOptions) {
    this.backend = options.backend;
    this.name = options.portName;
    this.id = `midi:${options.portName}`;
    this.decoder = new MidiDecoder(options.decoder);
  }

  /** Creates a surface and opens it; throws (with the port named) when the input will not open. */
  static open(options: MidiSurfaceOptions): MidiSurface {
    const surface = new MidiSurface(options);
    surface.open();
    return surface;
  }

  get state(): MidiSurfaceState {
    return this.currentState;
  }

  get connected(): boolean {
    return this.currentState === 'connected';
  }

  /** The output feedback goes to while connected; null when the device has none we could match or open. */
  get outputName(): string | null {
    return this.feedbackPort;
  }

  /** Why feedback is off although the device is connected (no matching output, or it failed to open). */
  get feedbackProblem(): string | null {
    return this.problem;
  }

  /**
   * Opens the input and its feedback output (rule: `findFeedbackPort`). A missing output is not
   * an error: the knobs still work, `feedbackProblem` says why nothing lights up.
   */
  open(): void {
    if (this.currentState === 'closed') throw new Error(`${this.id}: surface is closed`);
    if (this.currentState === 'connected') return;
    let input: MidiInputPort;
    try {
      input = this.backend.openInput(this.name);
    } catch (error) {
      throw new Error(`${this.id}: input did not open: ${reasonOf(error)}`);
    }
    this.decoder.reset(); // half a 14-bit pair from before the unplug must not pair with new bytes
    // Bound to this port: a port from before a reconnect that still fires must not feed or disconnect the new one.
    const onMessage = (message: EasyMidiMessage): void => {
      if (this.input === input) this.decoder.feed(easymidiMessageToBytes(message), this.emitEvent);
    };
    const onError = (error: unknown): void => {
      if (this.input === input) this.disconnect(`input "${this.name}" failed: ${reasonOf(error)}`);
    };
    input.on('message', onMessage);
    input.on('error', onError);
    // The error listener stays: an EventEmitter with none would throw a late 'error' from a stale port.
    this.detachInput = () => input.removeListener('message', onMessage);
    this.input = input;
    this.openFeedback();
    this.currentState = 'connected';
  }

  onEvent(listener: (event: ControlEvent) => void): void {
    this.eventListeners.push(listener);
  }

  /** Called each time the device is lost (port gone, send failed, input error), with the reason. */
  onDisconnect(listener: (reason: string) => void): void {
    this.disconnectListeners.push(listener);
  }

  /** Problems that leave the surface connected: a listener that threw, feedback that could not be encoded. */
  onError(listener: (message: string) => void): void {
    this.errorListeners.push(listener);
  }

  /**
   * Shows `message` on the device. Never throws: while disconnected (or without an output)
   * feedback is dropped, since the mapping engine resends its state on reconnect; a failing
   * write means the device is gone and disconnects the surface.
   */
  send(message: FeedbackMessage): void {
    const output = this.output;
    if (this.currentState !== 'connected' || !output) return;
    let sends;
    try {
      sends = bytesToEasymidiSends(encodeFeedback(message));
    } catch (error) {
      this.reportError(`${this.id}: feedback ${JSON.stringify(message)} not sent: ${reasonOf(error)}`);
      return;
    }
    try {
      for (const { type, message: payload } of sends) output.send(type, payload);
    } catch (error) {
      this.disconnect(`output "${this.feedbackPort}" failed: ${reasonOf(error)}`);
    }
  }

  /**
   * Closes the ports and tells the disconnect listeners why. Idempotent: a device noticed gone
   * by a failed send and by the port list is reported once.
   */
  disconnect(reason: string): void {
    if (this.currentState !== 'connected') return;
    this.releasePorts();
    this.currentState = 'disconnected';
    for (const listener of this.disconnectListeners) {
      try {
        listener(reason);
      } catch (error) {
        this.reportError(`${this.id}: a disconnect listener failed: ${reasonOf(error)}`);
      }
    }
  }

  /** Final: closes the ports; the surface will not open again. Listeners are not called. */
  async close(): Promise<void> {
    if (this.currentState === 'connected') this.releasePorts();
    this.currentState = 'closed';
  }

  private openFeedback(): void {
    this.feedbackPort = null;
    this.problem = null;
    let outputs: string[];
    try {
      outputs = this.backend.getOutputs();
    } catch (error) {
      this.problem = `output ports could not be listed: ${reasonOf(error)}`;
      return;
    }
    const match = findFeedbackPort(this.name, outputs);
    if (match === null) {
      this.problem = `no output port matches "${this.name}" (outputs: ${outputs.map((o) => `"${o}"`).join(', ') || 'none'})`;
      return;
    }
    try {
      this.output = this.backend.openOutput(match);
      this.feedbackPort = match;
    } catch (error) {
      this.problem = `output "${match}" did not open: ${reasonOf(error)}`;
    }
  }

  /** A vanished device's ports may throw on close; that is the expected state of a gone device. */
  private releasePorts(): void {
    const { input, output, detachInput } = this;
    this.input = null;
    this.output = null;
    this.detachInput = null;
    this.feedbackPort = null;
    detachInput?.();
    if (input) {
      try {
        input.close();
      } catch {
        // already gone with the device
      }
    }
    if (output) {
      try {
        output.close();
      } catch {
        // already gone with the device
      }
    }
  }

  private reportError(message: string): void {
    for (const listener of this.errorListeners) {
      try {
        listener(message);
      } catch {
        // an error listener that throws has nowhere further to report to
      }
    }
  }
}
