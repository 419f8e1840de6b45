/**
 * The recent past of the loudness and gain-reduction meters, sampled at a fixed rate into ring
 * buffers. The stream may arrive at 30 or 60 Hz; the graphs want an even time axis. Gain
 * reduction keeps the deepest value of each interval so a limiter's short bite is not skipped.
 */
import type { MeterFrame } from './meter-frame.ts';

export const HISTORY_SAMPLE_MS = 100;
/** Three minutes: long enough to watch a song's short-term loudness settle. */
export const HISTORY_SECONDS = 180;
const CAPACITY = (HISTORY_SECONDS * 1000) / HISTORY_SAMPLE_MS;

export class Series {
  readonly data = new Float32Array(CAPACITY).fill(NaN);
  /** Index of the next write; data[(head - 1 - k) mod capacity] is k samples ago. */
  head = 0;
  count = 0;

  push(value: number): void {
    this.data[this.head] = value;
    this.head = (this.head + 1) % CAPACITY;
    this.count = Math.min(CAPACITY, this.count + 1);
  }

  /** Value `samplesAgo` samples back, NaN before the history began. */
  at(samplesAgo: number): number {
    if (samplesAgo >= this.count) return NaN;
    return this.data[(this.head - 1 - samplesAgo + CAPACITY) % CAPACITY];
  }

  clear(): void {
    this.data.fill(NaN);
    this.head = 0;
    this.count = 0;
  }
}

export class MeterHistory {
  readonly momentary = new Series();
  readonly shortTerm = new Series();
  readonly compGr = new Series();
  readonly limiterGr = new Series();
  /** Bumped on every sample; a graph redraws only when it moved. */
  version = 0;
  private nextSampleAt = 0;
  private compDeepest = 0;
  private limiterDeepest = 0;

  push(frame: MeterFrame, nowMs: number): void {
    this.compDeepest = Math.max(this.compDeepest, frame.get('comp.grDb') || 0);
    this.limiterDeepest = Math.max(this.limiterDeepest, frame.get('limiter.grDb') || 0);
    if (nowMs < this.nextSampleAt) return;
    // Stay on the grid after a stall (a hidden tab) instead of catching up with a burst.
    this.nextSampleAt = Math.max(this.nextSampleAt + HISTORY_SAMPLE_MS, nowMs);
    this.momentary.push(frame.get('output.momentaryLufs'));
    this.shortTerm.push(frame.get('output.shortTermLufs'));
    this.compGr.push(this.compDeepest);
    this.limiterGr.push(this.limiterDeepest);
    this.compDeepest = 0;
    this.limiterDeepest = 0;
    this.version += 1;
  }

  clear(): void {
    for (const series of [this.momentary, this.shortTerm, this.compGr, this.limiterGr]) series.clear();
    this.version += 1;
  }
}
