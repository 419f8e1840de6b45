/**
 * Offline mastering: the live chain over a file, faster than real time, driven to a loudness
 * target under a true-peak ceiling, with latency compensated so the output lines up with the input.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MasteringChain } from './chain.ts';
import { LoudnessAnalyzer, type LoudnessReport } from './loudness.ts';
import { MAX_PASSES, decideDrive, type DrivePass, type SearchStop } from './drive-search.ts';
import { meterValue } from './meter-layout.ts';
import { addon, type NativeDither } from './native.ts';
import { getSpec, type ParameterValues } from './params.ts';
import { interleave, WavReader, WavWriter, type SampleFormat } from './wav.ts';

export interface MasterOptions {
  input: string;
  output: string;
  targetLufs: number;
  ceilingDbtp: number;
  /** Chain settings (from --settings and --set), already checked against the schema. */
  values: ParameterValues;
  format: SampleFormat;
  noiseShaping?: boolean;
  /** Also write a 16-bit 44.1 kHz dithered master next to the output. */
  cd?: boolean;
  onProgress?: (label: string, done: number, total: number) => void;
}

export interface RenderedFile {
  file: string;
  targetLufs: number;
  ceilingDbtp: number;
  limiterGainDb: number;
  passes: number;
  report: LoudnessReport;
  /** Why the drive search ended; anything but 'on-target' comes with a warning. */
  stoppedBecause: SearchStop;
  /** The limiter's reduction over the final pass, in dB (positive = reducing). */
  limiterReduction: LimiterReduction;
  /** Set when the target was not reached: why, and what to change. */
  warning?: string;
}

export interface LimiterReduction {
  /** On the loudest passages: the 95th percentile of the per-block deepest reduction. */
  loudestDb: number;
  /** The deepest of the whole pass (the meter frame's limiter.grMaxDb). */
  maxDb: number;
}

/** What one pass of the chain measured. */
interface PassResult {
  report: LoudnessReport;
  limiterReduction: LimiterReduction;
}

export interface MasterResult {
  input: LoudnessReport;
  output: RenderedFile;
  cd?: RenderedFile;
}

const BLOCK = 4096;
// "The loudest passages": the top 5% of blocks (85 ms each at 48 kHz), a chorus rather than one
// transient, which limiter.grMaxDb already reports.
const LOUDEST_PERCENTILE = 0.95;
// Fixed dither seed: the same settings render the same file, bit for bit.
const DITHER_SEED = 0x5eed;

export function analyzeFile(file: string, onProgress?: MasterOptions['onProgress']): LoudnessReport {
  const reader = WavReader.open(file);
  try {
    const analyzer = new LoudnessAnalyzer(reader.info.sampleRate);
    for (;;) {
      const { left, right } = reader.read(BLOCK * 4);
      if (left.length === 0) break;
      analyzer.push(left, right);
      onProgress?.('analyze', reader.position, reader.info.frames);
    }
    return analyzer.report();
  } finally {
    reader.close();
  }
}

function ditherFor(format: SampleFormat, noiseShaping: boolean): NativeDither | undefined {
  if (format === 'int16') return new addon.NativeDither(16, 2, noiseShaping, DITHER_SEED);
  if (format === 'int24') return new addon.NativeDither(24, 2, noiseShaping, DITHER_SEED);
  return undefined;
}

/** A float stream into a WAV file, dithered when the format is 16 or 24 bit. */
class OutputStream {
  private readonly writer: WavWriter;
  private readonly dither?: NativeDither;
  private interleaved = new Float32Array(0);
  private integers = new Int32Array(0);

  constructor(file: string, sampleRate: number, format: SampleFormat, noiseShaping: boolean) {
    this.writer = new WavWriter(file, { sampleRate, channels: 2, format });
    this.dither = ditherFor(format, noiseShaping);
  }

