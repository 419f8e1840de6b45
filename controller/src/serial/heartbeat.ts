/**
 * Liveness of a session (PROTOCOL.md, "Session" 7 and 8): `PING?` every heartbeatMs; a box that
 * has sent no valid line, not even `PONG`, for silenceLimitMs is treated as unplugged. A box that
 * reset without the USB link dropping answers the ping with `ERR hello`, so a reset is noticed
 * even while no feedback is being sent.
 */
import { encodeHostMessage } from './protocol.ts';
import type { Timers } from './timers.ts';

/** What the heartbeat needs from the surface it watches. */
export interface HeartbeatHost {
  readonly timers: Timers;
  isSession(): boolean;
  writeControl(text: string): void;
  lost(reason: string): void;
}

export interface HeartbeatOptions {
  /** `PING?` interval; 0 turns the heartbeat off. */
  heartbeatMs?: number;
  /** A device silent for this long (no valid line, not even `PONG`) is treated as unplugged. */
  silenceLimitMs?: number;
}

export class Heartbeat {
  private timer: unknown;
  private lastHeardAt: number;
  private pingToken = 0;
  private readonly heartbeatMs: number;
  private readonly silenceLimitMs: number;

  constructor(
    private readonly host: HeartbeatHost,
    options: HeartbeatOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.silenceLimitMs = options.silenceLimitMs ?? 3 * this.heartbeatMs;
    this.lastHeardAt = host.timers.now();
  }

  /** Any valid line counts as a sign of life. */
  heard(): void {
    this.lastHeardAt = this.host.timers.now();
  }

  start(): void {
    this.heard();
    if (this.heartbeatMs > 0) this.timer = this.host.timers.setTimeout(this.beat, this.heartbeatMs);
  }

  stop(): void {
    if (this.timer !== undefined) this.host.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly beat = (): void => {
    this.timer = undefined;
    if (!this.host.isSession()) return;
    const silentMs = this.host.timers.now() - this.lastHeardAt;
    if (silentMs > this.silenceLimitMs) {
      this.host.lost(`no answer from the device for ${Math.round(silentMs)} ms`);
      return;
    }
    this.pingToken = (this.pingToken + 1) & 0xffff;
    this.host.writeControl(encodeHostMessage({ type: 'ping?', token: this.pingToken }));
    this.timer = this.host.timers.setTimeout(this.beat, this.heartbeatMs);
  };
}
