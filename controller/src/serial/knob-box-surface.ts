/**
 * A DIY knob box on a serial port, as a SurfaceAdapter. The device is recognised by its answer
 * to `HELLO?` (PROTOCOL.md), never by guessing from port names; whatever else arrives on the
 * wire is counted and ignored, in bounded memory, and nothing the device sends can throw out of
 * a stream handler.
 */
import type { Duplex } from 'node:stream';
import type { ControlEvent, FeedbackMessage, SurfaceAdapter } from '../events.ts';
import { FeedbackWriter, writeControl, type FeedbackStats } from './feedback-writer.ts';
import { Handshake, type HandshakeOptions, type KnobBoxIdentity } from './handshake.ts';
import { Heartbeat, type HeartbeatOptions } from './heartbeat.ts';
import {
  InputCoalescer,
  errorMessage,
  type CoalescingOptions,
  type CoalescingStats,
} from './input-coalescer.ts';
import { LineReceiver, type ReceiverStats } from './line-receiver.ts';
import { openSerialLink, streamLink, type Link } from './link.ts';
import { ProblemReports, type ProblemListener, type ProblemReportOptions } from './problem-reports.ts';
import type { DeviceMessage, LineFault } from './protocol.ts';
import { systemTimers, type Timers } from './timers.ts';

export { NotAKnobBoxError, type KnobBoxIdentity } from './handshake.ts';

/** Each part's tuning, with its default and the reason for it, is declared where it is used. */
export interface KnobBoxSurfaceOptions
  extends HandshakeOptions, CoalescingOptions, HeartbeatOptions, ProblemReportOptions {
  timers?: Timers;
}

export interface KnobBoxStats extends ReceiverStats, CoalescingStats, FeedbackStats {
  /** `ERR` lines from the device (it refused one of our lines), by code. */
  deviceErrors: Record<string, number>;
}

type Phase = 'handshake' | 'session' | 'closed';

export class KnobBoxSurface implements SurfaceAdapter {
  readonly id: string;
  readonly kind = 'serial' as const;

  private phase: Phase = 'handshake';
  private identityValue: KnobBoxIdentity | undefined;
  private readonly receiver: LineReceiver;
  private readonly handshake: Handshake;
  private readonly input: InputCoalescer;
  private readonly feedback: FeedbackWriter;
  private readonly heartbeat: Heartbeat;
  private readonly problems: ProblemReports;
  private readonly closeListeners: Array<(reason: string) => void> = [];

  private readonly deviceErrors: Record<string, number> = {};

  private constructor(
    private readonly link: Link,
    readonly path: string,
    options: KnobBoxSurfaceOptions,
  ) {
    this.id = `serial:${path}`;
    const timers = options.timers ?? systemTimers;
    // Named by the path alone, as the watcher's other lines about this port are.
    this.problems = new ProblemReports(path, timers, options);
    const isSession = () => this.phase === 'session';
    const problem = (message: string) => this.problems.report(message);
    this.receiver = new LineReceiver(
      {
        isSession,
        badLine: (fault, reason) => this.problems.badLine(fault, reason),
        unterminated: (bytesSoFar) => this.problems.unterminated(bytesSoFar),
      },
      (message) => this.message(message),
    );
    // One host for the other parts; each names the few members it needs.
    const host = {
      path,
      timers,
      faults: this.receiver.faults,
      isSession,
      problem,
      writeControl: (text: string) => writeControl(link.stream, text),
      refuseLine: (fault: LineFault, reason: string, bytes: number) =>
        this.receiver.refuse(fault, reason, bytes),
      startSession: (identity: KnobBoxIdentity) => this.startSession(identity),
      resumeSession: () => {
        // The reset cleared its LEDs and any half-reported presses: show everything again.
        this.input.dropButtonEdges();
        this.feedback.resendAll();
      },
      lost: (reason: string) => this.lost(reason),
    };
    this.handshake = new Handshake(host, options);
    this.input = new InputCoalescer(host, options);
    this.feedback = new FeedbackWriter(link.stream, host);
    this.heartbeat = new Heartbeat(host, options);
    const { stream } = link;
    stream.on('data', (chunk: Buffer) => {
      try {
        this.receive(chunk);
      } catch (error) {
        // Only a bug of ours gets here; the bytes are dropped, the connection lives on.
        this.problems.report(`dropped a chunk of ${chunk.length} bytes: ${errorMessage(error)}`);
      }
    });
    stream.on('error', (error: Error) => this.lost(`port error: ${error.message}`));
    stream.on('close', (error?: Error | null) =>
      this.lost(error ? `port closed: ${error.message}` : 'port closed'),
    );
    stream.on('end', () => this.lost('port ended'));
  }

  /** Opens a serial port and handshakes; rejects with NotAKnobBoxError when it answers wrongly or not at all. */
  static async open(path: string, options: KnobBoxSurfaceOptions = {}): Promise<KnobBoxSurface> {
    return KnobBoxSurface.handshakeOver(await openSerialLink(path), path, options);
  }