  write(left: Float32Array, right: Float32Array): void {
    if (this.interleaved.length < left.length * 2) this.interleaved = new Float32Array(left.length * 2);
    const samples = interleave(left, right, 2, this.interleaved);
    if (!this.dither) return this.writer.write(samples);
    if (this.integers.length < samples.length) this.integers = new Int32Array(samples.length);
    const ints = this.integers.subarray(0, samples.length);
    this.dither.process(samples, ints);
    this.writer.write(ints);
  }

  close(): void {
    this.writer.close();
  }

  abort(): void {
    this.writer.abort();
  }
}

function percentile(values: number[], fraction: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

/**
 * A file ends where its last sample is: a master cut off at full level is a step, and the step's
 * intersample overshoot is an over the limiter cannot see (the samples after the end do not
 * exist). The file's last millisecond fades out (raised cosine), as the chain fades in its first.
 * `left`/`right` hold the input's frames from `firstFrame` on, of `totalFrames` in all.
 */
export function fadeOutFileEnd(
  left: Float32Array,
  right: Float32Array,
  firstFrame: number,
  totalFrames: number,
  sampleRate: number,
): void {
  const length = Math.max(1, Math.round(sampleRate / 1000));
  const fadeStart = totalFrames - length;
  for (let i = Math.max(0, fadeStart - firstFrame); i < left.length; i++) {
    const g = 0.5 + 0.5 * Math.cos((Math.PI * (firstFrame + i - fadeStart)) / length);
    left[i] *= g;
    right[i] *= g;
  }
}

/**
 * One pass of the chain over the input: the output (latency removed) goes to the analyzer
 * and to `sink`. Deterministic, so a pass that measured on target writes exactly that.
 */
function renderPass(
  options: MasterOptions,
  values: ParameterValues,
  sink: ((l: Float32Array, r: Float32Array) => void) | undefined,
  label: string,
): PassResult {
  const reader = WavReader.open(options.input);
  try {
    const { sampleRate, frames } = reader.info;
    const chain = new MasteringChain({ sampleRate, maxBlock: BLOCK, values });
    const analyzer = new LoudnessAnalyzer(sampleRate);
    let toSkip = chain.latencySamples;
    let tail = chain.latencySamples;
    const emit = (left: Float32Array, right: Float32Array) => {
      chain.process(left, right);
      let start = 0;
      if (toSkip > 0) {
        start = Math.min(toSkip, left.length);
        toSkip -= start;
      }
      if (start === left.length) return;
      const l = left.subarray(start);
      const r = right.subarray(start);
      analyzer.push(l, r);
      sink?.(l, r);
    };
    // Per input block, the limiter's deepest reduction in it; the latency flush (silence) is not music.
    const blockGrDb: number[] = [];
    for (;;) {
      const first = reader.position;
      const { left, right } = reader.read(BLOCK);
      if (left.length === 0) break;
      fadeOutFileEnd(left, right, first, frames, sampleRate);
      emit(left, right);
      blockGrDb.push(meterValue(chain.meters, 'limiter.grDb') || 0);
      options.onProgress?.(label, reader.position, frames);
    }
    // Flush the chain's latency with silence so the output is exactly as long as the input.
    while (tail > 0) {
      const n = Math.min(BLOCK, tail);
      emit(new Float32Array(n), new Float32Array(n));
      tail -= n;
    }
    const limiterReduction = {
      loudestDb: percentile(blockGrDb, LOUDEST_PERCENTILE),
      maxDb: meterValue(chain.meters, 'limiter.grMaxDb') || 0,
    };
    return { report: analyzer.report(), limiterReduction };
  } finally {
    reader.close();
  }
}

function clampGain(gainDb: number): number {
  const spec = getSpec('limiter.gain');
  return Math.min(spec.max, Math.max(spec.min, gainDb));
}

const signed = (db: number) => `${db >= 0 ? '+' : ''}${db.toFixed(1)}`;
// Past this much reduction on the loudest passages the limiter is working hard (the gain-reduction
// scale's first 6 dB are where it stays transparent): more drive buys loudness only at the cost of punch.
const HARD_LIMITING_DB = 6;

/** Ways to loudness other than more drive, less those already in effect (the loud style, the clipper on). */
function louderWithoutDrive(values: ParameterValues): string {
  const setting = (id: string) => values[id] ?? getSpec(id).default;
  const tries = [
    setting('limiter.style') === getSpec('limiter.style').choices?.indexOf('loud')
      ? undefined
      : 'limiter.style=loud',
    setting('clipper.bypass') === 0 ? undefined : 'the clipper (clipper.bypass=0)',
    'less compression',
  ].filter((t): t is string => t !== undefined);
  return `try ${tries.slice(0, -1).join(', ')}${tries.length > 1 ? ', or ' : ''}${tries.at(-1)}`;
}

/** The warning for a target not reached: why the search stopped, where, and what to change. */
export function describeStop(
  stop: SearchStop,
  targetLufs: number,
  last: DrivePass,
  reduction: LimiterReduction,
  values: ParameterValues,
): string | undefined {
  const measured = `${last.lufs.toFixed(1)} LUFS, limiter reducing ${reduction.loudestDb.toFixed(1)} dB on the loudest passages`;
  const head = `target ${targetLufs} LUFS not reached`;
  switch (stop) {
    case 'on-target':
      return undefined;
    case 'stopped-rising':
      return `${head}: loudness stopped rising at drive ${signed(last.gainDb)} dB (${measured}); ${louderWithoutDrive(values)}`;
    case 'range-ended': {
      const short = targetLufs - last.lufs;
      const where = `${head}: the drive range ends at ${signed(last.gainDb)} dB (${measured}), ${Math.abs(short).toFixed(1)} LU`;
      if (short < 0) return `${where} over; lower input.trim`;
      if (reduction.loudestDb >= HARD_LIMITING_DB)
        return `${where} short; the limiter already works hard: ${louderWithoutDrive(values)} rather than more input.trim`;
      return `${where} short; raise input.trim`;
    }
    case 'pass-limit':
      return `${head}: the drive search did not settle within ${MAX_PASSES} passes, ending at drive ${signed(last.gainDb)} dB (${measured})`;
  }
}

/** Finds the limiter drive that meets the loudness target, then renders the file with it. */
export function master(options: MasterOptions): MasterResult {
  const input = analyzeFile(options.input, options.onProgress);
  if (input.integratedLufs === null) {
    throw new Error(
      `${path.basename(options.input)}: the input is silent (no 400 ms block above the -70 LUFS gate); there is no loudness to master to a target`,
    );
  }
  const output = renderToTarget(options, input, options.output);
  const result: MasterResult = { input, output };
  if (options.cd) result.cd = renderCd(options, output);
  return result;
}

export function renderToTarget(options: MasterOptions, input: LoudnessReport, file: string): RenderedFile {
  const values = { ...options.values, 'limiter.ceiling': options.ceilingDbtp };
  const probe = WavReader.open(options.input);
  const rate = probe.info.sampleRate;
  probe.close();
  // First guess: the chain is roughly unity gain, so drive by the distance to the target.
  let gain = clampGain(
    (options.values['limiter.gain'] ?? 0) + options.targetLufs - (input.integratedLufs ?? options.targetLufs),
  );
  const { min, max } = getSpec('limiter.gain');
  const tried: DrivePass[] = [];
  for (;;) {
    const passes = tried.length + 1;
    const stream = new OutputStream(file, rate, options.format, options.noiseShaping ?? false);
    let pass: PassResult;
    try {
      pass = renderPass(
        options,
        { ...values, 'limiter.gain': gain },
        (l, r) => stream.write(l, r),
        `pass ${passes}`,
      );
    } catch (error) {
      stream.abort();
      throw error;
    }
    const last = { gainDb: gain, lufs: pass.report.integratedLufs ?? -Infinity };
    tried.push(last);
    const decision = decideDrive(tried, options.targetLufs, { min, max });
    if ('stop' in decision) {
      stream.close();
      return {
        file,
        targetLufs: options.targetLufs,
        ceilingDbtp: options.ceilingDbtp,
        limiterGainDb: gain,
        passes,
        report: pass.report,
        stoppedBecause: decision.stop,
        limiterReduction: pass.limiterReduction,
        warning: describeStop(decision.stop, options.targetLufs, last, pass.limiterReduction, values),
      };
    }
    stream.abort();
    gain = decision.next;
  }
}

/**
 * The CD master: the float master resampled to 44.1 kHz in the native core, trimmed if the
 * resampler's reconstruction raised an intersample peak over the ceiling, then dithered to 16 bit.
 */
function renderCd(options: MasterOptions, master: RenderedFile): RenderedFile {
  const cdFile = cdPath(options.output);
  const floatTemp = path.join(path.dirname(cdFile), `.${path.basename(cdFile)}.float.partial.wav`);
  const reader0 = WavReader.open(options.input);
  const rate = reader0.info.sampleRate;
  // The CD master lasts exactly as long as the master: the resampler's tail is cut there.
  let framesLeft = Math.round((reader0.info.frames * 44100) / rate);
  reader0.close();
  const values = {
    ...options.values,
    'limiter.ceiling': options.ceilingDbtp,
    'limiter.gain': master.limiterGainDb,
  };
  const floatWriter = new WavWriter(floatTemp, { sampleRate: 44100, channels: 2, format: 'float32' });
  try {
    const resampler = rate === 44100 ? undefined : new addon.NativeResampler(rate, 44100, 2);
    let toTrim = resampler ? (resampler.latencyInputFrames() * 44100) / rate : 0;
    const push = (interleaved: Float32Array) => {
      let start = 0;
      if (toTrim > 0) {
        start = Math.min(Math.round(toTrim), interleaved.length / 2);
        toTrim -= start;
        if (toTrim < 0.5) toTrim = 0;
      }
      const end = Math.min(interleaved.length / 2, start + framesLeft);
      if (start < end) {
        floatWriter.write(interleaved.subarray(start * 2, end * 2));
        framesLeft -= end - start;
      }
    };
    renderPass(
      options,
      values,
      (l, r) => {
        const interleaved = interleave(l, r, 2);
        push(resampler ? resampler.process(interleaved) : interleaved);
      },
      'cd render',
    );
    if (resampler) push(resampler.flush());
    floatWriter.close();
  } catch (error) {
    floatWriter.abort();
    throw error;
  }
  try {
    const measured = analyzeFile(floatTemp);
    const overshoot = (measured.truePeakDbtp ?? -Infinity) - options.ceilingDbtp;
    const trim = overshoot > 0 ? Math.pow(10, -(overshoot + 0.01) / 20) : 1;
    const stream = new OutputStream(cdFile, 44100, 'int16', options.noiseShaping ?? false);
    const reader = WavReader.open(floatTemp);
    try {
      for (;;) {
        const { left, right } = reader.read(BLOCK);
        if (left.length === 0) break;
        if (trim !== 1)
          for (let i = 0; i < left.length; i++) [left[i], right[i]] = [left[i] * trim, right[i] * trim];
        stream.write(left, right);
      }
      stream.close();
    } catch (error) {
      stream.abort();
      throw error;
    } finally {
      reader.close();
    }
    return { ...master, file: cdFile, report: analyzeFile(cdFile), passes: 1 };
  } finally {
    fs.rmSync(floatTemp, { force: true });
  }
}

export function cdPath(output: string): string {
  const ext = path.extname(output);
  return path.join(path.dirname(output), `${path.basename(output, ext)}.cd${ext || '.wav'}`);
}

export function targetPath(output: string, targetLufs: number): string {
  const ext = path.extname(output);
  return path.join(path.dirname(output), `${path.basename(output, ext)}.${targetLufs}LUFS${ext || '.wav'}`);
}
