/**
 * Delivery: for each input, the set of files an engineer hands over for the chosen platforms.
 * One 24-bit master at the session rate per distinct target and ceiling among the platforms
 * (codec-checked and codec-safe through every chosen platform's codecs), the 16-bit 44.1 kHz CD
 * master when the CD is among them, FLAC where a platform takes it, MP3 320k and AAC 256k
 * listening copies, each file verified by reading it back, and a QC report per master.
 *
 * Every file is written under its hidden partial name and takes its real name only when complete
 * and verified (master.ts, the io sinks, the report writer): a failure names the file and why,
 * leaves no partial and leaves the files delivered before it as they are.
 *
 * Album mode keeps the tracks' relative levels: one drive per master for the whole album, found
 * so that the album (every track at that drive, power-averaged by duration) meets the target.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { TOLERANCE_LU } from '../drive-search.ts';
import { OutputFileError, checkNotInput, checkOutputFile } from '../file-checks.ts';
import {
  codedRate,
  createAudioSink,
  findFfmpeg,
  LOSSY_CODECS,
  openAudioSource,
  type AudioSink,
  type LossyFormat,
} from '../io/index.ts';
import { StreamResampler } from '../io/stream-resampler.ts';
import { LoudnessAnalyzer } from '../loudness.ts';
import {
  analyzeFile,
  cdPath,
  checkMasterFiles,
  master,
  renderMeasured,
  type MasterResult,
} from '../master.ts';
import type { ParameterValues } from '../params.ts';
import { getPreset, type StreamCodec } from '../presets.ts';
import { qcReportJson, renderQcReport } from '../report/qc-report.ts';
import { writeReport } from '../report/write.ts';
import { interleave, WavReader } from '../wav.ts';
import { codecLabel, distinctCodecs, measureFile } from './codec-check.ts';
import { gatherQcData } from './qc-data.ts';
import { driveRange, valuesAtDrive } from '../drive-search.ts';

/** The listening copies: what a client plays before approving, encoded from the main master. */
export const LISTENING_COPIES: { format: LossyFormat; codec: StreamCodec }[] = [
  { format: 'mp3', codec: { codec: 'mp3', kbps: 320 } },
  { format: 'm4a', codec: { codec: 'aac', kbps: 256 } },
];
// Platforms that take lossless files: their masters also go as FLAC.
const LOSSLESS_PLATFORMS = new Set(['tidal', 'amazon']);
// A lossy copy's loudness may differ from its master's by this much and still be the same master.
const COPY_LOUDNESS_LU = 0.5;
// A peak at the ceiling to a hundredth of a dB has met it (float noise must not fail a file).
const EPSILON_DB = 0.005;

/** One master of the delivery: a target and ceiling, and the platforms it is for. */
export interface MasterPlan {
  targetLufs: number;
  ceilingDbtp: number;
  platforms: string[];
  cd: boolean;
  flac: boolean;
  /** The master the listening copies are encoded from. */
  main: boolean;
  /** The codecs it is checked and made safe through. */
  codecs: StreamCodec[];
  /** How its files are named after the input: '' or '.-14LUFS'. */
  suffix: string;
}

