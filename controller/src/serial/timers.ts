/**
 * The clock and timers the serial code runs on, injectable so tests can step time instead of
 * sleeping (backoff schedules, handshake timeouts, heartbeats).
 */
export interface Timers {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface ManualTimer {
  readonly at: number;
  readonly order: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told: backoff schedules and timeouts can be stepped through in a
 * test, or a simulation, without waiting for them. `advance` runs due callbacks in time order and
 * yields to the event loop between them, so stream I/O and promises they start can settle.
 */
export class ManualTimers implements Timers {
  private nowMs = 0;
  private order = 0;
  private pending: ManualTimer[] = [];

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const timer: ManualTimer = {
      at: this.nowMs + Math.max(0, delayMs),
      order: this.order++,
      callback,
      cancelled: false,
    };
    this.pending.push(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    if (handle && typeof handle === 'object' && 'cancelled' in handle)
      (handle as ManualTimer).cancelled = true;
  }

  /** Timers still waiting to fire, as delays from now. */
  scheduledDelays(): number[] {
    return this.pending.filter((timer) => !timer.cancelled).map((timer) => timer.at - this.nowMs);
  }

  async advance(byMs: number): Promise<void> {
    const target = this.nowMs + byMs;
    await settle();
    for (;;) {
      this.pending = this.pending.filter((timer) => !timer.cancelled);
      const due = this.pending
        .filter((timer) => timer.at <= target)
        .sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.pending.splice(this.pending.indexOf(due), 1);
      this.nowMs = due.at;
      due.callback();
      await settle();
    }
    this.nowMs = target;
  }
}

/** A few turns of the event loop: enough for in-memory streams and promise chains to run dry. */
export async function settle(turns = 20): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}
