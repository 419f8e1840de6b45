/**
 * Writing a file through ffmpeg as an AudioSink: interleaved 32-bit float goes down a pipe, ffmpeg
 * encodes it into the hidden partial file beside the target (containers like MP4 seek back to
 * finish their index, so the output is a file, never a pipe), and only a clean exit lets the
 * partial take the target's name. Any failure removes the partial; the target is never touched.
 */
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { checkOutputFile } from '../file-checks.ts';
import type { AudioSink, SinkInfo } from './audio-stream.ts';
import {
  FfmpegError,
  FfmpegMissingError,
  failureOf,
  ffmpegUrl,
  requireFfmpeg,
  spawnFfmpeg,
  type FfmpegProcess,
} from './ffmpeg.ts';
import { claimPartial, commitPartial, partialPathOf } from './regular-files.ts';

export interface EncoderOptions {
  /** ffmpeg's encoder: 'flac', 'libmp3lame', 'aac', 'libopus', 'libvorbis'. */
  encoder: string;
  /** ffmpeg's muxer: 'flac', 'mp3', 'ipod' (M4A), 'adts', 'ogg'. */
  muxer: string;
  /** Encoder arguments beyond the codec (bit rate, sample format), in ffmpeg's words. */
  encoderArgs?: string[];
}

/** Starts ffmpeg encoding into `file`'s partial name; `label` names the format in messages. */
export async function createFfmpegSink(
  file: string,
  info: SinkInfo,
  options: EncoderOptions,
  label: string,
): Promise<AudioSink> {
  const purpose = `writing ${label}`;
  const ffmpeg = requireFfmpeg(file, purpose);
  checkOutputFile(file);
  const partialPath = partialPathOf(file);
  // Claimed as a fresh regular file first (no planted link followed); ffmpeg then writes over it.
  fs.closeSync(claimPartial(partialPath));
  const run = spawnFfmpeg(
    ffmpeg,
    [
      '-f',
      'f32le',
      '-ar',
      String(info.sampleRate),
      '-ac',
      String(info.channels),
      '-i',
      'pipe:0',
      '-c:a',
      options.encoder,
      ...(options.encoderArgs ?? []),
      // The rate pinned on the output too: where an encoder cannot take it, ffmpeg fails rather
      // than slipping its own resampler in (the native core resamples, and says so).
      '-ar',
      String(info.sampleRate),
      '-ac',
      String(info.channels),
      // No version strings or random stream serials: the same master encodes to the same bytes.
      '-fflags',
      '+bitexact',
      '-flags:a',
      '+bitexact',
      '-f',
      options.muxer,
      '-y',
      ffmpegUrl(partialPath),
    ],
    ['pipe', 'ignore', 'pipe'],
  );
  try {
    await run.started;
  } catch {
    fs.rmSync(partialPath, { force: true });
    throw new FfmpegMissingError(file, purpose);
  }
  return new FfmpegSink(file, partialPath, info, run, label);
}

class FfmpegSink implements AudioSink {
  private framesWritten = 0;
  private state: 'writing' | 'finished' | 'closed' = 'writing';
  private readonly stdin: Writable;
  private pipeBroken = false;

  constructor(
    readonly file: string,
    readonly partialPath: string,
    readonly info: SinkInfo,
    private readonly run: FfmpegProcess,
    private readonly label: string,
  ) {
    this.stdin = run.child.stdin!;
    // EPIPE when ffmpeg has quit: its exit status and stderr tell why, so the write waits for those.
    this.stdin.on('error', () => {
      this.pipeBroken = true;
    });
  }

  get frames(): number {
    return this.framesWritten;
  }

  async write(interleaved: Float32Array | Int32Array): Promise<void> {
    if (this.state !== 'writing') throw new Error(`${this.file}: written after it was finished`);
    const samples = this.toFloat(interleaved);
    // A copy goes down the pipe: the caller reuses its block while the pipe may still hold this one.
    const bytes = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
    const accepted =
      !this.pipeBroken && this.stdin.write(samples === interleaved ? Buffer.from(bytes) : bytes);
    this.framesWritten += interleaved.length / this.info.channels;
    if (!accepted) await this.drained();
  }

  /** Waits for the pipe to take more, or fails with ffmpeg's reason if ffmpeg has gone. */
  private async drained(): Promise<void> {
    const gone = await new Promise<boolean>((resolve) => {
      if (this.pipeBroken) return resolve(true);
      const finish = (value: boolean) => {
        this.stdin.off('drain', onDrain);
        this.stdin.off('error', onError);
        this.stdin.off('close', onError);
        resolve(value);
      };
      const onDrain = () => finish(false);
      const onError = () => finish(true);
      this.stdin.on('drain', onDrain);
      this.stdin.on('error', onError);
      this.stdin.on('close', onError);
    });
    if (gone) await this.fail();
  }

  /** The samples ffmpeg reads: float, and for fixed-point formats exactly on the sample grid. */
  private toFloat(interleaved: Float32Array | Int32Array): Float32Array {
    const format = this.info.sampleFormat;
    const scale =
      format === 'int16' ? 32768 : format === 'int24' ? 8388608 : format === 'int32' ? 2147483648 : 0;
    if (interleaved instanceof Int32Array) {
      if (!scale) throw new Error(`${this.file}: ${this.label} takes float samples, not integers`);
      // k / 2^(bits-1) is exact in float32 for 16 and 24 bits, and ffmpeg's float-to-integer
      // conversion (lrintf(x * 2^(bits-1)) then the encoder's width) gives k back.
      const out = new Float32Array(interleaved.length);
      for (let i = 0; i < out.length; i++) out[i] = interleaved[i] / scale;
      return out;
    }
    if (!scale) return interleaved;
    // Rounded and clamped here as WavWriter does, so FLAC holds the same samples a WAV would.
    const out = new Float32Array(interleaved.length);
    for (let i = 0; i < out.length; i++)
      out[i] = Math.max(-scale, Math.min(scale - 1, Math.round(interleaved[i] * scale))) / scale;
    return out;
  }

  /** ffmpeg quit or failed: wait for its word, remove the partial, and throw that word. */
  private async fail(): Promise<never> {
    const result = await this.run.exited;
    this.state = 'closed';
    fs.rmSync(this.partialPath, { force: true });
    throw result.code === 0
      ? new FfmpegError(this.file, `ffmpeg stopped reading before the end of the audio`)
      : failureOf(this.file, 'could not encode it', result, this.run.stderr.toString());
  }

  async finish(): Promise<void> {
    if (this.state !== 'writing') return;
    if (!this.pipeBroken) this.stdin.end();
    const result = await this.run.exited;
    if (result.code !== 0 || this.pipeBroken) await this.fail();
    this.state = 'finished';
  }

  async commit(): Promise<void> {
    await this.finish();
    if (this.state === 'closed') return;
    try {
      commitPartial(this.partialPath, this.file);
    } finally {
      this.state = 'closed';
    }
  }

  async close(): Promise<void> {
    await this.commit();
  }

  async abort(): Promise<void> {
    if (this.state === 'closed') return;
    const running = this.state === 'writing';
    this.state = 'closed';
    if (running) {
      this.stdin.destroy();
      this.run.child.kill('SIGKILL');
      await this.run.exited;
    }
    fs.rmSync(this.partialPath, { force: true });
  }
}
