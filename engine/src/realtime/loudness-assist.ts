/**
 * Live loudness assist: the limiter's drive follows the short-term loudness towards a target,
 * slowly (a fraction of a dB per second, so it never pumps with the music) and only within the
 * bounds the engineer set. Silence and breaks (short-term far below the target) hold the drive:
 * the assist must not wind the drive up while nothing plays.
 */
import { getSpec } from '../params.ts';
import { METER_FRAME_LENGTH, meterValue } from '../meter-layout.ts';

export interface AssistOptions {
  targetLufs: number;
  minGainDb: number;
  maxGainDb: number;
  /** Fastest drive change, dB per second. */
  rateDbPerSecond?: number;
  /** Closer than this to the target, nothing moves. */
  toleranceLu?: number;
}

export interface AssistTarget {
  readMeters(into?: Float32Array): Float32Array;
  get(id: string): number;
  /** Applies the new drive (through the parameter store, so every surface sees it). */
  apply(id: string, value: number): void;
}

// Below target by more than this: a break between songs, not a quiet passage to lift.
const HOLD_BELOW_LU = 20;

/** One step of the assist: the drive to use after `seconds`, given the short-term loudness now. */
export function nextDrive(
  currentDb: number,
  shortTermLufs: number,
  seconds: number,
  options: AssistOptions,
): number {
  const spec = getSpec('limiter.gain');
  const low = Math.max(spec.min, options.minGainDb);
  const high = Math.min(spec.max, options.maxGainDb);
  const error = options.targetLufs - shortTermLufs;
  if (
    !Number.isFinite(shortTermLufs) ||
    error > HOLD_BELOW_LU ||
    Math.abs(error) <= (options.toleranceLu ?? 0.5)
  ) {
    return Math.min(high, Math.max(low, currentDb));
  }
  const maxStep = (options.rateDbPerSecond ?? 0.5) * seconds;
  const step = Math.max(-maxStep, Math.min(maxStep, error));
  return Math.min(high, Math.max(low, currentDb + step));
}

export class LoudnessAssist {
  private timer?: NodeJS.Timeout;
  private readonly frame = new Float32Array(METER_FRAME_LENGTH);
  private last = 0;

  constructor(
    private readonly target: AssistTarget,
    private options: AssistOptions,
  ) {
    if (options.minGainDb > options.maxGainDb)
      throw new RangeError(
        `loudness assist: drive range ${options.minGainDb}..${options.maxGainDb} dB is empty`,
      );
  }

  /** A new target (the page picked another platform); the drive moves towards it at the same slow rate. */
  retarget(targetLufs: number): void {
    this.options = { ...this.options, targetLufs };
  }

  start(intervalMs = 100): void {
    this.last = performance.now();
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  private tick(): void {
    const now = performance.now();
    const seconds = (now - this.last) / 1000;
    this.last = now;
    const frame = this.target.readMeters(this.frame);
    const current = this.target.get('limiter.gain');
    const next = nextDrive(current, meterValue(frame, 'output.shortTermLufs'), seconds, this.options);
    if (Math.abs(next - current) > 1e-6) this.target.apply('limiter.gain', next);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
