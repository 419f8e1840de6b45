/**
 * A DIY knob box on a serial port, as a SurfaceAdapter. The device is recognised by its answer
 * to `HELLO?` (PROTOCOL.md), never by guessing from port names; whatever else arrives on the
 * wire is counted and ignored, in bounded memory, and nothing the device sends can throw out of
 * a stream handler.
 */
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import type { ControlEvent, FeedbackMessage, SurfaceAdapter } from '../events.ts';
import {
  BAUD_RATE,
  DEVICE_KIND,
  LINE_FAULTS,
  LineAssembler,
  POSITION_MAX,
  PROTOCOL_MAJOR,
  encodeHostMessage,
  parseDeviceLine,
  type DeviceMessage,
  type LineFault,
} from './protocol.ts';
import { systemTimers, type Timers } from './timers.ts';

export type KnobBoxIdentity = Omit<Extract<DeviceMessage, { type: 'hello' }>, 'type'>;

export interface KnobBoxSurfaceOptions {
  /**
   * How long a port has to answer `HELLO?` correctly. Boards with a USB-UART bridge reset when
   * the port opens and sit in their bootloader for up to 2 s first, hence 3 s.
   */
  handshakeTimeoutMs?: number;
  /** `HELLO?` is repeated this often until answered: the first one may reach a booting board. */
  helloRetryMs?: number;
  /**
   * Events per knob/encoder reach the mapping engine at most once per this interval; lines in
   * between are coalesced (latest position, summed detents). 5 ms is the firmware's own rate.
   */
  minEventIntervalMs?: number;
  /** `PING?` interval; 0 turns the heartbeat off. */
  heartbeatMs?: number;
  /** A device silent for this long (no valid line, not even `PONG`) is treated as unplugged. */
  silenceLimitMs?: number;
  /** At most one problem report per this interval; the rest are counted into the next one. */
  problemReportIntervalMs?: number;
  timers?: Timers;
}

