/**
 * The chain over a file at one fixed drive, as master.ts renders a pass (the same blocks, the
 * same end fade, the latency removed), measured rather than written: what an album's one drive
 * makes of each track, and the gain reduction over time the QC report draws.
 */
import { MasteringChain } from '../chain.ts';
import { LoudnessAnalyzer, type LoudnessReport } from '../loudness.ts';
import { fadeOutFileEnd } from '../master.ts';
import { meterValue } from '../meter-layout.ts';
import { getSpec, type ParameterValues } from '../params.ts';
import { WavReader } from '../wav.ts';

// master.ts's block: the chain's smoothing runs per block, so the same block measures the same.
export const RENDER_BLOCK = 4096;

/** A drive as the chain's settings: the limiter's drive, and the input trim below its least (master.ts's rule). */
export function driveSettings(
  driveDb: number,
  values: ParameterValues,
): { limiterGainDb: number; inputTrimDb: number } {
  const least = getSpec('limiter.gain').min;
  const trimDb = values['input.trim'] ?? getSpec('input.trim').default;
  return driveDb >= least
    ? { limiterGainDb: driveDb, inputTrimDb: trimDb }
    : { limiterGainDb: least, inputTrimDb: trimDb + driveDb - least };
}

/** The drives the search may use: the limiter's range, reaching lower through input.trim. */
export function driveLimits(values: ParameterValues): { min: number; max: number } {
  const gain = getSpec('limiter.gain');
  const trim = getSpec('input.trim');
  return { min: gain.min - ((values['input.trim'] ?? trim.default) - trim.min), max: gain.max };
}

export interface DriveRender {
  report: LoudnessReport;
  durationS: number;
}

/**
 * Renders `input` through the chain with `values` (limiter.gain and input.trim already set);
 * `onBlock` sees each block of output (latency removed) with the chain's meter frame.
 */
export function renderWithValues(
  input: string,
  values: ParameterValues,
  block = RENDER_BLOCK,
  onBlock?: (meters: Float32Array, frames: number) => void,
): DriveRender {
  const reader = WavReader.open(input);
  try {
    const { sampleRate, frames } = reader.info;
    const chain = new MasteringChain({ sampleRate, maxBlock: block, values });
    const analyzer = new LoudnessAnalyzer(sampleRate);
    let toSkip = chain.latencySamples;
    const emit = (left: Float32Array, right: Float32Array) => {
      chain.process(left, right);
      const start = Math.min(toSkip, left.length);
      toSkip -= start;
      if (start < left.length) analyzer.push(left.subarray(start), right.subarray(start));
    };
    for (;;) {
      const first = reader.position;
      const { left, right } = reader.read(block);
      if (left.length === 0) break;
      fadeOutFileEnd(left, right, first, frames, sampleRate);
      emit(left, right);
      onBlock?.(chain.meters, left.length);
    }
    for (let tail = chain.latencySamples; tail > 0;) {
      const n = Math.min(block, tail);
      emit(new Float32Array(n), new Float32Array(n));
      tail -= n;
    }
    return { report: analyzer.report(), durationS: frames / sampleRate };
  } finally {
    reader.close();
  }
}

/** The chain's values for a master at `driveDb` under `ceilingDbtp`. */
export function valuesAtDrive(
  values: ParameterValues,
  driveDb: number,
  ceilingDbtp: number,
): ParameterValues {
  const settings = driveSettings(driveDb, values);
  return {
    ...values,
    'limiter.ceiling': ceilingDbtp,
    'limiter.gain': settings.limiterGainDb,
    'input.trim': settings.inputTrimDb,
  };
}

/** The chain's meter field, 0 where it is not a number (no reduction yet). */
export function meterOrZero(meters: Float32Array, field: Parameters<typeof meterValue>[1]): number {
  return meterValue(meters, field) || 0;
}