/** The masters a set of platforms needs, the main one (most platforms, then strictest ceiling) first. */
export function planMasters(platforms: readonly string[], flac = false): MasterPlan[] {
  if (platforms.length === 0) throw new RangeError('no platform chosen (e.g. --platforms spotify,apple,cd)');
  const groups = new Map<string, MasterPlan>();
  for (const name of platforms) {
    const preset = getPreset(name);
    const key = `${preset.targetLufs}/${preset.ceilingDbtp}`;
    const plan = groups.get(key) ?? {
      targetLufs: preset.targetLufs,
      ceilingDbtp: preset.ceilingDbtp,
      platforms: [],
      cd: false,
      flac,
      main: false,
      codecs: [],
      suffix: '',
    };
    plan.platforms.push(name);
    plan.cd ||= Boolean(preset.cd);
    plan.flac ||= LOSSLESS_PLATFORMS.has(name);
    plan.codecs.push(...preset.codecs);
    groups.set(key, plan);
  }
  const plans = [...groups.values()].sort(
    (a, b) =>
      b.platforms.length - a.platforms.length ||
      Number(b.codecs.length > 0) - Number(a.codecs.length > 0) ||
      a.ceilingDbtp - b.ceilingDbtp ||
      b.targetLufs - a.targetLufs,
  );
  // A master streamed anywhere is checked through every chosen platform's codecs (one master
  // often goes to them all); the main one through its listening copies' codecs too.
  const streamed = distinctCodecs(plans.flatMap((p) => p.codecs));
  const targets = new Set(plans.map((p) => p.targetLufs));
  plans.forEach((plan, i) => {
    plan.main = i === 0;
    plan.codecs = distinctCodecs([
      ...(plan.codecs.length ? streamed : []),
      ...(plan.main ? LISTENING_COPIES.map((c) => c.codec) : []),
    ]);
    if (plans.length > 1)
      plan.suffix =
        targets.size === plans.length
          ? `.${plan.targetLufs}LUFS`
          : `.${plan.targetLufs}LUFS.${plan.ceilingDbtp}dBTP`;
  });
  return plans;
}

/** The files one master of one input becomes. */
export interface PlannedFiles {
  master: string;
  cd?: string;
  flac?: string;
  copies: { format: LossyFormat; file: string }[];
  /** The QC report's name: NAME.qc.html and NAME.qc.json. */
  qc: string;
}

export function plannedFiles(input: string, dir: string, plan: MasterPlan): PlannedFiles {
  const base = path.join(dir, `${path.basename(input, path.extname(input))}${plan.suffix}`);
  const masterFile = `${base}.wav`;
  return {
    master: masterFile,
    cd: plan.cd ? cdPath(masterFile) : undefined,
    flac: plan.flac ? `${base}.flac` : undefined,
    copies: plan.main ? LISTENING_COPIES.map((c) => ({ format: c.format, file: `${base}.${c.format}` })) : [],
    qc: `${base}.qc`,
  };
}

function allFiles(files: PlannedFiles): string[] {
  return [
    files.master,
    ...(files.cd ? [files.cd] : []),
    ...(files.flac ? [files.flac] : []),
    ...files.copies.map((c) => c.file),
    `${files.qc}.html`,
    `${files.qc}.json`,
  ];
}

/** A delivered file and what reading it back measured. */
export interface DeliveredFile {
  file: string;
  kind: 'master' | 'cd' | 'flac' | 'mp3' | 'm4a' | 'qc-html' | 'qc-json';
  truePeakDbtp?: number;
  integratedLufs?: number | null;
  /** What the read-back checked: 'true peak ≤ -1 dBTP, -14.0 LUFS'. */
  verified?: string;
}

/** For album mode: the drive every track of the album gets, and the loudness it gives this one. */
export interface AlbumDrive {
  driveDb: number;
  albumLufs: number;
  trackLufs: number;
}

/** One input's delivery, as a worker runs it. */
export interface TrackJob {
  input: string;
  dir: string;
  plans: MasterPlan[];
  values: ParameterValues;
  noiseShaping?: boolean;
  /** Per plan, in album mode. */
  album?: AlbumDrive[];
}

export interface TrackDelivery {
  input: string;
  masters: { plan: MasterPlan; result: MasterResult; album?: AlbumDrive }[];
  files: DeliveredFile[];
  warnings: string[];
}

export type TrackProgress = (label: string, done: number, total: number) => void;

/** An error that names the file and the cause (the cause's own words, without a repeated name). */
function failure(file: string, error: unknown): Error {
  const message = (error as Error)?.message ?? String(error);
  const name = path.basename(file);
  if (error instanceof Error && (error.name === 'AbortError' || 'exitCode' in error)) return error;
  return new Error(message.startsWith(name) || message.includes(file) ? message : `${name}: ${message}`);
}

function wavInfo(file: string) {
  const reader = WavReader.open(file);
  reader.close();
  return reader.info;
}