/** A port that opened but did not answer like a knob box. */
export class NotAKnobBoxError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path} is not a knob box: ${reason}`);
    this.name = 'NotAKnobBoxError';
  }
}

export interface KnobBoxStats {
  /** Valid lines from the device. */
  linesAccepted: number;
  /** Lines refused, by why (PROTOCOL.md, "Bad lines"). */
  faults: Record<LineFault, number>;
  /** Bytes in refused lines, including overlong ones that were never buffered. */
  discardedBytes: number;
  /** Knob/encoder lines merged into a later event, and button edges dropped in press/release pairs. */
  coalesced: number;
  /** Button lines that repeated the state the button already had. */
  repeatedButtonStates: number;
  /** `ERR` lines from the device (it refused one of our lines), by code. */
  deviceErrors: Record<string, number>;
  eventsDelivered: number;
  feedbackLinesSent: number;
  /** Feedback this box cannot show: MIDI kinds, indexes beyond its rings/LEDs, non-finite values. */
  feedbackRefused: number;
  /** Bytes of a partial line held right now, and the most that can ever be held. */
  bufferedBytes: number;
  bufferCapacity: number;
}

type Phase = 'handshake' | 'session' | 'closed';

/** What the surface talks through: a stream plus the right way to let go of it. */
interface Link {
  readonly stream: Duplex;
  close(): Promise<void>;
}

const NO_VALUE = -1;
/** Past this many unsent bytes the port is stuck; control lines are dropped, the heartbeat decides. */
const MAX_UNSENT_BYTES = 4096;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class KnobBoxSurface implements SurfaceAdapter {
  readonly id: string;
  readonly kind = 'serial' as const;

  private phase: Phase = 'handshake';
  private identityValue: KnobBoxIdentity | undefined;
  private readonly assembler = new LineAssembler();
  private readonly timers: Timers;
  private readonly options: Required<Omit<KnobBoxSurfaceOptions, 'timers'>>;
  private readonly eventListeners: Array<(event: ControlEvent) => void> = [];
  private readonly closeListeners: Array<(reason: string) => void> = [];
  private readonly problemListeners: Array<(message: string) => void> = [];

  private handshakeSettle: ((error?: Error) => void) | undefined;
  private helloRetryTimer: unknown;
  private handshakeDeadline: unknown;
  private heartbeatTimer: unknown;
  private flushTimer: unknown;
  private lastHeardAt: number;
  private lastHelloSentAt = -Infinity;
  /** Set while a box that forgot the session (ERR hello) is being asked HELLO? again. */
  private awaitingRehello = false;
  private rehelloTimer: unknown;
  private pingToken = 0;

  // Session state, sized from the HELLO counts and never grown after.
  private pendingKnobs = new Int16Array(0);
  private pendingEncoders = new Int32Array(0);
  private deliveredButtons: boolean[] = [];
  private pendingButtonEdges: boolean[][] = [];
  private hasPendingEvents = false;
  private lastFlushAt = -Infinity;

  private wantedRings = new Int16Array(0);
  private sentRings = new Int16Array(0);
  private wantedLeds = new Int8Array(0);
  private sentLeds = new Int8Array(0);
  private writingFeedback = false;

  private lastProblemAt = -Infinity;
  private suppressedProblems = 0;

  private readonly counters = {
    linesAccepted: 0,
    faults: Object.fromEntries(LINE_FAULTS.map((fault) => [fault, 0])) as Record<LineFault, number>,
    discardedBytes: 0,
    coalesced: 0,
    repeatedButtonStates: 0,
    deviceErrors: {} as Record<string, number>,
    eventsDelivered: 0,
    feedbackLinesSent: 0,
    feedbackRefused: 0,
  };

  private constructor(
    private readonly link: Link,
    readonly path: string,
    options: KnobBoxSurfaceOptions,
  ) {
    this.id = `serial:${path}`;
    this.timers = options.timers ?? systemTimers;
    const heartbeatMs = options.heartbeatMs ?? 1000;
    this.options = {
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 3000,
      helloRetryMs: options.helloRetryMs ?? 250,
      minEventIntervalMs: options.minEventIntervalMs ?? 5,
      heartbeatMs,
      silenceLimitMs: options.silenceLimitMs ?? 3 * heartbeatMs,
      problemReportIntervalMs: options.problemReportIntervalMs ?? 1000,
    };
    this.lastHeardAt = this.timers.now();
    const { stream } = link;
    stream.on('data', (chunk: Buffer) => {
      try {
        this.receive(chunk);
      } catch (error) {
        // Only a bug of ours gets here; the bytes are dropped, the connection lives on.
        this.problem(`dropped a chunk of ${chunk.length} bytes: ${errorMessage(error)}`);
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
    const port = new SerialPort({
      path,
      baudRate: BAUD_RATE,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => {
      port.open((error) => (error ? reject(new Error(`${path}: cannot open: ${error.message}`)) : resolve()));
    });
    const link: Link = {
      stream: port,
      close: () =>
        new Promise<void>((resolve) => {
          if (!port.isOpen) return resolve();
          port.close(() => resolve());
        }),
    };
    return KnobBoxSurface.handshakeOver(link, path, options);
  }

  /** Handshakes over any byte stream (an in-process simulator, a socket); `path` names it in ids and errors. */
  static async connect(
    stream: Duplex,
    path: string,
    options: KnobBoxSurfaceOptions = {},
  ): Promise<KnobBoxSurface> {
    const link: Link = {
      stream,
      close: () =>
        new Promise<void>((resolve) => {
          if (stream.destroyed) return resolve();
          stream.once('close', () => resolve());
          stream.destroy();
        }),
    };
    return KnobBoxSurface.handshakeOver(link, path, options);
  }

  private static async handshakeOver(
    link: Link,
    path: string,
    options: KnobBoxSurfaceOptions,
  ): Promise<KnobBoxSurface> {
    const surface = new KnobBoxSurface(link, path, options);
    try {
      await surface.handshake();
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
    this.eventListeners.push(listener);
    this.scheduleFlush(true);
  }

  /** Called once when the connection ends, by unplugging, silence, a different device, or close(). */
  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  /** Refused lines, device errors, throwing listeners: rate-limited one-line reports for a log. */
  onProblem(listener: (message: string) => void): void {
    this.problemListeners.push(listener);
  }

  stats(): KnobBoxStats {
    return {
      ...this.counters,
      faults: { ...this.counters.faults },
      deviceErrors: { ...this.counters.deviceErrors },
      bufferedBytes: this.assembler.bufferedBytes,
      bufferCapacity: this.assembler.capacity,
    };
  }

  /** Shows a ring value or button light; never throws. Ring values are rounded and clamped to 0..1023. */
  send(message: FeedbackMessage): void {
    if (this.phase !== 'session') return;
    const fits = (index: number, count: number) => Number.isInteger(index) && index >= 0 && index < count;
    if (
      message.kind === 'ring' &&
      fits(message.index, this.wantedRings.length) &&
      Number.isFinite(message.value)
    ) {
      this.wantedRings[message.index] = Math.min(POSITION_MAX, Math.max(0, Math.round(message.value)));
    } else if (message.kind === 'led' && fits(message.index, this.wantedLeds.length)) {
      this.wantedLeds[message.index] = message.on ? 1 : 0;
    } else {
      this.counters.feedbackRefused++;
      this.problem(
        `cannot show feedback ${JSON.stringify(message)} (rings 0..${this.wantedRings.length - 1}, LEDs 0..${this.wantedLeds.length - 1})`,
      );
      return;
    }
    this.writeFeedback();
  }

  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    this.end('closed by the host', new Error(`${this.id}: closed during the handshake`));
    await this.link.close();
  }

  private handshake(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.handshakeSettle = (error) => {
        this.handshakeSettle = undefined;
        this.timers.clearTimeout(this.helloRetryTimer);
        this.timers.clearTimeout(this.handshakeDeadline);
        if (error) reject(error);
        else resolve();
      };
      const ask = () => {
        this.sendHello();
        this.helloRetryTimer = this.timers.setTimeout(ask, this.options.helloRetryMs);
      };
      // A leading newline ends whatever half-line an earlier program left in the device's buffer.
      this.writeControl('\n');
      ask();
      this.handshakeDeadline = this.timers.setTimeout(() => {
        const refused = LINE_FAULTS.filter((fault) => this.counters.faults[fault] > 0).map(
          (fault) => `${this.counters.faults[fault]} ${fault}`,
        );
        const heard = refused.length
          ? `; heard only refused lines (${refused.join(', ')}): another device, or the wrong baud rate?`
          : '';
        this.handshakeSettle?.(
          new NotAKnobBoxError(
            this.path,
            `no valid answer to HELLO? within ${this.options.handshakeTimeoutMs} ms${heard}`,
          ),
        );
      }, this.options.handshakeTimeoutMs);
    });
  }

  private sendHello(): void {
    this.lastHelloSentAt = this.timers.now();
    this.writeControl(encodeHostMessage({ type: 'hello?', majors: [PROTOCOL_MAJOR] }));
  }

  private receive(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    this.assembler.push(chunk, this.lineSink);
    this.scheduleFlush();
  }

  private readonly lineSink = {
    line: (text: string) => this.handleLine(text),
    overlong: (bytes: number) => this.refuseLine('overlong', `a line of ${bytes} bytes`, bytes),
  };

  private refuseLine(fault: LineFault, reason: string, bytes: number): void {
    this.counters.faults[fault]++;
    this.counters.discardedBytes += bytes;
    if (this.phase === 'session') this.problem(`ignored a line from the device (${fault}): ${reason}`);
  }

  private handleLine(text: string): void {
    const parsed = parseDeviceLine(text);
    if (!parsed.ok) return this.refuseLine(parsed.fault, parsed.reason, text.length);
    this.counters.linesAccepted++;
    this.lastHeardAt = this.timers.now();
    const message = parsed.message;
    if (this.phase === 'handshake') return this.handshakeMessage(message);
    if (this.phase === 'session') this.sessionMessage(message);
  }

  private handshakeMessage(message: DeviceMessage): void {
    if (message.type === 'error' && message.code === 'version') {
      this.handshakeSettle?.(
        new NotAKnobBoxError(
          this.path,
          `it speaks protocol major ${message.detail || '?'}, this host speaks ${PROTOCOL_MAJOR}`,
        ),
      );
      return;
    }
    // Anything before the HELLO is left over from an earlier session; only the HELLO counts.
    if (message.type !== 'hello') return;
    const { type: _type, ...identity } = message;
    if (identity.kind !== DEVICE_KIND) {
      this.handshakeSettle?.(
        new NotAKnobBoxError(this.path, `it calls itself "${identity.kind}", not "${DEVICE_KIND}"`),
      );
      return;
    }
    if (identity.protocol.major !== PROTOCOL_MAJOR) {
      this.handshakeSettle?.(
        new NotAKnobBoxError(
          this.path,
          `it answered with protocol ${identity.protocol.major}.${identity.protocol.minor}, this host speaks ${PROTOCOL_MAJOR}.x`,
        ),
      );
      return;
    }
    this.startSession(identity);
    this.handshakeSettle?.();
  }

  private startSession(identity: KnobBoxIdentity): void {
    this.identityValue = identity;
    this.phase = 'session';
    this.pendingKnobs = new Int16Array(identity.knobs).fill(NO_VALUE);
    this.pendingEncoders = new Int32Array(identity.encoders);
    this.deliveredButtons = new Array<boolean>(identity.buttons).fill(false);
    this.pendingButtonEdges = Array.from({ length: identity.buttons }, () => []);
    this.wantedRings = new Int16Array(identity.knobs + identity.encoders).fill(NO_VALUE);
    this.sentRings = new Int16Array(identity.knobs + identity.encoders).fill(NO_VALUE);
    this.wantedLeds = new Int8Array(identity.buttons).fill(NO_VALUE);
    this.sentLeds = new Int8Array(identity.buttons).fill(NO_VALUE);
    this.lastHeardAt = this.timers.now();
    if (this.options.heartbeatMs > 0)
      this.heartbeatTimer = this.timers.setTimeout(this.heartbeat, this.options.heartbeatMs);
  }

  private sessionMessage(message: DeviceMessage): void {
    const identity = this.identity;
    switch (message.type) {
      case 'knob':
        if (message.index >= identity.knobs)
          return this.refuseLine('range', `knob ${message.index} on a box with ${identity.knobs} knobs`, 0);
        if (this.pendingKnobs[message.index] !== NO_VALUE) this.counters.coalesced++;
        this.pendingKnobs[message.index] = message.value;
        this.hasPendingEvents = true;
        return;
      case 'encoder':
        if (message.index >= identity.encoders)
          return this.refuseLine(
            'range',
            `encoder ${message.index} on a box with ${identity.encoders} encoders`,
            0,
          );
        if (this.pendingEncoders[message.index] !== 0) this.counters.coalesced++;
        this.pendingEncoders[message.index] += message.delta;
        this.hasPendingEvents = true;
        return;
      case 'button':
        if (message.index >= identity.buttons)
          return this.refuseLine(
            'range',
            `button ${message.index} on a box with ${identity.buttons} buttons`,
            0,
          );
        return this.queueButtonEdge(message.index, message.down);
      case 'hello':
        return this.rehello(message);
      case 'error':
        this.counters.deviceErrors[message.code] = (this.counters.deviceErrors[message.code] ?? 0) + 1;
        // The device forgot the session (it reset without the USB link dropping): say HELLO? again.
        if (message.code === 'hello') return this.requestRehello();
        this.problem(
          `the device refused a line from the host: ERR ${message.code}${message.detail ? ` ${message.detail}` : ''}`,
        );
        return;
      case 'pong':
        return;
    }
  }

  /** Asks HELLO? again, no more often than helloRetryMs, until the box answers. */
  private requestRehello(): void {
    this.awaitingRehello = true;
    if (this.rehelloTimer !== undefined) return;
    const waitMs = Math.max(0, this.lastHelloSentAt + this.options.helloRetryMs - this.timers.now());
    this.rehelloTimer = this.timers.setTimeout(this.rehelloTick, waitMs);
  }

  private readonly rehelloTick = (): void => {
    this.rehelloTimer = undefined;
    if (this.phase !== 'session' || !this.awaitingRehello) return;
    this.sendHello();
    this.rehelloTimer = this.timers.setTimeout(this.rehelloTick, this.options.helloRetryMs);
  };

  /** A HELLO mid-session answers our re-sent HELLO? after the device reset. */
  private rehello(message: Extract<DeviceMessage, { type: 'hello' }>): void {
    this.awaitingRehello = false;
    if (this.rehelloTimer !== undefined) this.timers.clearTimeout(this.rehelloTimer);
    this.rehelloTimer = undefined;
    const identity = this.identity;
    const same =
      message.kind === identity.kind &&
      message.serialNumber === identity.serialNumber &&
      message.protocol.major === identity.protocol.major &&
      message.knobs === identity.knobs &&
      message.buttons === identity.buttons &&
      message.encoders === identity.encoders;
    if (!same) {
      this.end(`a different device answered on ${this.path} (${message.kind} ${message.serialNumber})`);
      void this.link.close();
      return;
    }
    // The reset cleared its LEDs and any half-reported presses: show everything again.
    this.sentRings.fill(NO_VALUE);
    this.sentLeds.fill(NO_VALUE);
    for (const edges of this.pendingButtonEdges) edges.length = 0;
    this.writeFeedback();
  }

  /**
   * Edges are kept in order, at most a press and a release per button per flush, so the mapping
   * engine never sees more than two per button per interval however fast the line chatters.
   */
  private queueButtonEdge(index: number, down: boolean): void {
    const edges = this.pendingButtonEdges[index];
    const current = edges.length ? edges[edges.length - 1] : this.deliveredButtons[index];
    if (current === down) {
      this.counters.repeatedButtonStates++;
      return;
    }
    if (edges.length < 2) {
      edges.push(down);
      this.hasPendingEvents = true;
      return;
    }
    // A third edge undoes the second: drop both, the button's final state stays right.
    edges.pop();
    this.counters.coalesced += 2;
  }

  /** `deferred`: never deliver from inside the caller's own call (a listener registering itself). */
  private scheduleFlush(deferred = false): void {
    if (
      !this.hasPendingEvents ||
      this.flushTimer !== undefined ||
      this.phase !== 'session' ||
      this.eventListeners.length === 0
    )
      return;
    const waitMs = this.lastFlushAt + this.options.minEventIntervalMs - this.timers.now();
    if (waitMs <= 0 && !deferred) {
      this.flush();
      return;
    }
    this.flushTimer = this.timers.setTimeout(
      () => {
        this.flushTimer = undefined;
        this.flush();
      },
      Math.max(0, waitMs),
    );
  }

  private flush(): void {
    if (this.phase !== 'session') return;
    this.lastFlushAt = this.timers.now();
    this.hasPendingEvents = false;
    // Presses first: a button is an action, and it should not wait behind a knob sweep.
    this.pendingButtonEdges.forEach((edges, index) => {
      for (const down of edges) {
        this.deliveredButtons[index] = down;
        this.emit({ kind: 'button', index, pressed: down });
      }
      edges.length = 0;
    });
    this.pendingEncoders.forEach((delta, index) => {
      if (delta === 0) return;
      this.pendingEncoders[index] = 0;
      this.emit({ kind: 'encoder', index, delta });
    });
    this.pendingKnobs.forEach((value, index) => {
      if (value === NO_VALUE) return;
      this.pendingKnobs[index] = NO_VALUE;
      this.emit({ kind: 'knob', index, value });
    });
  }

  private emit(event: ControlEvent): void {
    this.counters.eventsDelivered++;
    for (const listener of this.eventListeners) {
      try {
        listener(event);
      } catch (error) {
        this.problem(`an event listener threw on ${JSON.stringify(event)}: ${errorMessage(error)}`);
      }
    }
  }

  private readonly heartbeat = (): void => {
    this.heartbeatTimer = undefined;
    if (this.phase !== 'session') return;
    const silentMs = this.timers.now() - this.lastHeardAt;
    if (silentMs > this.options.silenceLimitMs) {
      this.end(`no answer from the device for ${Math.round(silentMs)} ms`);
      void this.link.close();
      return;
    }
    this.pingToken = (this.pingToken + 1) & 0xffff;
    this.writeControl(encodeHostMessage({ type: 'ping?', token: this.pingToken }));
    this.heartbeatTimer = this.timers.setTimeout(this.heartbeat, this.options.heartbeatMs);
  };

  /**
   * Feedback is state, not a queue: the latest wanted value per ring/LED, written in one batch
   * once the previous batch has left, so a stalled port holds at most one value per light.
   */
  private writeFeedback(): void {
    if (this.writingFeedback || this.phase !== 'session') return;
    let text = '';
    let lines = 0;
    this.wantedRings.forEach((value, index) => {
      if (value === NO_VALUE || value === this.sentRings[index]) return;
      text += encodeHostMessage({ type: 'ring', index, value });
      this.sentRings[index] = value;
      lines++;
    });
    this.wantedLeds.forEach((value, index) => {
      if (value === NO_VALUE || value === this.sentLeds[index]) return;
      text += encodeHostMessage({ type: 'led', index, on: value === 1 });
      this.sentLeds[index] = value;
      lines++;
    });
    if (!text) return;
    this.writingFeedback = true;
    this.counters.feedbackLinesSent += lines;
    this.link.stream.write(text, (error) => {
      this.writingFeedback = false;
      if (!error) this.writeFeedback();
    });
  }

  private writeControl(text: string): void {
    const { stream } = this.link;
    if (stream.destroyed || !stream.writable || stream.writableLength > MAX_UNSENT_BYTES) return;
    stream.write(text, () => {});
  }

  private problem(message: string): void {
    if (this.problemListeners.length === 0) return;
    const now = this.timers.now();
    if (now - this.lastProblemAt < this.options.problemReportIntervalMs) {
      this.suppressedProblems++;
      return;
    }
    const suppressed = this.suppressedProblems
      ? ` (and ${this.suppressedProblems} more since the last report)`
      : '';
    this.lastProblemAt = now;
    this.suppressedProblems = 0;
    for (const listener of this.problemListeners) {
      try {
        listener(`${this.id}: ${message}${suppressed}`);
      } catch {
        // A broken logger must not take the surface down with it.
      }
    }
  }

  private lost(reason: string): void {
    if (this.phase === 'closed') return;
    this.end(reason, new Error(`${this.path}: ${reason} during the handshake`));
    void this.link.close();
  }

  /** Ends the session once: timers stopped, handshake settled, close listeners told. */
  private end(reason: string, handshakeError: Error = new Error(`${this.path}: ${reason}`)): void {
    if (this.phase === 'closed') return;
    const wasSession = this.phase === 'session';
    this.phase = 'closed';
    if (this.heartbeatTimer !== undefined) this.timers.clearTimeout(this.heartbeatTimer);
    if (this.flushTimer !== undefined) this.timers.clearTimeout(this.flushTimer);
    if (this.rehelloTimer !== undefined) this.timers.clearTimeout(this.rehelloTimer);
    this.heartbeatTimer = undefined;
    this.flushTimer = undefined;
    this.rehelloTimer = undefined;
    this.assembler.reset();
    this.handshakeSettle?.(handshakeError);
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
