/**
 * Offline mastering: the live chain over a file, faster than real time, driven to a loudness
 * target under a true-peak ceiling, with latency compensated so the output lines up with the input.
 *
 * Every path is checked before the first block (file-checks.ts); every file is written under a
 * hidden partial name and moved under its real name only when complete, the master and its CD
 * master together. Whichever way a render ends early (an error, a broken input, a cancel through
 * `signal`), the partial files are removed and the outputs stay as they were.
 */
import path from 'node:path';
import { MasteringChain } from './chain.ts';
import { checkNotInput, checkOutputFile } from './file-checks.ts';
import { LoudnessAnalyzer, type LoudnessReport, type SignalReport } from './loudness.ts';
import { MAX_PASSES, decideDrive, type DrivePass, type DriveRange, type SearchStop } from './drive-search.ts';
import { meterValue } from './meter-layout.ts';
import { addon, type NativeDither, type NativeResampler } from './native.ts';
import { getSpec, type ParameterValues } from './params.ts';
import { interleave, WavReader, WavWriter, type SampleFormat, type WavInfo } from './wav.ts';

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
  /**
   * Aborting it stops the render between blocks: the promise rejects with the signal's reason,
   * the partial files are gone and the outputs are as they were before.
   */
  signal?: AbortSignal;
}

export interface RenderedFile {
  file: string;
  targetLufs: number;
  ceilingDbtp: number;
  limiterGainDb: number;
  /** The input trim it was rendered with: the setting's, or lower where the drive needed more than the limiter's least. */
  inputTrimDb: number;
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

// Between blocks, at most this long without returning to the event loop, where signal handlers
// run: tsx relays Ctrl-C and SIGTERM to the rig's process and SIGKILLs it (leaving its partial
// files) unless the process takes notice within 30 ms, so well under that. A yield costs
// microseconds; a block of the chain about a millisecond.
const YIELD_EVERY_MS = 10;

/** Paces a long job: returns to the event loop now and then, and stops it once cancelled. */
class Pacer {
  private last = performance.now();
  constructor(private readonly signal?: AbortSignal) {}

  /** Between two blocks: throws the signal's reason once it is aborted. */
  async step(): Promise<void> {
    this.signal?.throwIfAborted();
    if (performance.now() - this.last < YIELD_EVERY_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.last = performance.now();
    this.signal?.throwIfAborted();
  }
}

/** The analysis of a file, a step per block, so it runs straight through or paced. */
function* analysisSteps(
  file: string,
  onProgress?: MasterOptions['onProgress'],
): Generator<void, SignalReport> {
  const reader = WavReader.open(file);
  try {
    const analyzer = new LoudnessAnalyzer(reader.info.sampleRate);
    for (;;) {
      const { left, right } = reader.read(BLOCK * 4);
      if (left.length === 0) break;
      analyzer.push(left, right);
      onProgress?.('analyze', reader.position, reader.info.frames);
      yield;
    }
    return { ...analyzer.report(), ...analyzer.signal(reader.info.channels === 1 ? 1 : 2) };
  } finally {
    reader.close();
  }
}

/** A file's loudness, measured as the live chain plays it, and what the file held to get there. */
export function analyzeFile(file: string, onProgress?: MasterOptions['onProgress']): SignalReport {
  const steps = analysisSteps(file, onProgress);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

async function analyzePaced(
  file: string,
  pacer: Pacer,
  onProgress?: MasterOptions['onProgress'],
): Promise<SignalReport> {
  const steps = analysisSteps(file, onProgress);
  try {
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      await pacer.step();
    }
  } finally {
    // Cancelled between steps: runs the generator's own cleanup (the reader closes).
    steps.return(undefined as never);
  }
}

/** The input's analysis as master() starts with it: paced, and stopped by `options.signal`. */
export function analyzeInput(
  options: Pick<MasterOptions, 'input' | 'onProgress' | 'signal'>,
): Promise<SignalReport> {
  return analyzePaced(options.input, new Pacer(options.signal), options.onProgress);
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
    // The dither first: if it cannot be made, no partial file was opened to leak.
    this.dither = ditherFor(format, noiseShaping);
    this.writer = new WavWriter(file, { sampleRate, channels: 2, format });
  }