/** A written WAV master read back: its true peak under the ceiling, its loudness on target. */
async function verifyWav(
  file: string,
  kind: 'master' | 'cd',
  ceilingDbtp: number,
  targetLufs: number | null,
): Promise<DeliveredFile> {
  const { truePeakDbtp: peak, integratedLufs: lufs } = await measureFile(file);
  if (peak > ceilingDbtp + EPSILON_DB)
    throw new Error(
      `${path.basename(file)}: read back at ${peak.toFixed(2)} dBTP, over the ${ceilingDbtp} dBTP ceiling`,
    );
  if (targetLufs !== null && (lufs === null || Math.abs(lufs - targetLufs) > TOLERANCE_LU + EPSILON_DB))
    throw new Error(
      `${path.basename(file)}: read back at ${lufs ?? 'no'} LUFS, off the ${targetLufs} LUFS target`,
    );
  return {
    file,
    kind,
    truePeakDbtp: peak,
    integratedLufs: lufs,
    verified: `true peak ${peak.toFixed(2)} ≤ ${ceilingDbtp} dBTP, ${lufs?.toFixed(1)} LUFS`,
  };
}

/** Reads two files in step and throws at the first frame they differ; returns the frame count. */
async function sameSamples(expectedFile: string, actualFile: string): Promise<number> {
  const [expected, actual] = [await openAudioSource(expectedFile), await openAudioSource(actualFile)];
  try {
    let frame = 0;
    for (;;) {
      const [a, b] = [await expected.read(65536), await actual.read(65536)];
      if (!a || !b) {
        if (a || b) {
          const more = a ? expected : actual;
          while (await more.read(65536));
          throw new Error(`decodes to ${actual.position} frames, not the master's ${expected.position}`);
        }
        return frame;
      }
      // Equal block sizes from both, since both read as many as asked until their ends.
      const n = Math.min(a.left.length, b.left.length);
      for (let i = 0; i < n; i++)
        if (a.left[i] !== b.left[i] || a.right[i] !== b.right[i])
          throw new Error(`decodes differently from the master at frame ${frame + i}`);
      if (a.left.length !== b.left.length) {
        while (await expected.read(65536));
        while (await actual.read(65536));
        throw new Error(`decodes to ${actual.position} frames, not the master's ${expected.position}`);
      }
      frame += n;
    }
  } finally {
    await expected.close();
    await actual.close();
  }
}

/**
 * Encodes `master` into `file` (FLAC or a listening copy), verifies the partial by decoding it,
 * and only then gives it its name. Streamed both ways: neither the master nor the decode is held
 * whole. A copy whose codec cannot store the master's rate (MP3 at 88.2 or 96 kHz) is made at the
 * codec's nearest rate by the native resampler, and verified there.
 */
async function encodeVerified(
  masterFile: string,
  file: string,
  format: 'flac' | LossyFormat,
  ceilingDbtp: number,
  signal?: AbortSignal,
): Promise<DeliveredFile> {
  const master = await openAudioSource(masterFile);
  const masterRate = master.info.sampleRate;
  const sampleRate = format === 'flac' ? masterRate : codedRate(format, masterRate);
  const masterLoudness = new LoudnessAnalyzer(masterRate);
  let sink: AudioSink;
  try {
    sink = await createAudioSink(file, {
      sampleRate,
      format,
      sampleFormat: 'int24',
      bitrateKbps:
        format === 'flac' ? undefined : LISTENING_COPIES.find((c) => c.format === format)?.codec.kbps,
    });
  } catch (error) {
    await master.close();
    throw error;
  }
  try {
    try {
      const resampler = sampleRate !== masterRate ? new StreamResampler(masterRate, sampleRate) : null;
      for (let block = await master.read(8192); block; block = await master.read(8192)) {
        signal?.throwIfAborted();
        masterLoudness.push(block.left, block.right);
        const interleaved = interleave(block.left, block.right, 2);
        await sink.write(resampler ? resampler.push(interleaved) : interleaved);
      }
      if (resampler) await sink.write(resampler.end());
    } finally {
      await master.close();
    }
    await sink.finish();
    let verified: string;
    let peak: number;
    let lufs: number | null;
    if (format === 'flac') {
      // Lossless: the decode is the master, sample for sample.
      const frames = await sameSamples(masterFile, sink.partialPath);
      ({ truePeakDbtp: peak, integratedLufs: lufs } = await measureFile(sink.partialPath));
      verified = `lossless: decodes to the master's ${frames} frames, sample for sample`;
    } else {
      ({ truePeakDbtp: peak, integratedLufs: lufs } = await measureFile(sink.partialPath));
      if (peak > ceilingDbtp + EPSILON_DB)
        throw new Error(`decodes at ${peak.toFixed(2)} dBTP, over the ${ceilingDbtp} dBTP ceiling`);
      const masterLufs = masterLoudness.report().integratedLufs;
      if (lufs === null || masterLufs === null || Math.abs(lufs - masterLufs) > COPY_LOUDNESS_LU)
        throw new Error(`decodes at ${lufs ?? 'no'} LUFS, the master is ${masterLufs} LUFS`);
      verified = `decoded true peak ${peak.toFixed(2)} ≤ ${ceilingDbtp} dBTP, ${lufs.toFixed(1)} LUFS${
        sampleRate !== masterRate ? `, at ${sampleRate / 1000} kHz` : ''
      }`;
    }
    await sink.commit();
    return {
      file,
      kind: format === 'aac' ? 'm4a' : (format as DeliveredFile['kind']),
      truePeakDbtp: peak,
      integratedLufs: lufs,
      verified,
    };
  } catch (error) {
    await sink.abort();
    throw error;
  }
}