  /** Handshakes over any byte stream (an in-process simulator, a socket); `path` names it in ids and errors. */
  static async connect(
    stream: Duplex,
    path: string,
    options: KnobBoxSurfaceOptions = {},
  ): Promise<KnobBoxSurface> {
    return KnobBoxSurface.handshakeOver(streamLink(stream), path, options);
  }

  private static async handshakeOver(
    link: Link,
    path: string,
    options: KnobBoxSurfaceOptions,
  ): Promise<KnobBoxSurface> {
    const surface = new KnobBoxSurface(link, path, options);
    try {
      await surface.handshake.run();
      return surface;
    } catch (error) {
      await surface.close();
      throw error;
    }
  }

  get identity(): KnobBoxIdentity {
    if (!this.identityValue) throw new Error(`${this.id}: no identity before the handshake`);
    return this.identityValue;
  }

  get name(): string {
    const identity = this.identityValue;
    return identity
      ? `${identity.kind} ${identity.serialNumber} (firmware ${identity.firmwareVersion})`
      : this.path;
  }

  get isOpen(): boolean {
    return this.phase !== 'closed';
  }

  /** LED rings the box has: knob rings are 0..knobs-1, encoder rings follow (PROTOCOL.md). */
  get ringCount(): number {
    return this.identity.knobs + this.identity.encoders;
  }

  /**
   * Events that arrive before the first listener (the knob positions reported right after the
   * handshake) are held, one value per control, and delivered on a later turn once it registers.
   */
  onEvent(listener: (event: ControlEvent) => void): void {
    this.input.addListener(listener);
  }

  /** Called once when the connection ends, by unplugging, silence, a different device, or close(). */
  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  /**
   * Refused lines, device errors, throwing listeners: one line a second at most for a log,
   * naming the port and counting by kind, with how many device lines it counts as refused.
   */
  onProblem(listener: ProblemListener): void {
    this.problems.addListener(listener);
  }

  stats(): KnobBoxStats {
    const { receiver, input, feedback } = this;
    return {
      linesAccepted: receiver.linesAccepted,
      faults: { ...receiver.faults },
      discardedBytes: receiver.discardedBytes,
      coalesced: input.stats.coalesced,
      repeatedButtonStates: input.stats.repeatedButtonStates,
      deviceErrors: { ...this.deviceErrors },
      eventsDelivered: input.stats.eventsDelivered,
      feedbackLinesSent: feedback.stats.feedbackLinesSent,
      feedbackRefused: feedback.stats.feedbackRefused,
      bufferedBytes: receiver.bufferedBytes,
      bufferCapacity: receiver.bufferCapacity,
    };
  }

  /** Shows a ring value or button light; never throws. Ring values are rounded and clamped to 0..1023. */
  send(message: FeedbackMessage): void {
    if (this.phase !== 'session') return;
    this.feedback.send(message);
  }

  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    this.end('closed by the host', new Error(`${this.id}: closed during the handshake`));
    await this.link.close();
  }

  private receive(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    this.receiver.push(chunk);
    this.input.scheduleFlush();
  }

  private message(message: DeviceMessage): void {
    this.heartbeat.heard();
    if (this.phase === 'handshake') return this.handshake.message(message);
    if (this.phase === 'session') this.sessionMessage(message);
  }

  private startSession(identity: KnobBoxIdentity): void {
    this.identityValue = identity;
    this.phase = 'session';
    this.input.start(identity);
    this.feedback.start(identity.knobs + identity.encoders, identity.buttons);
    this.heartbeat.start();
  }

  private sessionMessage(message: DeviceMessage): void {
    switch (message.type) {
      case 'knob':
      case 'encoder':
      case 'button':
        return this.input.take(message);
      case 'hello':
        return this.handshake.rehello(message, this.identity);
      case 'error':
        this.deviceErrors[message.code] = (this.deviceErrors[message.code] ?? 0) + 1;
        // The device forgot the session (it reset without the USB link dropping): say HELLO? again.
        if (message.code === 'hello') return this.handshake.requestRehello();
        return this.problems.deviceError(message.code);
      case 'pong':
        return;
    }
  }

  private lost(reason: string): void {
    if (this.phase === 'closed') return;
    this.end(reason, new Error(`${this.path}: ${reason} during the handshake`));
    void this.link.close();
  }

  /** Ends the session once: timers stopped, handshake settled, close listeners told. */
  private end(reason: string, handshakeError: Error): void {
    if (this.phase === 'closed') return;
    const wasSession = this.phase === 'session';
    this.phase = 'closed';
    this.heartbeat.stop();
    this.input.stop();
    this.handshake.stopRehello();
    this.receiver.reset();
    this.handshake.settle(handshakeError);
    // What the last second counted is told before the close is.
    this.problems.flush();
    this.problems.close();
    if (!wasSession) return;
    for (const listener of this.closeListeners) {
      try {
        listener(reason);
      } catch {
        // Every listener hears about the close, whatever the one before it did.
      }
    }
  }
}