  /** The file as written so far, under its hidden name. */
  get partialPath(): string {
    return this.writer.partialPath;
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

  /** Complete under the partial name; commit() or abort() decides its fate. */
  finish(): void {
    this.writer.finish();
  }

  commit(): void {
    this.writer.commit();
  }

  abort(): void {
    this.writer.abort();
  }
}

/** A rendered file, complete under its partial name, waiting to be moved under its real name. */
interface PendingFile {
  result: RenderedFile;
  stream: OutputStream;
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
async function renderPass(
  options: MasterOptions,
  values: ParameterValues,
  sink: ((l: Float32Array, r: Float32Array) => void) | undefined,
  label: string,
  pacer: Pacer,
): Promise<PassResult> {
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
      await pacer.step();
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

/**
 * The drive search's range. Its top is the limiter's most drive. Its bottom reaches below the
 * limiter's least drive through input.trim, turned down from the setting to its own least: a
 * float file at +30 dBFS (what the chain takes in before it clamps) needs more than -12 dB.
 */
function driveRange(values: ParameterValues): DriveRange {
  const gain = getSpec('limiter.gain');
  const trim = getSpec('input.trim');
  return { min: gain.min - ((values['input.trim'] ?? trim.default) - trim.min), max: gain.max };
}

/** A drive of the search as the chain's settings: the limiter's drive, and the input trim below its least. */
function driveSettings(
  driveDb: number,
  values: ParameterValues,
): { limiterGainDb: number; inputTrimDb: number } {
  const least = getSpec('limiter.gain').min;
  const trimDb = values['input.trim'] ?? getSpec('input.trim').default;
  return driveDb >= least
    ? { limiterGainDb: driveDb, inputTrimDb: trimDb }
    : { limiterGainDb: least, inputTrimDb: trimDb + driveDb - least };
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
      if (short < 0) {
        // Over the target at the least drive: the bottom of the range, input.trim already down.
        const { limiterGainDb, inputTrimDb } = driveSettings(last.gainDb, values);
        return `${head}: the drive range ends at its bottom, limiter drive ${signed(limiterGainDb)} dB with input.trim ${signed(inputTrimDb)} dB (${measured}), ${(-short).toFixed(1)} LU over; lower output.trim`;
      }
      const where = `${head}: the drive range ends at ${signed(last.gainDb)} dB (${measured}), ${short.toFixed(1)} LU`;
      if (reduction.loudestDb >= HARD_LIMITING_DB)
        return `${where} short; the limiter already works hard: ${louderWithoutDrive(values)} rather than more input.trim`;
      return `${where} short; raise input.trim`;
    }
    case 'pass-limit':
      return `${head}: the drive search did not settle within ${MAX_PASSES} passes, ending at drive ${signed(last.gainDb)} dB (${measured})`;
  }
}

/**
 * Checks, before any work, what a master of `input` into `outputs` needs: the input a WAV file
 * with audio in it, every output a regular file or nothing, in a writable folder, and none of
 * them the input itself. Returns the input's format.
 */
export function checkMasterFiles(input: string, outputs: readonly string[]): WavInfo {
  const reader = WavReader.open(input);
  const info = reader.info;
  reader.close();
  if (info.frames === 0)
    throw new Error(`${path.basename(input)} has no audio frames; there is nothing to master`);
  for (const output of outputs) {
    checkNotInput(input, output);
    checkOutputFile(output);
  }
  return info;
}

/** Finds the limiter drive that meets the loudness target, then renders the file with it. */
export async function master(options: MasterOptions): Promise<MasterResult> {
  const cdFile = options.cd ? cdPath(options.output) : undefined;
  const { sampleRate } = checkMasterFiles(
    options.input,
    cdFile ? [options.output, cdFile] : [options.output],
  );
  if (cdFile) cdResampler(options.input, sampleRate);
  const pacer = new Pacer(options.signal);
  const input = await analyzePaced(options.input, pacer, options.onProgress);
  if (input.integratedLufs === null) {
    throw new Error(
      `${path.basename(options.input)}: the input is silent (no 400 ms block above the -70 LUFS gate); there is no loudness to master to a target`,
    );
  }
  const output = await renderPending(options, input, options.output, pacer);
  let cd: PendingFile | undefined;
  try {
    if (cdFile) cd = await renderCd(options, output.result, cdFile, pacer);
    // Together: a master and its CD master are both new, or both as they were.
    output.stream.commit();
    cd?.stream.commit();
  } catch (error) {
    output.stream.abort();
    cd?.stream.abort();
    throw error;
  }
  const result: MasterResult = { input, output: output.result };
  if (cd) result.cd = cd.result;
  return result;
}

/** Renders `file` at the drive that meets `options.targetLufs` and moves it under its name. */
export async function renderToTarget(
  options: MasterOptions,
  input: LoudnessReport,
  file: string,
): Promise<RenderedFile> {
  checkMasterFiles(options.input, [file]);
  const pending = await renderPending(options, input, file, new Pacer(options.signal));
  pending.stream.commit();
  return pending.result;
}

/** The drive search: passes until one meets the target (or the search ends), that one kept. */
async function renderPending(
  options: MasterOptions,
  input: LoudnessReport,
  file: string,
  pacer: Pacer,
): Promise<PendingFile> {
  const values = { ...options.values, 'limiter.ceiling': options.ceilingDbtp };
  const probe = WavReader.open(options.input);
  const rate = probe.info.sampleRate;
  probe.close();
  const range = driveRange(values);
  // First guess: the chain is roughly unity gain, so drive by the distance to the target.
  let drive = Math.min(
    range.max,
    Math.max(
      range.min,
      (options.values['limiter.gain'] ?? 0) +
        options.targetLufs -
        (input.integratedLufs ?? options.targetLufs),
    ),
  );
  const tried: DrivePass[] = [];
  for (;;) {
    const passes = tried.length + 1;
    const settings = driveSettings(drive, values);
    const stream = new OutputStream(file, rate, options.format, options.noiseShaping ?? false);
    let pass: PassResult;
    try {
      pass = await renderPass(
        options,
        { ...values, 'limiter.gain': settings.limiterGainDb, 'input.trim': settings.inputTrimDb },
        (l, r) => stream.write(l, r),
        `pass ${passes}`,
        pacer,
      );
    } catch (error) {
      stream.abort();
      throw error;
    }
    const last = { gainDb: drive, lufs: pass.report.integratedLufs ?? -Infinity };
    tried.push(last);
    const decision = decideDrive(tried, options.targetLufs, range);
    if ('stop' in decision) {
      try {
        stream.finish();
      } catch (error) {
        stream.abort();
        throw error;
      }
      return {
        stream,
        result: {
          file,
          targetLufs: options.targetLufs,
          ceilingDbtp: options.ceilingDbtp,
          ...settings,
          passes,
          report: pass.report,
          stoppedBecause: decision.stop,
          limiterReduction: pass.limiterReduction,
          warning: describeStop(decision.stop, options.targetLufs, last, pass.limiterReduction, values),
        },
      };
    }
    stream.abort();
    drive = decision.next;
  }
}

/** The resampler to 44.1 kHz, undefined at 44.1 kHz; a rate it cannot take is refused naming the file. */
function cdResampler(input: string, sampleRate: number): NativeResampler | undefined {
  if (sampleRate === 44100) return undefined;
  try {
    return new addon.NativeResampler(sampleRate, 44100, 2);
  } catch {
    // The polyphase resampler needs a ratio to 44.1 kHz that reduces to at most 1024:4096.
    throw new Error(
      `${path.basename(input)}: no CD master from ${sampleRate} Hz (its ratio to 44.1 kHz is too complex to resample); resample the file first or leave out --cd`,
    );
  }
}

/**
 * The CD master: the float master resampled to 44.1 kHz in the native core, trimmed if the
 * resampler's reconstruction raised an intersample peak over the ceiling, then dithered to 16 bit.
 */
async function renderCd(
  options: MasterOptions,
  master: RenderedFile,
  cdFile: string,
  pacer: Pacer,
): Promise<PendingFile> {
  const reader0 = WavReader.open(options.input);
  const rate = reader0.info.sampleRate;
  // The CD master lasts exactly as long as the master: the resampler's tail is cut there.
  let framesLeft = Math.round((reader0.info.frames * 44100) / rate);
  reader0.close();
  const values = {
    ...options.values,
    'limiter.ceiling': options.ceilingDbtp,
    'limiter.gain': master.limiterGainDb,
    'input.trim': master.inputTrimDb,
  };
  // The float intermediate lives only under its partial name (`.OUT.cd.wav.float.partial`):
  // finished there, read back, then removed; it never takes its own name.
  const floatWriter = new WavWriter(`${cdFile}.float`, { sampleRate: 44100, channels: 2, format: 'float32' });
  try {
    const resampler = cdResampler(options.input, rate);
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
    await renderPass(
      options,
      values,
      (l, r) => {
        const interleaved = interleave(l, r, 2);
        push(resampler ? resampler.process(interleaved) : interleaved);
      },
      'cd render',
      pacer,
    );
    if (resampler) push(resampler.flush());
    floatWriter.finish();
    const floatTemp = floatWriter.partialPath;
    const measured = await analyzePaced(floatTemp, pacer);
    const overshoot = (measured.truePeakDbtp ?? -Infinity) - options.ceilingDbtp;
    const trim = overshoot > 0 ? Math.pow(10, -(overshoot + 0.01) / 20) : 1;
    const stream = new OutputStream(cdFile, 44100, 'int16', options.noiseShaping ?? false);
    try {
      const reader = WavReader.open(floatTemp);
      try {
        for (;;) {
          const { left, right } = reader.read(BLOCK);
          if (left.length === 0) break;
          if (trim !== 1)
            for (let i = 0; i < left.length; i++) [left[i], right[i]] = [left[i] * trim, right[i] * trim];
          stream.write(left, right);
          await pacer.step();
        }
      } finally {
        reader.close();
      }
      stream.finish();
      const report = await analyzePaced(stream.partialPath, pacer);
      return { stream, result: { ...master, file: cdFile, report, passes: 1 } };
    } catch (error) {
      stream.abort();
      throw error;
    }
  } finally {
    floatWriter.abort();
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