/** Every file of one input, in order; the first failure stops it, naming the file. */
export async function deliverTrack(
  job: TrackJob,
  onProgress?: TrackProgress,
  signal?: AbortSignal,
): Promise<TrackDelivery> {
  const delivery: TrackDelivery = { input: job.input, masters: [], files: [], warnings: [] };
  for (const [index, plan] of job.plans.entries()) {
    const files = plannedFiles(job.input, job.dir, plan);
    const album = job.album?.[index];
    const label = (stage: string) => `${plan.suffix ? `${plan.suffix.slice(1)} ` : ''}${stage}`;
    let result: MasterResult;
    try {
      const values = { ...job.values };
      let targetLufs = plan.targetLufs;
      if (album) {
        // The album's drive: this track's loudness at it is its target. The drive search starts
        // from its guess (limiter.gain + target - input loudness), so that guess is the drive.
        const input = await analyzeFile(job.input);
        targetLufs = album.trackLufs;
        values['limiter.gain'] = album.driveDb - targetLufs + (input.integratedLufs ?? targetLufs);
      }
      result = await master({
        input: job.input,
        output: files.master,
        targetLufs,
        ceilingDbtp: plan.ceilingDbtp,
        values: album ? values : job.values,
        format: 'int24',
        noiseShaping: job.noiseShaping,
        cd: plan.cd,
        codecs: plan.codecs,
        codecSafe: plan.codecs.length > 0,
        onProgress: (stage, done, total) => onProgress?.(label(stage), done, total),
        signal,
      });
    } catch (error) {
      throw failure(files.master, error);
    }
    delivery.masters.push({ plan, result, album });
    if (result.output.warning)
      delivery.warnings.push(`${path.basename(files.master)}: ${result.output.warning}`);
    if (result.output.codecSafety && !result.output.codecSafety.safe)
      delivery.warnings.push(`${path.basename(files.master)}: not every codec decode is under the ceiling`);
    const onTarget = result.output.stoppedBecause === 'on-target' ? result.output.targetLufs : null;
    try {
      delivery.files.push(await verifyWav(files.master, 'master', plan.ceilingDbtp, onTarget));
    } catch (error) {
      throw failure(files.master, error);
    }
    if (files.cd && result.cd)
      try {
        delivery.files.push(await verifyWav(files.cd, 'cd', plan.ceilingDbtp, null));
      } catch (error) {
        throw failure(files.cd, error);
      }
    const encodes = [...(files.flac ? [{ format: 'flac' as const, file: files.flac }] : []), ...files.copies];
    for (const encode of encodes) {
      onProgress?.(label(`encode ${path.extname(encode.file).slice(1)}`), 0, 1);
      try {
        delivery.files.push(
          await encodeVerified(files.master, encode.file, encode.format, plan.ceilingDbtp, signal),
        );
      } catch (error) {
        throw failure(encode.file, error);
      }
    }
    onProgress?.(label('qc report'), 0, 1);
    try {
      const notes = [
        `Delivered for ${plan.platforms.join(', ')}; codec-checked through ${plan.codecs.map(codecLabel).join(', ') || 'no codec (lossless)'}.`,
        'Gain reduction: the input through the chain at the master’s drive, without the codec-safe ceiling cuts.',
      ];
      if (album)
        notes.push(
          `Album mode: one drive (${album.driveDb.toFixed(2)} dB) for every track; the album at ${album.albumLufs.toFixed(1)} LUFS (target ${plan.targetLufs}), this track at ${album.trackLufs.toFixed(1)} LUFS.`,
        );
      const safety = result.output.codecSafety;
      if (safety)
        notes.push(
          `Codec-safe: ${safety.rerenders} re-render(s), ${safety.regionsLowered} region(s) lowered, deepest ${safety.deepestCutDb.toFixed(2)} dB.`,
        );
      if (result.output.warning) notes.push(`Warning: ${result.output.warning}`);
      const data = await gatherQcData({
        title: `QC: ${path.basename(files.master)}`,
        input: job.input,
        values: album ? { ...job.values } : job.values,
        result,
        platforms: plan.platforms,
        settings: [
          { key: 'Platforms', value: plan.platforms.join(', ') },
          { key: 'Limiter drive', value: `${result.output.limiterGainDb.toFixed(2)} dB` },
          { key: 'Input trim', value: `${result.output.inputTrimDb.toFixed(2)} dB` },
          ...(album ? [{ key: 'Album target', value: `${plan.targetLufs} LUFS` }] : []),
          ...Object.entries(job.values).map(([key, value]) => ({ key, value: String(value) })),
        ],
        notes,
      });
      const written = writeReport(files.qc, renderQcReport(data), qcReportJson(data));
      delivery.files.push(
        { file: written.htmlPath, kind: 'qc-html' },
        { file: written.jsonPath, kind: 'qc-json' },
      );
    } catch (error) {
      throw failure(`${files.qc}.html`, error);
    }
  }
  return delivery;
}

