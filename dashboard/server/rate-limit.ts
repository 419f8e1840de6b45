/**
 * How much one dashboard client may ask of the server. A knob dragged in the page sends at most
 * a message per animation frame (60/s), so the limits sit well above honest use and only bite a
 * runaway or hostile client, which is then cut off without the others noticing.
 */

export interface ClientLimitOptions {
  /** Sustained messages per second a client may send. */
  messagesPerSecond: number;
  /** Messages a client may send at once before the sustained rate applies. */
  burst: number;
  /** A client sending more than this many times the sustained rate within one second is disconnected. */
  abuseFactor: number;
  /** Invalid frames tolerated in a burst; beyond it, more than `invalidPerSecond` on average disconnects. */
  invalidBurst: number;
  invalidPerSecond: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimitOptions = {
  messagesPerSecond: 100,
  burst: 200,
  abuseFactor: 5,
  invalidBurst: 50,
  invalidPerSecond: 10,
};

/** Tokens refill continuously at `ratePerSecond` up to `capacity`; taking one fails when none is left. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly ratePerSecond: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export type Admission =
  | 'accept'
  /** Over the rate: answer with an error (`notify`: first time in this second, so errors do not flood back). */
  | { reject: 'rate'; notify: boolean }
  /** Sustained abuse: close the connection. */
  | { disconnect: string };

/** The limits of one client; `now` in milliseconds (performance.now()). */
export class ClientLimiter {
  private readonly messages: TokenBucket;
  private readonly invalid: TokenBucket;
  private windowStart: number;
  private inWindow = 0;
  private notifiedInWindow = false;

  constructor(
    private readonly options: ClientLimitOptions,
    now: number,
  ) {
    this.messages = new TokenBucket(options.burst, options.messagesPerSecond, now);
    this.invalid = new TokenBucket(options.invalidBurst, options.invalidPerSecond, now);
    this.windowStart = now;
  }

  /** Every frame received, valid or not, before it is parsed. */
  admit(now: number): Admission {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.inWindow = 0;
      this.notifiedInWindow = false;
    }
    this.inWindow++;
    const abuseLimit = this.options.abuseFactor * this.options.messagesPerSecond;
    if (this.inWindow > abuseLimit) return { disconnect: `more than ${abuseLimit} messages in a second` };
    if (this.messages.take(now)) return 'accept';
    const notify = !this.notifiedInWindow;
    this.notifiedInWindow = true;
    return { reject: 'rate', notify };
  }

  /** A frame that failed validation; returns a reason when the client is to be disconnected. */
  recordInvalid(now: number): string | undefined {
    return this.invalid.take(now)
      ? undefined
      : `more than ${this.options.invalidBurst} invalid messages, still ${this.options.invalidPerSecond}/s or more`;
  }
}
