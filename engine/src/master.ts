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
import { OutputFileError, checkNotInput, checkOutputFile } from './file-checks.ts';
import type { AudioFormat, AudioSink, SourceInfo } from './io/audio-stream.ts';
import { FfmpegMissingError, ffmpegAvailable } from './io/ffmpeg.ts';
import { AiffReader } from './io/aiff.ts';
import { FORMAT_LABELS, createAudioSink, detectFormat, formatOfName, openAudioSource } from './io/formats.ts';
import { checkReadableFile } from './io/regular-files.ts';
import { LoudnessAnalyzer, type LoudnessReport, type SignalReport } from './loudness.ts';
import {
  MAX_PASSES,
  TOLERANCE_LU,
  decideDrive,
  driveRange,
  driveSettings,
  type DrivePass,
  type SearchStop,
} from './drive-search.ts';
import {
  ceilingCuts,
  checkCodecs,
  recheckChanged,
  REGION_SECONDS,
  type CodecResult,
} from './delivery/codec-check.ts';
import { meterValue } from './meter-layout.ts';
import type { StreamCodec } from './presets.ts';
import { addon, type NativeDither, type NativeResampler } from './native.ts';
import { getSpec, type ParameterValues } from './params.ts';
import { interleave, WavReader, WavWriter, type SampleFormat } from './wav.ts';

export interface MasterOptions {
  input: string;
  output: string;
  targetLufs: number;
  ceilingDbtp: number;
  /** Chain settings (from --settings and --set), already checked against the schema. */
  values: ParameterValues;
  /** The stored samples; the file format follows the output's name (masterFormat). */
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
  /** Decode the master through these codecs and report each decode (the codec check). */
  codecs?: readonly StreamCodec[];
  /** With codecs: lower the ceiling where a decode went over, until none does. */
  codecSafe?: boolean;
  /** Per region of REGION_SECONDS, how far below the ceiling the limiter aims there (dB). */
  ceilingCutsDb?: Float32Array;
}