/** What an album's drive makes of one track. */
export async function measureAtDrive(
  input: string,
  values: ParameterValues,
  driveDb: number,
  ceilingDbtp: number,
): Promise<{ lufs: number | null; durationS: number }> {
  const { report, durationS } = await renderMeasured(input, valuesAtDrive(values, driveDb, ceilingDbtp));
  return { lufs: report.integratedLufs, durationS };
}

/** The loudness of tracks played one after another: their powers averaged by duration. */
export function albumLoudness(tracks: readonly { lufs: number | null; durationS: number }[]): number {
  let power = 0;
  let duration = 0;
  for (const t of tracks) {
    duration += t.durationS;
    if (t.lufs !== null) power += t.durationS * 10 ** (t.lufs / 10);
  }
  return power > 0 ? 10 * Math.log10(power / duration) : -Infinity;
}

// The album drive search: at most this many rounds of every track, done within this much.
const ALBUM_ROUNDS = 8;
const ALBUM_TOLERANCE_LU = 0.02;

// ---- Parallel tracks -------------------------------------------------------------------

export type PoolTask =
  | { kind: 'track'; job: TrackJob }
  | { kind: 'measure'; input: string; values: ParameterValues; driveDb: number; ceilingDbtp: number }
  | { kind: 'analyze'; input: string };

/** Runs one task in this thread: what a worker does with a message. */
export async function runTask(
  task: PoolTask,
  onProgress?: TrackProgress,
  signal?: AbortSignal,
): Promise<unknown> {
  if (task.kind === 'track') return deliverTrack(task.job, onProgress, signal);
  if (task.kind === 'measure') return measureAtDrive(task.input, task.values, task.driveDb, task.ceilingDbtp);
  const report = await analyzeFile(task.input);
  return { lufs: report.integratedLufs, durationS: report.frames / wavInfo(task.input).sampleRate };
}

interface PoolWorker {
  worker: Worker;
  busy: boolean;
}

/** Tasks on worker threads, at most `size` at once, each running the same code as this thread. */
class TaskPool {
  private readonly workers: PoolWorker[] = [];
  private nextId = 0;

