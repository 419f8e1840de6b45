/**
 * The knob box's `HELLO?` handshake (PROTOCOL.md): a device counts as a knob box only by its
 * answer, never by its port name. The same exchange re-establishes a session when a box resets
 * without the USB link dropping.
 */
import {
  DEVICE_KIND,
  LINE_FAULTS,
  PROTOCOL_MAJOR,
  encodeHostMessage,
  type DeviceMessage,
  type LineFault,
} from './protocol.ts';
import type { Timers } from './timers.ts';

type HelloMessage = Extract<DeviceMessage, { type: 'hello' }>;

export type KnobBoxIdentity = Omit<HelloMessage, 'type'>;

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

/** What the handshake needs from the surface it runs on. */
export interface HandshakeHost {
  readonly path: string;
  readonly timers: Timers;
  /** Refused lines so far, by why: the timeout error tells what was heard instead. */
  readonly faults: Readonly<Record<LineFault, number>>;
  writeControl(text: string): void;
  isSession(): boolean;
  /**
   * Called on a valid HELLO, synchronously and before the handshake settles, so that the lines
   * after it in the same chunk are already handled as session lines.
   */
  startSession(identity: KnobBoxIdentity): void;
  /** The same box answered again after a reset. */
  resumeSession(): void;
  lost(reason: string): void;
}

export interface HandshakeOptions {
  /**
   * How long a port has to answer `HELLO?` correctly. Boards with a USB-UART bridge reset when
   * the port opens and sit in their bootloader for up to 2 s first, hence 3 s.
   */
  handshakeTimeoutMs?: number;
  /** `HELLO?` is repeated this often until answered: the first one may reach a booting board. */
  helloRetryMs?: number;
}

export class Handshake {
  private settleHandshake: ((error?: Error) => void) | undefined;
  private helloRetryTimer: unknown;
  private handshakeDeadline: unknown;
  private lastHelloSentAt = -Infinity;
  /** Set while a box that forgot the session (ERR hello) is being asked HELLO? again. */
  private awaitingRehello = false;
  private rehelloTimer: unknown;
  private readonly timeoutMs: number;
  private readonly helloRetryMs: number;

  constructor(
    private readonly host: HandshakeHost,
    options: HandshakeOptions,
  ) {
    this.timeoutMs = options.handshakeTimeoutMs ?? 3000;
    this.helloRetryMs = options.helloRetryMs ?? 250;
  }

  run(): Promise<void> {
    const { timers } = this.host;
    return new Promise<void>((resolve, reject) => {
      this.settleHandshake = (error) => {
        this.settleHandshake = undefined;
        timers.clearTimeout(this.helloRetryTimer);
        timers.clearTimeout(this.handshakeDeadline);
        if (error) reject(error);
        else resolve();
      };
      const ask = () => {
        this.sendHello();
        this.helloRetryTimer = timers.setTimeout(ask, this.helloRetryMs);
      };
      // A leading newline ends whatever half-line an earlier program left in the device's buffer.
      this.host.writeControl('\n');
      ask();
      this.handshakeDeadline = timers.setTimeout(() => {
        const { faults } = this.host;
        const refused = LINE_FAULTS.filter((fault) => faults[fault] > 0).map(
          (fault) => `${faults[fault]} ${fault}`,
        );
        const heard = refused.length
          ? `; heard only refused lines (${refused.join(', ')}): another device, or the wrong baud rate?`
          : '';
        this.settle(
          new NotAKnobBoxError(
            this.host.path,
            `no valid answer to HELLO? within ${this.timeoutMs} ms${heard}`,
          ),
        );
      }, this.timeoutMs);
    });
  }

  /** Ends a handshake still under way, with `error`; a no-op once it has settled. */
  settle(error?: Error): void {
    this.settleHandshake?.(error);
  }

  /** A valid line that arrived before the session started. */
  message(message: DeviceMessage): void {
    if (message.type === 'error' && message.code === 'version') {
      this.settle(
        new NotAKnobBoxError(
          this.host.path,
          `it speaks protocol major ${message.detail || '?'}, this host speaks ${PROTOCOL_MAJOR}`,
        ),
      );
      return;
    }
    // Anything before the HELLO is left over from an earlier session; only the HELLO counts.
    if (message.type !== 'hello') return;
    const { type: _type, ...identity } = message;
    if (identity.kind !== DEVICE_KIND) {
      this.settle(
        new NotAKnobBoxError(this.host.path, `it calls itself "${identity.kind}", not "${DEVICE_KIND}"`),
      );
      return;
    }
    if (identity.protocol.major !== PROTOCOL_MAJOR) {
      this.settle(
        new NotAKnobBoxError(
          this.host.path,
          `it answered with protocol ${identity.protocol.major}.${identity.protocol.minor}, this host speaks ${PROTOCOL_MAJOR}.x`,
        ),
      );
      return;
    }
    this.host.startSession(identity);
    this.settle();
  }

  /** Asks HELLO? again, no more often than helloRetryMs, until the box answers. */
  requestRehello(): void {
    this.awaitingRehello = true;
    if (this.rehelloTimer !== undefined) return;
    const waitMs = Math.max(0, this.lastHelloSentAt + this.helloRetryMs - this.host.timers.now());
    this.rehelloTimer = this.host.timers.setTimeout(this.rehelloTick, waitMs);
  }

  /** A HELLO mid-session answers our re-sent HELLO? after the device reset. */
  rehello(message: HelloMessage, identity: KnobBoxIdentity): void {
    this.awaitingRehello = false;
    this.stopRehello();
    const same =
      message.kind === identity.kind &&
      message.serialNumber === identity.serialNumber &&
      message.protocol.major === identity.protocol.major &&
      message.knobs === identity.knobs &&
      message.buttons === identity.buttons &&
      message.encoders === identity.encoders;
    if (!same) {
      this.host.lost(
        `a different device answered on ${this.host.path} (${message.kind} ${message.serialNumber})`,
      );
      return;
    }
    this.host.resumeSession();
  }

  stopRehello(): void {
    if (this.rehelloTimer !== undefined) this.host.timers.clearTimeout(this.rehelloTimer);
    this.rehelloTimer = undefined;
  }

  private readonly rehelloTick = (): void => {
    this.rehelloTimer = undefined;
    if (!this.host.isSession() || !this.awaitingRehello) return;
    this.sendHello();
    this.rehelloTimer = this.host.timers.setTimeout(this.rehelloTick, this.helloRetryMs);
  };

  private sendHello(): void {
    this.lastHelloSentAt = this.host.timers.now();
    this.host.writeControl(encodeHostMessage({ type: 'hello?', majors: [PROTOCOL_MAJOR] }));
  }
}