/** What making the master codec-safe did, and what it cost. */
export interface CodecSafety {
  /** Renders after the first, each with the ceiling lowered further where a decode went over. */
  rerenders: number;
  /** Regions (of REGION_SECONDS) whose ceiling came down, and the deepest cut. */
  regionsLowered: number;
  deepestCutDb: number;
  /** Regions judged again alone (lowered at an unchanged drive) rather than in a whole-file check. */
  regionsRechecked: number;
  /** The limiter drive before and after: the loudness the cuts would have cost, won back by drive. */
  driveBeforeDb: number;
  driveAfterDb: number;
  /** Integrated loudness before and after (both aimed at the target). */
  lufsBefore: number | null;
  lufsAfter: number | null;
  /** Whether every checked decode now lands at or under the ceiling. */
  safe: boolean;
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
  /** The codec check of this file, when asked for. */
  codecs?: CodecResult[];
  codecSafety?: CodecSafety;
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
  input: SignalReport;
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

/** What the renders need of the input: its rate and exactly how many frames it holds. */
interface InputInfo {
  sampleRate: number;
  frames: number;
}

/** A file's loudness and what it held, a block at a time; it counts the frames a lossy file does not state. */
async function analyzePaced(
  file: string,
  pacer: Pacer,
  onProgress?: MasterOptions['onProgress'],
): Promise<SignalReport> {
  const source = await openAudioSource(file);
  try {
    const { sampleRate, channels, frames, durationSeconds } = source.info;
    // A codec's length is known only at its end: until then the container's estimate drives the bar.
    const estimate = frames ?? Math.round((durationSeconds ?? 0) * sampleRate);
    const analyzer = new LoudnessAnalyzer(sampleRate);
    for (;;) {
      const block = await source.read(BLOCK * 4);
      if (!block) break;
      analyzer.push(block.left, block.right);
      onProgress?.('analyze', source.position, Math.max(estimate, source.position));
      await pacer.step();
    }
    return { ...analyzer.report(), ...analyzer.signal(channels === 1 ? 1 : 2) };
  } finally {
    await source.close();
  }
}

/** A file's loudness, measured as the live chain plays it, and what the file held to get there. */
export function analyzeFile(file: string, onProgress?: MasterOptions['onProgress']): Promise<SignalReport> {
  return analyzePaced(file, new Pacer(), onProgress);
}

/** The input's analysis as master() starts with it: paced, and stopped by `options.signal`. */
export function analyzeInput(
  options: Pick<MasterOptions, 'input' | 'onProgress' | 'signal'>,
): Promise<SignalReport> {
  return analyzePaced(options.input, new Pacer(options.signal), options.onProgress);
}

/**
 * The input's rate and length: the length as the file states it, else as the analysis counted it
 * (`counted`), else counted now by decoding it once (a lossy input given without its analysis).
 */
async function inputInfoOf(file: string, counted?: number): Promise<InputInfo> {
  const source = await openAudioSource(file);
  try {
    const { sampleRate, frames } = source.info;
    if (frames !== null) return { sampleRate, frames };
    if (counted !== undefined) return { sampleRate, frames: counted };
    while (await source.read(BLOCK * 16));
    return { sampleRate, frames: source.position };
  } finally {
    await source.close();
  }
}

function ditherFor(format: SampleFormat, noiseShaping: boolean): NativeDither | undefined {
  if (format === 'int16') return new addon.NativeDither(16, 2, noiseShaping, DITHER_SEED);
  if (format === 'int24') return new addon.NativeDither(24, 2, noiseShaping, DITHER_SEED);
  return undefined;
}

/** The formats a master is written in: lossless, so dither and ceiling are what was delivered. */
export type MasterFormat = Extract<AudioFormat, 'wav' | 'aiff' | 'aifc' | 'flac'>;

/**
 * The file format of a master, by its output's name: .wav, .aif/.aiff (AIFF-C for float, which
 * plain AIFF cannot store), .aifc or .flac (16 or 24 bit); a name without a known extension is
 * written as WAV, as it always was. Lossy names are refused: a master is the lossless source the
 * codecs are made from.
 */
export function masterFormat(output: string, sampleFormat: SampleFormat): MasterFormat {
  const format = formatOfName(output);
  if (format === null || format === 'wav') return 'wav';
  if (format === 'aiff' || format === 'aifc') return sampleFormat === 'float32' ? 'aifc' : format;
  if (format === 'flac') {
    if (sampleFormat !== 'int16' && sampleFormat !== 'int24')
      throw new OutputFileError(
        output,
        `FLAC stores 16 or 24 bit, not ${sampleFormat}; use --bits 16 or 24, or write .wav or .aifc for ${sampleFormat === 'float32' ? 'float' : '32 bit'}`,
      );
    return 'flac';
  }
  throw new OutputFileError(
    output,
    `${FORMAT_LABELS[format]} is a lossy codec, not a master; write the master as .wav, .aif, .aiff or .flac (the codec check decodes it through the codecs)`,
  );
}

/** Throws, before any work, when writing `output` as a master needs ffmpeg and there is none. */
function checkMasterWriter(output: string, sampleFormat: SampleFormat): void {
  const format = masterFormat(output, sampleFormat);
  if (format === 'flac' && !ffmpegAvailable()) throw new FfmpegMissingError(output, 'writing FLAC');
}

/** A float stream into a master file (masterFormat), dithered when the format is 16 or 24 bit. */
class OutputStream {
  private interleaved = new Float32Array(0);
  private integers = new Int32Array(0);

  private constructor(
    private readonly sink: AudioSink,
    private readonly dither: NativeDither | undefined,
  ) {}

  static async create(
    file: string,
    sampleRate: number,
    sampleFormat: SampleFormat,
    noiseShaping: boolean,
  ): Promise<OutputStream> {
    const format = masterFormat(file, sampleFormat);
    // The dither first: if it cannot be made, no partial file was opened to leak.
    const dither = ditherFor(sampleFormat, noiseShaping);
    return new OutputStream(await createAudioSink(file, { sampleRate, sampleFormat, format }), dither);
  }

