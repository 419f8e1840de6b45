/**
 * What went wrong on a knob box's line, as one log line a second at most (PROTOCOL.md, "Bad
 * lines"): the first problem after a quiet spell opens a second, everything in it is counted by
 * kind, and when it ends one line tells all of it. A box spewing garbage costs the log one line
 * a second, however fast it spews, and a burst is told whole rather than by its first line.
 */
import { LINE_FAULTS, type LineFault } from './protocol.ts';
import type { Timers } from './timers.ts';

export interface ProblemReportOptions {
  /** At most one report per this interval; what happens meanwhile is counted into it. 0: report each at once. */
  problemReportIntervalMs?: number;
}

/** Told a report: the log line, and how many lines from the device it counts as refused. */
export type ProblemListener = (message: string, badLines: number) => void;

/** Each fault as the log counts it: `500 lines with bad checksums`, `1 overlong line dropped`. */
const FAULT_PHRASES: Record<LineFault, [one: string, many: string]> = {
  overlong: ['overlong line dropped', 'overlong lines dropped'],
  frame: ['line with bad framing', 'lines with bad framing'],
  checksum: ['line with a bad checksum', 'lines with bad checksums'],
  syntax: ['line with bad fields', 'lines with bad fields'],
  unknown: ['line with an unknown verb', 'lines with unknown verbs'],
  range: ['line with a value out of range', 'lines with values out of range'],
};

/** `ERR` codes told apart in one report; PROTOCOL.md defines eight. */
const MAX_CODES = 8;
const MAX_CODE_LENGTH = 16;
const OTHER_CODES = 'other codes';

const counted = (count: number, [one, many]: readonly [string, string]) =>
  `${count} ${count === 1 ? one : many}`;

export class ProblemReports {
  private readonly listeners: ProblemListener[] = [];
  private readonly intervalMs: number;
  private readonly timePhrase: string;
  private flushTimer: unknown;

  // What the current interval has seen.
  private readonly faults = Object.fromEntries(LINE_FAULTS.map((fault) => [fault, 0])) as Record<
    LineFault,
    number
  >;
  private lastFaultReason = '';
  private readonly deviceErrors = new Map<string, number>();
  private unterminatedBytes = 0;
  private firstMessage: string | undefined;
  private moreMessages = 0;

  /** `prefix` names the port at the start of every line. */
  constructor(
    private readonly prefix: string,
    private readonly timers: Timers,
    options: ProblemReportOptions,
  ) {
    this.intervalMs = options.problemReportIntervalMs ?? 1000;
    this.timePhrase =
      this.intervalMs === 1000
        ? ' in the last second'
        : this.intervalMs > 0
          ? ` in the last ${this.intervalMs} ms`
          : '';
  }

  addListener(listener: ProblemListener): void {
    this.listeners.push(listener);
  }

  /** A line from the device refused (counted and ignored, never acted on). */
  badLine(fault: LineFault, reason: string): void {
    this.faults[fault]++;
    this.lastFaultReason = reason;
    // That line has ended, whatever was said of it while it ran.
    if (fault === 'overlong') this.unterminatedBytes = 0;
    this.pending();
  }

  /** A line with no end in sight is being dropped, `bytesSoFar` of it by now. */
  unterminated(bytesSoFar: number): void {
    this.unterminatedBytes = bytesSoFar;
    this.pending();
  }

  /** The device answered one of our lines with `ERR <code>`. */
  deviceError(code: string): void {
    // Codes are the device's words: a few, each short, keep a flood of made-up ones to one line.
    let key = code.length > MAX_CODE_LENGTH ? `${code.slice(0, MAX_CODE_LENGTH)}...` : code;
    if (!this.deviceErrors.has(key) && this.deviceErrors.size >= MAX_CODES) key = OTHER_CODES;
    this.deviceErrors.set(key, (this.deviceErrors.get(key) ?? 0) + 1);
    this.pending();
  }

  /** Anything else, in words (a listener that threw, feedback the box cannot show). */
  report(message: string): void {
    if (this.firstMessage === undefined) this.firstMessage = message;
    else this.moreMessages++;
    this.pending();
  }

  /** Tells what is still counted now (the connection is ending) instead of at the interval's end. */
  flush(): void {
    this.timers.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const badLines = LINE_FAULTS.reduce((sum, fault) => sum + this.faults[fault], 0);
    const sections: string[] = [];
    if (badLines > 0 || this.deviceErrors.size > 0) {
      const parts = LINE_FAULTS.filter((fault) => this.faults[fault] > 0)
        // The biggest problem first; ties in the protocol's order of faults.
        .sort((a, b) => this.faults[b] - this.faults[a])
        .map((fault) => counted(this.faults[fault], FAULT_PHRASES[fault]));
      for (const [code, count] of this.deviceErrors)
        parts.push(
          counted(count, [
            `host line refused by the box (ERR ${code})`,
            `host lines refused by the box (ERR ${code})`,
          ]),
        );
      const last = badLines > 0 ? ` (last: ${this.lastFaultReason})` : '';
      sections.push(`${parts.join(', ')}${this.timePhrase}${last}`);
    }
    if (this.unterminatedBytes > 0)
      sections.push(`dropping a line with no end (${this.unterminatedBytes} bytes so far)`);
    if (this.firstMessage !== undefined)
      sections.push(
        this.moreMessages > 0
          ? `${this.firstMessage} (and ${this.moreMessages} more problems)`
          : this.firstMessage,
      );
    this.clear();
    if (sections.length === 0) return;
    const line = `${this.prefix}: ${sections.join('; ')}`;
    for (const listener of this.listeners) {
      try {
        listener(line, badLines);
      } catch {
        // A broken logger must not take the surface down with it.
      }
    }
  }

  /** Stops the interval's timer; nothing is told after this. */
  close(): void {
    this.timers.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.clear();
  }

  private pending(): void {
    if (this.intervalMs <= 0) return this.flush();
    this.flushTimer ??= this.timers.setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, this.intervalMs);
  }

  private clear(): void {
    for (const fault of LINE_FAULTS) this.faults[fault] = 0;
    this.lastFaultReason = '';
    this.deviceErrors.clear();
    this.unterminatedBytes = 0;
    this.firstMessage = undefined;
    this.moreMessages = 0;
  }
}