  constructor(
    private readonly size: number,
    private readonly signal?: AbortSignal,
  ) {}

  async run<T>(task: PoolTask, onProgress?: TrackProgress): Promise<T> {
    const slot = await this.slot();
    slot.busy = true;
    const id = this.nextId++;
    try {
      return await new Promise<T>((resolve, reject) => {
        const onMessage = (message: {
          id: number;
          progress?: [string, number, number];
          result?: T;
          error?: string;
        }) => {
          if (message.id !== id) return;
          if (message.progress) return onProgress?.(...message.progress);
          cleanup();
          if (message.error !== undefined)
            reject(this.signal?.aborted ? this.signal.reason : new Error(message.error));
          else resolve(message.result as T);
        };
        const onError = (error: Error) => (cleanup(), reject(error));
        const onAbort = () => slot.worker.postMessage({ abort: id });
        const cleanup = () => {
          slot.worker.off('message', onMessage);
          slot.worker.off('error', onError);
          this.signal?.removeEventListener('abort', onAbort);
        };
        slot.worker.on('message', onMessage);
        slot.worker.on('error', onError);
        this.signal?.addEventListener('abort', onAbort);
        slot.worker.postMessage({ id, task });
      });
    } finally {
      slot.busy = false;
      this.wake();
    }
  }

  private waiting: (() => void)[] = [];

  private wake(): void {
    this.waiting.shift()?.();
  }

