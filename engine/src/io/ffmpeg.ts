/**
 * The one bridge to ffmpeg: finding it, starting it, and turning what it says on stderr into an
 * error that names the file. Every codec, compressed-format reader and codec preview goes through
 * here (ffmpeg-decoder.ts, ffmpeg-encoder.ts); nothing else in the rig spawns ffmpeg.
 *
 * Audio crosses as raw 32-bit float through pipes, a block at a time, never a whole file in memory.
 * ffmpeg never resamples for the rig: rates are pinned on both sides (the native core resamples).
 */
import { execFile, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const INSTALL_HINT = 'Debian/Ubuntu: apt-get install ffmpeg';

/** A request that needs ffmpeg when none is there: says what needed it and how to get it. */
export class FfmpegMissingError extends Error {
  constructor(file: string, purpose: string, tool: 'ffmpeg' | 'ffprobe' = 'ffmpeg') {
    const override = process.env.RIG_FFMPEG;
    super(
      override && tool === 'ffmpeg'
        ? `${path.basename(file)}: ${purpose} needs ffmpeg, which is not at RIG_FFMPEG=${override} (point it at an ffmpeg binary or unset it; ${INSTALL_HINT})`
        : `${path.basename(file)}: ${purpose} needs ${tool}, which is not installed (${INSTALL_HINT})`,
    );
    this.name = 'FfmpegMissingError';
  }
}

/** ffmpeg refused or failed a file: the file, then ffmpeg's own words. */
export class FfmpegError extends Error {
  constructor(file: string, problem: string) {
    super(`${path.basename(file)}: ${problem}`);
    this.name = 'FfmpegError';
  }
}

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutableFile(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

/**
 * The ffmpeg binary: `RIG_FFMPEG` when set (and then only it, so a test or a user can point the
 * rig at a build, or at nothing), otherwise the first `ffmpeg` on PATH. Looked up on every call:
 * a few stat calls, and the environment may change while the rig runs.
 */
export function findFfmpeg(): string | null {
  const override = process.env.RIG_FFMPEG;
  if (override) return isExecutableFile(override) ? override : null;
  return onPath('ffmpeg');
}

/** ffprobe from the same installation as ffmpeg (beside it), else from PATH. */
export function findFfprobe(): string | null {
  const ffmpeg = findFfmpeg();
  if (!ffmpeg) return null;
  const sibling = path.join(path.dirname(ffmpeg), 'ffprobe');
  return isExecutableFile(sibling) ? sibling : onPath('ffprobe');
}

export function ffmpegAvailable(): boolean {
  return findFfmpeg() !== null;
}

/** The ffmpeg binary, or the error naming the file and what needed it. */
export function requireFfmpeg(file: string, purpose: string): string {
  const ffmpeg = findFfmpeg();
  if (!ffmpeg) throw new FfmpegMissingError(file, purpose);
  return ffmpeg;
}

/**
 * A path as an ffmpeg URL: without the `file:` protocol a name like `take:2.flac` is read as the
 * protocol "take", and `-x.wav` as an option.
 */
export function ffmpegUrl(file: string): string {
  return `file:${path.resolve(file)}`;
}

// What ffmpeg adds around the real complaint: its summing-up lines and bare errno texts, which
// say less than the line before them.
const WRAP_UPS = [
  /^Conversion failed!?$/,
  /^Error initializing output stream/,
  /^Error opening (input|output) files?/,
  /^Error while opening encoder/,
  /^Error reinitializing filters/,
  /^Failed to inject frame into filter network/,
  /^Error while (processing the decoded data|filtering)/,
  /^Invalid argument$/,
  /^Exiting normally/,
];

/**
 * The line of ffmpeg's stderr that says what went wrong: the last one that is not a wrap-up,
 * without its `[component @ 0x...]` prefix or the file's own path in front.
 */
export function meaningfulLine(stderr: string, file: string): string | null {
  const prefixes = [ffmpegUrl(file), file, path.resolve(file), path.basename(file)].map((p) => `${p}: `);
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, '').trim())
    .map((line) => {
      const prefix = prefixes.find((p) => line.startsWith(p));
      return prefix ? line.slice(prefix.length) : line;
    })
    .filter((line) => line.length > 0);
  const specific = lines.filter((line) => !WRAP_UPS.some((pattern) => pattern.test(line)));
  return specific.at(-1) ?? lines.at(-1) ?? null;
}

/** stderr kept to its last few kilobytes: enough for the message, flat on a long run. */
export class StderrTail {
  private text = '';
  constructor(private readonly limit = 16 * 1024) {}
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > 2 * this.limit) this.text = this.text.slice(-this.limit);
  }
  toString(): string {
    return this.text;
  }
}

// Quiet but for errors, no banner, never reading the terminal (stdin is ours or closed).
const COMMON_ARGS = ['-hide_banner', '-nostdin', '-loglevel', 'error'];

/** A running ffmpeg with the rig's common options; stderr is collected into `stderr`. */
export interface FfmpegProcess {
  child: ChildProcess;
  stderr: StderrTail;
  /** Resolves when it has exited and its pipes are closed: the exit code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Rejects if it could not be started at all (ENOENT on a binary removed after the lookup). */
  started: Promise<void>;
}