  /** The file as written so far, under its hidden name. */
  get partialPath(): string {
    return this.sink.partialPath;
  }

  async write(left: Float32Array, right: Float32Array): Promise<void> {
    if (this.interleaved.length < left.length * 2) this.interleaved = new Float32Array(left.length * 2);
    const samples = interleave(left, right, 2, this.interleaved);
    if (!this.dither) return this.sink.write(samples);
    if (this.integers.length < samples.length) this.integers = new Int32Array(samples.length);
    const ints = this.integers.subarray(0, samples.length);
    this.dither.process(samples, ints);
    await this.sink.write(ints);
  }

  /** Complete under the partial name; commit() or abort() decides its fate. */
  finish(): Promise<void> {
    return this.sink.finish();
  }

  commit(): Promise<void> {
    return this.sink.commit();
  }

  abort(): Promise<void> {
    return this.sink.abort();
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
  options: Pick<MasterOptions, 'input' | 'ceilingDbtp' | 'ceilingCutsDb' | 'onProgress'>,
  input: InputInfo,
  values: ParameterValues,
  sink: ((l: Float32Array, r: Float32Array) => void | Promise<void>) | undefined,
  label: string,
  pacer: Pacer,
  blockFrames = BLOCK,
  onBlock?: (meters: Float32Array, frames: number) => void,
): Promise<PassResult> {
  const source = await openAudioSource(options.input);
  try {
    const { sampleRate, frames } = input;
    const chain = new MasteringChain({ sampleRate, maxBlock: blockFrames, values });
    const analyzer = new LoudnessAnalyzer(sampleRate);
    let toSkip = chain.latencySamples;
    let tail = chain.latencySamples;
    const emit = async (left: Float32Array, right: Float32Array) => {
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
      await sink?.(l, r);
    };
    // Per input block, the limiter's deepest reduction in it; the latency flush (silence) is not music.
    const blockGrDb: number[] = [];
    const ceilingAt = options.ceilingCutsDb && ceilingSchedule(options, values, sampleRate);
    for (;;) {
      const first = source.position;
      const block = await source.read(blockFrames);
      if (!block) break;
      const { left, right } = block;
      fadeOutFileEnd(left, right, first, frames, sampleRate);
      if (!ceilingAt) await emit(left, right);
      else
        for (let at = 0; at < left.length; at += CEILING_STEP) {
          chain.set('limiter.ceiling', ceilingAt(first + at));
          await emit(left.subarray(at, at + CEILING_STEP), right.subarray(at, at + CEILING_STEP));
        }
      blockGrDb.push(meterValue(chain.meters, 'limiter.grDb') || 0);
      onBlock?.(chain.meters, left.length);
      options.onProgress?.(label, source.position, frames);
      await pacer.step();
    }
    // Flush the chain's latency with silence so the output is exactly as long as the input.
    while (tail > 0) {
      const n = Math.min(blockFrames, tail);
      await emit(new Float32Array(n), new Float32Array(n));
      tail -= n;
    }
    const limiterReduction = {
      loudestDb: percentile(blockGrDb, LOUDEST_PERCENTILE),
      maxDb: meterValue(chain.meters, 'limiter.grMaxDb') || 0,
    };
    return { report: analyzer.report(), limiterReduction };
  } finally {
    await source.close();
  }
}

/**
 * One pass of the chain over `input` with `values` as they are (drive and trim already set),
 * measured, not written: what an album's one drive makes of a track, and (through `onBlock`, with
 * the chain's meter frame after each block of `blockFrames`) the gain reduction a QC report draws.
 */
export async function renderMeasured(
  input: string,
  values: ParameterValues,
  blockFrames = BLOCK,
  onBlock?: (meters: Float32Array, frames: number) => void,
): Promise<{ report: LoudnessReport; durationS: number }> {
  const info = await inputInfoOf(input);
  const ceilingDbtp = values['limiter.ceiling'] ?? getSpec('limiter.ceiling').default;
  const pass = await renderPass(
    { input, ceilingDbtp },
    info,
    values,
    undefined,
    'measure',
    new Pacer(),
    blockFrames,
    onBlock,
  );
  return { report: pass.report, durationS: info.frames / info.sampleRate };
}

// A lowered ceiling is set this often (10 ms at 48 kHz) and this far ahead of its region: the
// limiter's ceiling glides over 20 ms, and the stages before it delay the signal a little.
const CEILING_STEP = 512;
const CEILING_LEAD_S = 0.04;

/** The ceiling for the input frame `at`: lowered by the deepest cut of the regions around it. */
function ceilingSchedule(
  options: Pick<MasterOptions, 'ceilingDbtp' | 'ceilingCutsDb'>,
  values: ParameterValues,
  sampleRate: number,
): (at: number) => number {
  const cuts = options.ceilingCutsDb as Float32Array;
  const ceiling = values['limiter.ceiling'] ?? options.ceilingDbtp;
  const region = Math.round(REGION_SECONDS * sampleRate);
  const lead = Math.round(CEILING_LEAD_S * sampleRate);
  const floor = getSpec('limiter.ceiling').min;
  return (at) => {
    let cut = 0;
    const last = Math.min(cuts.length - 1, Math.floor((at + CEILING_STEP + lead) / region));
    for (let r = Math.max(0, Math.floor((at - lead) / region)); r <= last; r++) cut = Math.max(cut, cuts[r]);
    return Math.max(floor, ceiling - cut);
  };
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
 * Checks, before any work, what a master of `input` into `outputs` needs: the input a regular file
 * the rig reads (WAV and AIFF with their headers checked here; anything else needs ffmpeg, which
 * must be there), with audio in it as far as its header tells, every output a regular file or
 * nothing, in a writable folder, none of them the input itself, and its format one a master is
 * written in (with ffmpeg there for FLAC). Synchronous: the cheap checks, before any decoder starts.
 */
export function checkMasterFiles(
  input: string,
  outputs: readonly string[],
  sampleFormat: SampleFormat = 'int24',
): void {
  const format = detectFormat(input);
  if (format === 'wav' || format === 'aiff' || format === 'aifc') {
    const reader = format === 'wav' ? WavReader.open(input) : AiffReader.open(input);
    const frames = reader.info.frames;
    reader.close();
    if (frames === 0) throw noFrames(input);
  } else {
    const label = format ? FORMAT_LABELS[format] : null;
    checkReadableFile(input, (problem) => new Error(`${path.basename(input)}: ${problem}`), 'an audio file');
    if (!ffmpegAvailable())
      throw new FfmpegMissingError(
        input,
        label ? `reading ${label}` : 'reading formats other than WAV and AIFF',
      );
  }
  for (const output of outputs) {
    checkNotInput(input, output);
    checkOutputFile(output);
    checkMasterWriter(output, sampleFormat);
  }
}

/** The input's header as its reader states it: rate, channels, frames (null for most codecs). */
async function probeInput(file: string): Promise<SourceInfo> {
  const source = await openAudioSource(file);
  await source.close();
  if (source.info.frames === 0) throw noFrames(file);
  return source.info;
}

const noFrames = (input: string) =>
  new Error(`${path.basename(input)} has no audio frames; there is nothing to master`);

/** Throws, before any work, when the codec check was asked for and ffmpeg is not there. */
function checkCodecTools(options: MasterOptions): void {
  if (options.codecs?.length && !ffmpegAvailable())
    throw new FfmpegMissingError(options.output, 'the codec check');
}

/** Finds the limiter drive that meets the loudness target, then renders the file with it. */
export async function master(options: MasterOptions): Promise<MasterResult> {
  const cdFile = options.cd ? cdPath(options.output) : undefined;
  checkMasterFiles(options.input, [options.output], options.format);
  if (cdFile) {
    checkNotInput(options.input, cdFile);
    checkOutputFile(cdFile);
    checkMasterWriter(cdFile, 'int16');
  }
  checkCodecTools(options);
  const { sampleRate } = await probeInput(options.input);
  if (cdFile) cdResampler(options.input, sampleRate);
  const pacer = new Pacer(options.signal);
  const input = await analyzePaced(options.input, pacer, options.onProgress);
  // A lossy input states no length: the analysis counted it.
  if (input.frames === 0) throw noFrames(options.input);
  if (input.integratedLufs === null) {
    throw new Error(
      `${path.basename(options.input)}: the input is silent (no 400 ms block above the -70 LUFS gate); there is no loudness to master to a target`,
    );
  }
  const info = await inputInfoOf(options.input, input.frames);
  const output = await codecChecked(
    options,
    info,
    input,
    await renderPending(options, info, input, options.output, pacer),
    pacer,
  );
  let cd: PendingFile | undefined;
  try {
    if (cdFile) cd = await renderCd(options, info, output.result, cdFile, pacer);
    // Together: a master and its CD master are both new, or both as they were.
    await output.stream.commit();
    await cd?.stream.commit();
  } catch (error) {
    await output.stream.abort();
    await cd?.stream.abort();
    throw error;
  }
  const result: MasterResult = { input, output: output.result };
  if (cd) result.cd = cd.result;
  return result;
}

// At most this many renders after the first to make a master codec-safe; each lowers the ceiling
// further only where a decode still went over, by the excess and this margin (a codec's peaks
// move a little when the signal under it does).
const MAX_CODEC_RERENDERS = 6;
const CODEC_MARGIN_DB = 0.1;
// The first cut is twice the excess: where it costs more loudness than KEEP_DRIVE_WITHIN_LU, the
// drive that wins it back lifts the decodes elsewhere, so one search and one whole check settle most of it.
const FIRST_CUT_FACTOR = 2;
const FIRST_CUT_GUARD_DB = 0.3;
// A lowered region moves the codec's bits around its neighbours too: a little more than the excess.
const LATER_CUT_FACTOR = 1.5;
// Cuts keep the drive (one pass each, and only the lowered regions are judged again) while the
// loudness stays within the drive search's own tolerance of the target; further off, the drive is
// searched again and the whole file checked again.
const KEEP_DRIVE_WITHIN_LU = TOLERANCE_LU;
// Past this share of the file, judging regions alone costs as much as judging the whole.
const MAX_RECHECK_SHARE = 0.4;

/**
 * The codec check of a pending file and, when asked, the renders that make it codec-safe:
 * the whole file through every codec; where a decode went over, the ceiling lowered there and
 * the drive searched again so the loudness stays on target, and the whole file checked again;
 * then, while a few regions still go over, lower those at the same drive (one pass) and judge
 * just them again through every codec, so the rest of the master is exactly what was checked.
 */
async function codecChecked(
  options: MasterOptions,
  info: InputInfo,
  input: LoudnessReport,
  first: PendingFile,
  pacer: Pacer,
): Promise<PendingFile> {
  if (!options.codecs?.length) return first;
  const ceiling = options.ceilingDbtp;
  const checkWhole = async (pending: PendingFile) => {
    // The pending file as it will be delivered (dithered, in its format), streamed from disk.
    options.onProgress?.('codec check', 0, 1);
    const checked = await checkCodecs(pending.stream.partialPath, options.codecs!, ceiling);
    options.signal?.throwIfAborted();
    return checked;
  };
  const overRegions = (results: readonly CodecResult[]) => {
    const regions = new Set<number>();
    for (const r of results) r.regionPeaksDbtp.forEach((peak, i) => peak > ceiling && regions.add(i));
    return [...regions];
  };
  let pending = first;
  let results = await checkWhole(pending);
  let cuts: Float32Array | undefined;
  let rerenders = 0;
  let regionRechecks = 0;
  try {
    for (
      let over = overRegions(results);
      options.codecSafe && over.length && rerenders < MAX_CODEC_RERENDERS;
    ) {
      const more =
        rerenders === 0
          ? ceilingCuts(results, ceiling, CODEC_MARGIN_DB, FIRST_CUT_FACTOR, FIRST_CUT_GUARD_DB)
          : ceilingCuts(results, ceiling, CODEC_MARGIN_DB, LATER_CUT_FACTOR);
      cuts = cuts ? cuts.map((c, r) => c + (more[r] ?? 0)) : more;
      const keepDrive = over.length <= MAX_RECHECK_SHARE * results[0].regionPeaksDbtp.length;
      // The re-render writes under the same hidden name: the checked one goes first.
      await pending.stream.abort();
      pending = await renderPending(
        { ...options, ceilingCutsDb: cuts },
        info,
        input,
        options.output,
        pacer,
        pending.result.limiterGainDb,
        keepDrive ? KEEP_DRIVE_WITHIN_LU : undefined,
      );
      rerenders++;
      const searched = pending.result.passes > 1 || !keepDrive;
      if (searched) {
        results = await checkWhole(pending);
      } else {
        // Only these regions' ceilings moved, at the drive the whole check saw; their neighbours
        // are judged too, since the ceiling comes down ahead of a region and the limiter
        // recovers after it.
        const regionCount = results[0].regionPeaksDbtp.length;
        const lowered = [...new Set(over.flatMap((r) => [r - 1, r, r + 1]))].filter(
          (r) => r >= 0 && r < regionCount,
        );
        options.onProgress?.('codec check', 0, 1);
        results = await recheckChanged(pending.stream.partialPath, results, lowered, ceiling);
        regionRechecks += lowered.length;
      }
      over = overRegions(results);
    }
  } catch (error) {
    await pending.stream.abort();
    throw error;
  }
  pending.result.codecs = results;
  if (options.codecSafe)
    pending.result.codecSafety = {
      rerenders,
      regionsLowered: cuts ? cuts.filter((c) => c > 0).length : 0,
      deepestCutDb: cuts ? cuts.reduce((a, b) => Math.max(a, b), 0) : 0,
      regionsRechecked: regionRechecks,
      driveBeforeDb: first.result.limiterGainDb,
      driveAfterDb: pending.result.limiterGainDb,
      lufsBefore: first.result.report.integratedLufs,
      lufsAfter: pending.result.report.integratedLufs,
      safe: !results.some((r) => r.truePeakDbtp > ceiling),
    };
  return pending;
}

/** Renders `file` at the drive that meets `options.targetLufs` and moves it under its name. */
export async function renderToTarget(
  options: MasterOptions,
  /** The input's analysis; with its frame count (a SignalReport), a lossy input is not decoded to count them again. */
  input: LoudnessReport & { frames?: number },
  file: string,
): Promise<RenderedFile> {
  checkMasterFiles(options.input, [file], options.format);
  checkCodecTools({ ...options, output: file });
  const info = await inputInfoOf(options.input, input.frames);
  const pacer = new Pacer(options.signal);
  const pending = await codecChecked(
    { ...options, output: file },
    info,
    input,
    await renderPending(options, info, input, file, pacer),
    pacer,
  );
  await pending.stream.commit();
  return pending.result;
}

/** The drive search: passes until one meets the target (or the search ends), that one kept. */
async function renderPending(
  options: MasterOptions,
  info: InputInfo,
  input: LoudnessReport,
  file: string,
  pacer: Pacer,
  /** Where a re-render starts its search: the drive that met the target before. */
  firstDriveDb?: number,
  /** A first pass this close to the target is kept (a codec-safe re-render at the drive it had). */
  acceptWithinLu?: number,
): Promise<PendingFile> {
  const values = { ...options.values, 'limiter.ceiling': options.ceilingDbtp };
  const rate = info.sampleRate;
  const range = driveRange(values);
  // First guess: the chain is roughly unity gain, so drive by the distance to the target.
  let drive = Math.min(
    range.max,
    Math.max(
      range.min,
      firstDriveDb ??
        (options.values['limiter.gain'] ?? 0) +
          options.targetLufs -
          (input.integratedLufs ?? options.targetLufs),
    ),
  );
  const tried: DrivePass[] = [];
  for (;;) {
    const passes = tried.length + 1;
    const settings = driveSettings(drive, values);
    const stream = await OutputStream.create(file, rate, options.format, options.noiseShaping ?? false);
    let pass: PassResult;
    try {
      pass = await renderPass(
        options,
        info,
        { ...values, 'limiter.gain': settings.limiterGainDb, 'input.trim': settings.inputTrimDb },
        (l, r) => stream.write(l, r),
        `pass ${passes}`,
        pacer,
      );
    } catch (error) {
      await stream.abort();
      throw error;
    }
    const last = { gainDb: drive, lufs: pass.report.integratedLufs ?? -Infinity };
    tried.push(last);
    const decision =
      passes === 1 &&
      acceptWithinLu !== undefined &&
      Math.abs(options.targetLufs - last.lufs) <= acceptWithinLu
        ? ({ stop: 'on-target' } as const)
        : decideDrive(tried, options.targetLufs, range);
    if ('stop' in decision) {
      try {
        await stream.finish();
      } catch (error) {
        await stream.abort();
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
    await stream.abort();
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
  input: InputInfo,
  master: RenderedFile,
  cdFile: string,
  pacer: Pacer,
): Promise<PendingFile> {
  const rate = input.sampleRate;
  // The CD master lasts exactly as long as the master: the resampler's tail is cut there.
  let framesLeft = Math.round((input.frames * 44100) / rate);
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
      input,
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
    // Judged by the 8x judge, not the 4x meter: the meter reads up to 0.01 dB under the true peak,
    // and a CD master is what the ceiling promise is checked on.
    const overshoot = (await judgedPeakDbtp(floatTemp, pacer)) - options.ceilingDbtp;
    const trim = overshoot > 0 ? Math.pow(10, -(overshoot + 0.01) / 20) : 1;
    const stream = await OutputStream.create(cdFile, 44100, 'int16', options.noiseShaping ?? false);
    try {
      const reader = WavReader.open(floatTemp);
      try {
        for (;;) {
          const { left, right } = reader.read(BLOCK);
          if (left.length === 0) break;
          if (trim !== 1)
            for (let i = 0; i < left.length; i++) [left[i], right[i]] = [left[i] * trim, right[i] * trim];
          await stream.write(left, right);
          await pacer.step();
        }
      } finally {
        reader.close();
      }
      await stream.finish();
      const report = await analyzePaced(stream.partialPath, pacer);
      return { stream, result: { ...master, file: cdFile, report, passes: 1 } };
    } catch (error) {
      await stream.abort();
      throw error;
    }
  } finally {
    floatWriter.abort();
  }
}

/** The true peak of a float WAV by the 8x judge, read in overlapping blocks (the judge's kernel spans 24 samples). */
async function judgedPeakDbtp(file: string, pacer: Pacer): Promise<number> {
  const overlap = 48;
  const reader = WavReader.open(file);
  try {
    let peak = -Infinity;
    let tailL = new Float32Array(0);
    let tailR = new Float32Array(0);
    for (;;) {
      const { left, right } = reader.read(BLOCK);
      if (left.length === 0) break;
      const l = new Float32Array(tailL.length + left.length);
      const r = new Float32Array(l.length);
      l.set(tailL);
      l.set(left, tailL.length);
      r.set(tailR);
      r.set(right, tailR.length);
      peak = Math.max(peak, addon.countOvers(l, 0).maxDbtp, addon.countOvers(r, 0).maxDbtp);
      tailL = l.slice(Math.max(0, l.length - overlap));
      tailR = r.slice(Math.max(0, r.length - overlap));
      await pacer.step();
    }
    return peak;
  } finally {
    reader.close();
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
