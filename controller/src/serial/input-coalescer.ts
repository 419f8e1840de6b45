/**
 * Knob, encoder and button lines from the box, turned into ControlEvents at a bounded rate: a
 * chattering line or a fast sweep costs the mapping engine at most one event per control (two
 * per button) per interval, in memory sized once from the HELLO counts.
 */
import type { ControlEvent } from '../events.ts';
import type { DeviceMessage } from './protocol.ts';
import type { Timers } from './timers.ts';

type ControlMessage = Extract<DeviceMessage, { type: 'knob' | 'encoder' | 'button' }>;

/** What the coalescer needs from the surface it feeds. */
export interface InputHost {
  readonly timers: Timers;
  isSession(): boolean;
  refuseLine(fault: 'range', reason: string, bytes: number): void;
  problem(message: string): void;
}

export interface ControlCounts {
  knobs: number;
  encoders: number;
  buttons: number;
}

export interface CoalescingOptions {
  /**
   * Events per knob/encoder reach the mapping engine at most once per this interval; lines in
   * between are coalesced (latest position, summed detents). 5 ms is the firmware's own rate.
   */
  minEventIntervalMs?: number;
}

export interface CoalescingStats {
  /** Knob/encoder lines merged into a later event, and button edges dropped in press/release pairs. */
  coalesced: number;
  /** Button lines that repeated the state the button already had. */
  repeatedButtonStates: number;
  eventsDelivered: number;
}

const NO_VALUE = -1;

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class InputCoalescer {
  readonly stats: CoalescingStats = { coalesced: 0, repeatedButtonStates: 0, eventsDelivered: 0 };

  private readonly listeners: Array<(event: ControlEvent) => void> = [];
  private counts: ControlCounts = { knobs: 0, encoders: 0, buttons: 0 };
  private pendingKnobs = new Int16Array(0);
  private pendingEncoders = new Int32Array(0);
  private deliveredButtons: boolean[] = [];
  private pendingButtonEdges: boolean[][] = [];
  private hasPendingEvents = false;
  private lastFlushAt = -Infinity;
  private flushTimer: unknown;
  private readonly minEventIntervalMs: number;

  constructor(
    private readonly host: InputHost,
    options: CoalescingOptions,
  ) {
    this.minEventIntervalMs = options.minEventIntervalMs ?? 5;
  }

  /** Sizes the session state from the HELLO counts; it is never grown after. */
  start(counts: ControlCounts): void {
    this.counts = { knobs: counts.knobs, encoders: counts.encoders, buttons: counts.buttons };
    this.pendingKnobs = new Int16Array(counts.knobs).fill(NO_VALUE);
    this.pendingEncoders = new Int32Array(counts.encoders);
    this.deliveredButtons = new Array<boolean>(counts.buttons).fill(false);
    this.pendingButtonEdges = Array.from({ length: counts.buttons }, () => []);
  }

  /** Events held for want of a listener go out on a later turn, not inside this call. */
  addListener(listener: (event: ControlEvent) => void): void {
    this.listeners.push(listener);
    this.scheduleFlush(true);
  }

  take(message: ControlMessage): void {
    const { counts } = this;
    switch (message.type) {
      case 'knob':
        if (message.index >= counts.knobs)
          return this.host.refuseLine(
            'range',
            `knob ${message.index} on a box with ${counts.knobs} knobs`,
            0,
          );
        if (this.pendingKnobs[message.index] !== NO_VALUE) this.stats.coalesced++;
        this.pendingKnobs[message.index] = message.value;
        this.hasPendingEvents = true;
        return;
      case 'encoder':
        if (message.index >= counts.encoders)
          return this.host.refuseLine(
            'range',
            `encoder ${message.index} on a box with ${counts.encoders} encoders`,
            0,
          );
        if (this.pendingEncoders[message.index] !== 0) this.stats.coalesced++;
        this.pendingEncoders[message.index] += message.delta;
        this.hasPendingEvents = true;
        return;
      case 'button':
        if (message.index >= counts.buttons)
          return this.host.refuseLine(
            'range',
            `button ${message.index} on a box with ${counts.buttons} buttons`,
            0,
          );
        return this.queueButtonEdge(message.index, message.down);
    }
  }

  /** A box that reset forgot its half-reported presses. */
  dropButtonEdges(): void {
    for (const edges of this.pendingButtonEdges) edges.length = 0;
  }

  /** `deferred`: never deliver from inside the caller's own call (a listener registering itself). */
  scheduleFlush(deferred = false): void {
    if (
      !this.hasPendingEvents ||
      this.flushTimer !== undefined ||
      !this.host.isSession() ||
      this.listeners.length === 0
    )
      return;
    const { timers } = this.host;
    const waitMs = this.lastFlushAt + this.minEventIntervalMs - timers.now();
    if (waitMs <= 0 && !deferred) {
      this.flush();
      return;
    }
    this.flushTimer = timers.setTimeout(
      () => {
        this.flushTimer = undefined;
        this.flush();
      },
      Math.max(0, waitMs),
    );
  }

  stop(): void {
    if (this.flushTimer !== undefined) this.host.timers.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /**
   * Edges are kept in order, at most a press and a release per button per flush, so the mapping
   * engine never sees more than two per button per interval however fast the line chatters.
   */
  private queueButtonEdge(index: number, down: boolean): void {
    const edges = this.pendingButtonEdges[index];
    const current = edges.length ? edges[edges.length - 1] : this.deliveredButtons[index];
    if (current === down) {
      this.stats.repeatedButtonStates++;
      return;
    }
    if (edges.length < 2) {
      edges.push(down);
      this.hasPendingEvents = true;
      return;
    }
    // A third edge undoes the second: drop both, the button's final state stays right.
    edges.pop();
    this.stats.coalesced += 2;
  }

  private flush(): void {
    if (!this.host.isSession()) return;
    this.lastFlushAt = this.host.timers.now();
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
    this.stats.eventsDelivered++;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.host.problem(`an event listener threw on ${JSON.stringify(event)}: ${errorMessage(error)}`);
      }
    }
  }
}