/** Starts ffmpeg (or ffprobe with `binary`) with the rig's common options before `args`. */
export function spawnFfmpeg(
  binary: string,
  args: string[],
  stdio: StdioOptions = ['ignore', 'ignore', 'pipe'],
): FfmpegProcess {
  const child = spawn(binary, [...COMMON_ARGS, ...args], { stdio });
  const stderr = new StderrTail();
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  let failedToStart: ((error: Error) => void) | undefined;
  const started = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    failedToStart = reject;
  });
  // Marked handled here: a caller that never awaits it still sees the failure through `exited`.
  started.catch(() => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
    // A permanent listener: an 'error' (a spawn failure, a kill that fails) must never go unheard.
    child.on('error', (error) => {
      failedToStart?.(error);
      // A spawn failure never closes: settle with what there is.
      if (child.pid === undefined) resolve({ code: null, signal: null });
    });
  });
  return { child, stderr, exited, started };
}

/**
 * The error for an ffmpeg that ended badly while working on `file`; `failed` says what failed in
 * words that follow "ffmpeg": "could not decode it", "failed at filtering it".
 */
export function failureOf(
  file: string,
  failed: string,
  result: { code: number | null; signal: NodeJS.Signals | null },
  stderr: string,
): FfmpegError {
  const line = meaningfulLine(stderr, file);
  if (line) return new FfmpegError(file, `ffmpeg ${failed}: ${line}`);
  const how = result.signal ? `was stopped by ${result.signal}` : `exited with code ${result.code}`;
  return new FfmpegError(
    file,
    `ffmpeg ${failed} (it ${how} without a message; the file may be damaged or truncated)`,
  );
}

/**
 * Runs ffmpeg to completion on a job that needs no pipes (a filter from file to file, as the
 * benchmark's peers do). `purpose` names the job ("filtering"): "song.wav: filtering needs
 * ffmpeg ...", "song.wav: ffmpeg failed at filtering it: ...".
 */
export async function runFfmpeg(file: string, purpose: string, args: string[]): Promise<void> {
  const run = spawnFfmpeg(requireFfmpeg(file, purpose), args);
  await run.started.catch(() => {
    throw new FfmpegMissingError(file, purpose);
  });
  const result = await run.exited;
  if (result.code !== 0) throw failureOf(file, `failed at ${purpose} it`, result, run.stderr.toString());
}

export interface ProbedStream {
  codec: string;
  sampleRate: number;
  channels: number;
  /** Exact frames, where the container states them per sample (FLAC's STREAMINFO). */
  frames: number | null;
  durationSeconds: number | null;
  bits?: number;
  /** ffmpeg's demuxer name(s), e.g. "ogg", "mov,mp4,m4a,3gp,3g2,mj2". */
  container: string;
}

interface ProbeJson {
  streams?: Array<Record<string, unknown>>;
  format?: Record<string, unknown>;
}

/** The first audio stream of `file`, as ffprobe reports it. */
export async function probeAudio(file: string, purpose: string): Promise<ProbedStream> {
  requireFfmpeg(file, purpose);
  const ffprobe = findFfprobe();
  if (!ffprobe) throw new FfmpegMissingError(file, purpose, 'ffprobe');
  const args = ['-loglevel', 'error', '-show_streams', '-show_format', '-of', 'json', ffmpegUrl(file)];
  const { stdout, stderr, failed } = await new Promise<{ stdout: string; stderr: string; failed: boolean }>(
    (resolve) =>
      execFile(
        ffprobe,
        ['-hide_banner', ...args],
        { maxBuffer: 16 << 20, timeout: 60_000 },
        (error, out, err) => resolve({ stdout: out, stderr: err, failed: error !== null }),
      ),
  );
  if (failed) throw failureOf(file, 'could not read it', { code: 1, signal: null }, stderr);
  let json: ProbeJson;
  try {
    json = JSON.parse(stdout) as ProbeJson;
  } catch {
    throw new FfmpegError(file, 'ffprobe gave no readable description of it');
  }
  const stream = json.streams?.find((s) => s.codec_type === 'audio');
  if (!stream) throw new FfmpegError(file, 'holds no audio stream');
  const number = (value: unknown): number | null => {
    const n = typeof value === 'string' || typeof value === 'number' ? Number(value) : NaN;
    return Number.isFinite(n) ? n : null;
  };
  const sampleRate = number(stream.sample_rate) ?? 0;
  const codec = String(stream.codec_name ?? 'unknown');
  const durationSeconds = number(stream.duration) ?? number(json.format?.duration);
  // Only FLAC states its length per sample in every file; codecs' durations include priming or
  // padding, or are estimates from the bit rate (MP3 without a Xing header).
  const frames =
    codec === 'flac' && stream.time_base === `1/${sampleRate}` ? number(stream.duration_ts) : null;
  const bits = number(stream.bits_per_raw_sample) ?? number(stream.bits_per_sample) ?? undefined;
  return {
    codec,
    sampleRate,
    channels: number(stream.channels) ?? 0,
    frames,
    durationSeconds,
    ...(bits ? { bits } : {}),
    container: String(json.format?.format_name ?? ''),
  };
}