  private async slot(): Promise<PoolWorker> {
    for (;;) {
      const free = this.workers.find((w) => !w.busy);
      if (free) return free;
      if (this.workers.length < this.size) {
        const worker = new Worker(new URL('./deliver-worker-boot.mjs', import.meta.url));
        const slot = { worker, busy: false };
        this.workers.push(slot);
        return slot;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

export interface DeliverOptions {
  inputs: string[];
  dir: string;
  platforms: string[];
  /** Chain settings (from --settings and --set), already checked against the schema. */
  values: ParameterValues;
  album?: boolean;
  flac?: boolean;
  noiseShaping?: boolean;
  /** Per track: its stage and how far along. */
  onProgress?: (input: string, label: string, done: number, total: number) => void;
  /** Each track's delivery as it completes. */
  onTrack?: (delivery: TrackDelivery) => void;
  signal?: AbortSignal;
  /** Tracks at once (default: os.availableParallelism()). */
  parallel?: number;
}

export interface DeliveryResult {
  plans: MasterPlan[];
  tracks: TrackDelivery[];
  album?: { driveDb: number; albumLufs: number; targetLufs: number; ceilingDbtp: number }[];
}

/** Why a request cannot start: ffmpeg missing, a bad folder, a clash of names. Checked before any work. */
export function checkDelivery(options: DeliverOptions, plans: MasterPlan[]): void {
  if (!findFfmpeg()) {
    const override = process.env.RIG_FFMPEG;
    const where = override
      ? `is not at RIG_FFMPEG=${override} (point it at an ffmpeg binary or unset it)`
      : 'is not installed';
    throw new Error(
      `deliver needs ffmpeg for the codec check and the MP3/AAC listening copies${plans.some((p) => p.flac) ? ' and FLAC' : ''}; ffmpeg ${where}: install it with apt-get install ffmpeg (Debian/Ubuntu)`,
    );
  }
  if (options.inputs.length === 0) throw new RangeError('deliver needs at least one input file');
  if (options.album && options.inputs.length < 2)
    throw new RangeError('--album needs the album’s tracks: two or more input files');
  const stats = fs.statSync(options.dir, { throwIfNoEntry: false });
  if (stats && !stats.isDirectory())
    throw new OutputFileError(options.dir, 'is not a folder; -o names the folder the delivery goes into');
  const seen = new Map<string, string>();
  for (const input of options.inputs) {
    const outputs = plans.flatMap((plan) => allFiles(plannedFiles(input, options.dir, plan)));
    for (const output of outputs) {
      const other = seen.get(output);
      if (other)
        throw new RangeError(
          `${input} and ${other} both deliver ${path.basename(output)}; rename one of them`,
        );
      seen.set(output, input);
    }
    if (stats)
      checkMasterFiles(
        input,
        outputs.filter((f) => f.endsWith('.wav')),
      );
    else checkMasterFiles(input, []);
    for (const output of outputs) {
      checkNotInput(input, output);
      if (stats) checkOutputFile(output);
    }
  }
}

/** The whole delivery: every input's files, in parallel, album drives first when asked. */
export async function deliver(options: DeliverOptions): Promise<DeliveryResult> {
  const plans = planMasters(options.platforms, options.flac);
  checkDelivery(options, plans);
  fs.mkdirSync(options.dir, { recursive: true });
  const size = Math.max(1, Math.min(options.parallel ?? os.availableParallelism(), options.inputs.length));
  const pool = size > 1 ? new TaskPool(size, options.signal) : undefined;
  const run = <T>(task: PoolTask, input?: string): Promise<T> => {
    const progress = input
      ? (label: string, done: number, total: number) => options.onProgress?.(input, label, done, total)
      : undefined;
    return (pool ? pool.run<T>(task, progress) : runTask(task, progress, options.signal)) as Promise<T>;
  };
  try {
    let albumDrives: AlbumDrive[][] | undefined;
    const result: DeliveryResult = { plans, tracks: [] };
    if (options.album) {
      result.album = [];
      albumDrives = options.inputs.map(() => []);
      const inputs = await Promise.all(
        options.inputs.map((input) =>
          run<{ lufs: number | null; durationS: number }>({ kind: 'analyze', input }),
        ),
      );
      const inputLufs = albumLoudness(inputs);
      for (const plan of plans) {
        const limits = driveRange(options.values);
        const clamp = (d: number) => Math.min(limits.max, Math.max(limits.min, d));
        let drive = clamp((options.values['limiter.gain'] ?? 0) + plan.targetLufs - inputLufs);
        let tracks: { lufs: number | null; durationS: number }[] = [];
        let lufs = -Infinity;
        const tried: { drive: number; lufs: number }[] = [];
        for (let round = 0; round < ALBUM_ROUNDS; round++) {
          for (const input of options.inputs)
            options.onProgress?.(input, `album drive ${drive.toFixed(2)} dB`, round, ALBUM_ROUNDS);
          tracks = await Promise.all(
            options.inputs.map((input) =>
              run<{ lufs: number | null; durationS: number }>({
                kind: 'measure',
                input,
                values: options.values,
                driveDb: drive,
                ceilingDbtp: plan.ceilingDbtp,
              }),
            ),
          );
          lufs = albumLoudness(tracks);
          tried.push({ drive, lufs });
          const error = plan.targetLufs - lufs;
          if (Math.abs(error) <= ALBUM_TOLERANCE_LU) break;
          // Secant through the last two rounds (the limiter bends the curve), a 1:1 step at first.
          const [a, b] = tried.slice(-2);
          const slope = b && a !== b && b.drive !== a.drive ? (b.lufs - a.lufs) / (b.drive - a.drive) : 1;
          const next = clamp(drive + error / Math.min(1.5, Math.max(0.2, slope)));
          if (next === drive) break;
          drive = next;
        }
        result.album.push({
          driveDb: drive,
          albumLufs: lufs,
          targetLufs: plan.targetLufs,
          ceilingDbtp: plan.ceilingDbtp,
        });
        tracks.forEach((t, i) =>
          albumDrives?.[i].push({ driveDb: drive, albumLufs: lufs, trackLufs: t.lufs ?? plan.targetLufs }),
        );
      }
    }
    // Each track's files; a failure stops the rest, the tracks already delivered stay.
    const failures: Error[] = [];
    await Promise.all(
      options.inputs.map(async (input, i) => {
        try {
          const track = await run<TrackDelivery>(
            {
              kind: 'track',
              job: {
                input,
                dir: options.dir,
                plans,
                values: options.values,
                noiseShaping: options.noiseShaping,
                album: albumDrives?.[i],
              },
            },
            input,
          );
          result.tracks[i] = track;
          options.onTrack?.(track);
        } catch (error) {
          failures.push(error as Error);
        }
      }),
    );
    if (failures.length) throw failures[0];
    return result;
  } finally {
    await pool?.close();
  }
}
