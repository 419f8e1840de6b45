/**
 * Reading any file ffmpeg decodes as an AudioSource: ffprobe names the channels and the rate
 * first, then ffmpeg streams 32-bit float at exactly that rate through a pipe. Only the block
 * asked for is pulled; the pipe's backpressure holds ffmpeg back meanwhile.
 */
import os from 'node:os';
import type { Readable } from 'node:stream';
import type { AudioFormat, AudioSource, SourceInfo, StereoBlock } from './audio-stream.ts';
import {
  FfmpegError,
  FfmpegMissingError,
  failureOf,
  ffmpegUrl,
  probeAudio,
  requireFfmpeg,
  spawnFfmpeg,
  type FfmpegProcess,
} from './ffmpeg.ts';
import { checkReadableFile } from './regular-files.ts';

// The pipe carries f32le; the samples are viewed in place as a Float32Array.
if (os.endianness() !== 'LE') throw new Error('the ffmpeg bridge assumes a little-endian machine');

/**
 * Opens `file` through ffmpeg. `format` is what detection thought it was (null: unknown, ffmpeg
 * decides); `label` names it in messages ("reading MP3 needs ffmpeg ...").
 */
export async function openFfmpegSource(
  file: string,
  format: AudioFormat | null,
  label: string | null,
): Promise<AudioSource> {
  const purpose = label ? `reading ${label}` : 'reading formats other than WAV and AIFF';
  const ffmpeg = requireFfmpeg(file, purpose);
  checkReadableFile(file, (problem) => new FfmpegError(file, problem), 'an audio file');
  const probed = await probeAudio(file, purpose);
  if (probed.channels < 1) throw new FfmpegError(file, 'ffprobe found no channels in its audio stream');
  if (probed.channels > 2)
    throw new FfmpegError(
      file,
      `has ${probed.channels} channels; the rig masters mono or stereo only (downmix it first)`,
    );
  if (!(probed.sampleRate >= 8000 && probed.sampleRate <= 384000))
    throw new FfmpegError(file, `unsupported sample rate ${probed.sampleRate} Hz`);
  const channels = probed.channels as 1 | 2;
  const info: SourceInfo = {
    format: format ?? formatOfCodec(probed.codec),
    sampleRate: probed.sampleRate,
    channels,
    frames: probed.frames,
    durationSeconds: probed.frames !== null ? probed.frames / probed.sampleRate : probed.durationSeconds,
    ...(probed.bits ? { bits: probed.bits } : {}),
    codec: probed.codec,
  };
  const run = spawnFfmpeg(
    ffmpeg,
    [
      // -xerror: a damaged frame stops the decode with its message, rather than masters with a
      // dropout in them; a source is either read whole or refused, as WavReader refuses one cut short.
      '-xerror',
      '-i',
      ffmpegUrl(file),
      '-map',
      '0:a:0',
      // Pinned to what ffprobe found, so the pipe's layout cannot change under the reader (and
      // ffmpeg never resamples: at the stream's own rate this is a no-op).
      '-ac',
      String(channels),
      '-ar',
      String(probed.sampleRate),
      '-f',
      'f32le',
      '-c:a',
      'pcm_f32le',
      'pipe:1',
    ],
    ['ignore', 'pipe', 'pipe'],
  );
  await run.started.catch(() => {
    throw new FfmpegMissingError(file, purpose);
  });
  return new FfmpegSource(file, info, run);
}

function formatOfCodec(codec: string): SourceInfo['format'] {
  const table: Record<string, AudioFormat> = {
    flac: 'flac',
    mp3: 'mp3',
    aac: 'm4a',
    vorbis: 'vorbis',
    opus: 'opus',
  };
  return table[codec] ?? 'other';
}

class FfmpegSource implements AudioSource {
  private framesRead = 0;
  private readonly stdout: Readable;
  private closed = false;
  // Pipe chunks read but not yet handed out: at most one block and one chunk.
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    readonly file: string,
    readonly info: SourceInfo,
    private readonly run: FfmpegProcess,
  ) {
    this.stdout = run.child.stdout!;
    // Always listened to: when ffmpeg exits, Node's child_process resumes (and so discards) any
    // stdout nobody listens to for 'readable' (flushStdio), which cut the tail off a decode read
    // slower than ffmpeg wrote it (a master's render pass). The listener itself does nothing.
    this.stdout.on('readable', () => {});
  }

  get position(): number {
    return this.framesRead;
  }

  async read(frames: number): Promise<StereoBlock | null> {
    if (this.closed) throw new Error(`${this.file}: read after close`);
    const { channels } = this.info;
    const frameBytes = 4 * channels;
    const bytes = await this.pull(Math.max(1, Math.floor(frames)) * frameBytes);
    const count = bytes ? Math.floor(bytes.length / frameBytes) : 0;
    if (count === 0) {
      // The end of the pipe: only a clean exit means the whole file was decoded.
      const result = await this.run.exited;
      if (result.code !== 0)
        throw failureOf(this.file, 'could not decode it', result, this.run.stderr.toString());
      return null;
    }
    // Copied into a fresh, aligned array: the chunk may sit at any offset of a pooled buffer.
    const samples = new Float32Array(count * channels);
    new Uint8Array(samples.buffer).set(bytes!.subarray(0, count * frameBytes));
    this.framesRead += count;
    if (channels === 1) return { left: samples, right: samples.slice() };
    const left = new Float32Array(count);
    const right = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      left[i] = samples[2 * i];
      right[i] = samples[2 * i + 1];
    }
    return { left, right };
  }

  /**
   * Exactly `bytes` from the pipe, or what is left at its end (null when nothing is). Whole chunks
   * are taken with read() and cut here: read(n) for n near the high-water mark can keep answering
   * null with the buffer just short of n and never reading more.
   */
  private async pull(bytes: number): Promise<Buffer | null> {
    while (this.pendingBytes < bytes) {
      const chunk = this.stdout.read() as Buffer | null;
      if (chunk) {
        this.pending.push(chunk);
        this.pendingBytes += chunk.length;
        continue;
      }
      if (this.stdout.readableEnded || this.stdout.destroyed) break;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stdout.off('readable', done);
          this.stdout.off('end', done);
          this.stdout.off('close', done);
          resolve();
        };
        this.stdout.on('readable', done);
        this.stdout.on('end', done);
        this.stdout.on('close', done);
      });
    }
    if (this.pendingBytes === 0) return null;
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    const taken = all.subarray(0, Math.min(bytes, all.length));
    const rest = all.subarray(taken.length);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
    return taken;
  }

  /** Stops ffmpeg if it is still decoding (the reader was not read to the end) and waits for it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.run.child.exitCode === null && this.run.child.signalCode === null) {
      this.stdout.destroy();
      this.run.child.kill('SIGTERM');
    }
    await this.run.exited;
  }
}
