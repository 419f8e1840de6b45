/** Loudness reports of whole signals or streams, from the native meters (BS.1770-4 / EBU R 128). */
import { METER_FRAME_LENGTH, METER_LAYOUT, SPECTRUM_BAND_CENTERS_HZ, meterValue } from './meter-layout.ts';
import { addon, type NativeAnalyzer } from './native.ts';

export interface LoudnessReport {
  integratedLufs: number | null;
  momentaryMaxLufs: number | null;
  shortTermMaxLufs: number | null;
  /** Loudness range, LU (EBU Tech 3342). */
  lra: number | null;
  truePeakDbtp: number | null;
  samplePeakDbfs: number | null;
  /** Peak-to-loudness ratio: true peak minus integrated loudness. */
  plr: number | null;
}

/**
 * What a measurement took in beside the loudness: how much signal, and what it had to repair to
 * measure it as the live chain plays it (engine/native/src/dsp/input-guard.h).
 */
export interface SignalCounts {
  /** Frames measured; 0 is an empty signal, and then every measure is null. */
  frames: number;
  /** The source's channels (a mono source is measured in both sides, and counted once). */
  channels: 1 | 2;
  /** NaN or infinite samples, measured as silence (the live chain plays them so). */
  nonFiniteSamples: number;
  /** Finite samples beyond +30 dBFS (+-31.6), measured at that level (the live chain clamps them so). */
  clampedSamples: number;
}

/** A file's or a stream's report: its loudness and what was measured to get it. */
export type SignalReport = LoudnessReport & SignalCounts;

const BLOCK = 4096;
const EMPTY = new Float32Array(0);

/** Silence and "not defined yet" both become null: JSON has no -Infinity or NaN. */
function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null;
}

export class LoudnessAnalyzer {
  private readonly frame = new Float32Array(METER_FRAME_LENGTH);
  private readonly native: NativeAnalyzer;
  private frames = 0;

  constructor(readonly sampleRate: number) {
    this.native = new addon.NativeAnalyzer({
      sampleRate,
      maxBlock: BLOCK,
      meterOffsets: METER_LAYOUT.offsets,
      spectrumBandsHz: SPECTRUM_BAND_CENTERS_HZ,
      meterFrame: this.frame,
      tap: 'input',
    });
    // Until audio arrives the frame reads as silence and "not defined yet", not as zeros (0 LUFS).
    this.refreshFrame();
  }

  push(left: Float32Array, right: Float32Array): void {
    for (let start = 0; start < left.length; start += BLOCK) {
      const end = Math.min(left.length, start + BLOCK);
      this.native.process(left.subarray(start, end), right.subarray(start, end));
    }
    this.frames += left.length;
  }

  /** A new song: integrated loudness, LRA and maxima start again. */
  resetIntegrated(): void {
    this.native.resetIntegrated();
    this.frames = 0;
    this.refreshFrame();
  }

  /** Everything starts again, as a new analyzer would (for reuse across files). */
  reset(): void {
    this.native.reset();
    this.frames = 0;
    this.refreshFrame();
  }

  /** Holds integrated loudness, LRA and the maxima (between songs); momentary and short-term keep moving. */
  setIntegrationPaused(paused: boolean): void {
    this.native.setIntegrationPaused(paused);
  }

  report(): LoudnessReport {
    const f = this.frame;
    return {
      integratedLufs: finiteOrNull(meterValue(f, 'input.integratedLufs')),
      momentaryMaxLufs: finiteOrNull(meterValue(f, 'input.momentaryMaxLufs')),
      shortTermMaxLufs: finiteOrNull(meterValue(f, 'input.shortTermMaxLufs')),
      lra: finiteOrNull(meterValue(f, 'input.lra')),
      truePeakDbtp: finiteOrNull(meterValue(f, 'input.truePeakMaxDbtp')),
      samplePeakDbfs: finiteOrNull(meterValue(f, 'input.samplePeakMaxDbfs')),
      plr: finiteOrNull(meterValue(f, 'input.plr')),
    };
  }

  /**
   * Frames pushed and samples repaired since the last reset() or resetIntegrated() (paused spans
   * included). `channels` is the source's: a mono source feeds both sides the same samples, so
   * each repaired sample counts once.
   */
  signal(channels: 1 | 2 = 2): SignalCounts {
    const { nonFinite, clamped } = this.native.guardCounts();
    const count = ([left, right]: [number, number]) => (channels === 1 ? left : left + right);
    return {
      frames: this.frames,
      channels,
      nonFiniteSamples: count(nonFinite),
      clampedSamples: count(clamped),
    };
  }

  /** The native side writes the frame after each block: an empty block rewrites it now. */
  private refreshFrame(): void {
    this.native.process(EMPTY, EMPTY);
  }

  /** The raw meter frame (input tap fields), for tests and detailed readouts. */
  get meters(): Float32Array {
    return this.frame;
  }
}

export function measureLoudness(left: Float32Array, right: Float32Array, sampleRate: number): LoudnessReport {
  const analyzer = new LoudnessAnalyzer(sampleRate);
  analyzer.push(left, right);
  return analyzer.report();
}
