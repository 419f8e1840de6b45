/**
 * Lines to the box: ring values and button lights as paced batches, and control lines (`HELLO?`,
 * `PING?`) that are dropped rather than queued behind a stuck port.
 */
import type { Duplex } from 'node:stream';
import type { FeedbackMessage } from '../events.ts';
import { POSITION_MAX, encodeHostMessage } from './protocol.ts';

/** Past this many unsent bytes the port is stuck; control lines are dropped, the heartbeat decides. */
const MAX_UNSENT_BYTES = 4096;

const NO_VALUE = -1;

export function writeControl(stream: Duplex, text: string): void {
  if (stream.destroyed || !stream.writable || stream.writableLength > MAX_UNSENT_BYTES) return;
  stream.write(text, () => {});
}

export interface FeedbackStats {
  feedbackLinesSent: number;
  /** Feedback this box cannot show: MIDI kinds, indexes beyond its rings/LEDs, non-finite values. */
  feedbackRefused: number;
}

/** What the writer needs from the surface it writes for. */
export interface FeedbackHost {
  isSession(): boolean;
  problem(message: string): void;
}

export class FeedbackWriter {
  readonly stats: FeedbackStats = { feedbackLinesSent: 0, feedbackRefused: 0 };

  private wantedRings = new Int16Array(0);
  private sentRings = new Int16Array(0);
  private wantedLeds = new Int8Array(0);
  private sentLeds = new Int8Array(0);
  private writing = false;

  constructor(
    private readonly stream: Duplex,
    private readonly host: FeedbackHost,
  ) {}

  /** Sizes the session state from the HELLO counts; it is never grown after. */
  start(rings: number, leds: number): void {
    this.wantedRings = new Int16Array(rings).fill(NO_VALUE);
    this.sentRings = new Int16Array(rings).fill(NO_VALUE);
    this.wantedLeds = new Int8Array(leds).fill(NO_VALUE);
    this.sentLeds = new Int8Array(leds).fill(NO_VALUE);
  }

  /** Ring values are rounded and clamped to 0..1023; what the box cannot show is counted and reported. */
  send(message: FeedbackMessage): void {
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
      this.stats.feedbackRefused++;
      this.host.problem(
        `cannot show feedback ${JSON.stringify(message)} (rings 0..${this.wantedRings.length - 1}, LEDs 0..${this.wantedLeds.length - 1})`,
      );
      return;
    }
    this.write();
  }

  /** After a reset the box's lights are dark: everything wanted is shown again. */
  resendAll(): void {
    this.sentRings.fill(NO_VALUE);
    this.sentLeds.fill(NO_VALUE);
    this.write();
  }

  /**
   * Feedback is state, not a queue: the latest wanted value per ring/LED, written in one batch
   * once the previous batch has left, so a stalled port holds at most one value per light.
   */
  private write(): void {
    if (this.writing || !this.host.isSession()) return;
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
    this.writing = true;
    this.stats.feedbackLinesSent += lines;
    this.stream.write(text, (error) => {
      this.writing = false;
      if (!error) this.write();
    });
  }
}
