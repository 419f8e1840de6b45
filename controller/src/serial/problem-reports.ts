/**
 * One-line problem reports for a log, rate-limited: a device spewing garbage produces one report
 * per interval, each counting the ones it stands for, instead of a log line per bad line.
 */
import type { Timers } from './timers.ts';

export interface ProblemReportOptions {
  /** At most one problem report per this interval; the rest are counted into the next one. */
  problemReportIntervalMs?: number;
}

export class ProblemReports {
  private readonly listeners: Array<(message: string) => void> = [];
  private lastReportAt = -Infinity;
  private suppressed = 0;
  private readonly intervalMs: number;

  constructor(
    private readonly prefix: string,
    private readonly timers: Timers,
    options: ProblemReportOptions,
  ) {
    this.intervalMs = options.problemReportIntervalMs ?? 1000;
  }

  addListener(listener: (message: string) => void): void {
    this.listeners.push(listener);
  }

  report(message: string): void {
    if (this.listeners.length === 0) return;
    const now = this.timers.now();
    if (now - this.lastReportAt < this.intervalMs) {
      this.suppressed++;
      return;
    }
    const suppressed = this.suppressed ? ` (and ${this.suppressed} more since the last report)` : '';
    this.lastReportAt = now;
    this.suppressed = 0;
    for (const listener of this.listeners) {
      try {
        listener(`${this.prefix}: ${message}${suppressed}`);
      } catch {
        // A broken logger must not take the surface down with it.
      }
    }
  }
}
