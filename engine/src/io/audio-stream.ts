/**
 * The streamed contract every audio file format meets, whether it is read in this process (WAV,
 * AIFF) or through ffmpeg (FLAC and the codecs): an AudioSource hands out stereo float blocks, an
 * AudioSink takes interleaved blocks in and leaves the file under its real name only when complete.
 * Both are async, because a pipe to ffmpeg is; the synchronous readers and writers are adapted.
 */
import type { SampleFormat } from '../wav.ts';

/** A file format the rig reads or writes, named for its container and codec. */
export type AudioFormat = 'wav' | 'aiff' | 'aifc' | 'flac' | 'mp3' | 'aac' | 'm4a' | 'vorbis' | 'opus';

export interface SourceInfo {
  /** 'other': something else ffmpeg decodes (the codec says what). */
  format: AudioFormat | 'other';
  sampleRate: number;
  /** The file's channels; mono is read as dual mono. */
  channels: 1 | 2;
  /** Exactly how many frames the file holds, or null when only decoding to the end tells (codecs). */
  frames: number | null;
  /** The length in seconds: exact with `frames`, otherwise the container's estimate (progress bars). */
  durationSeconds: number | null;
  /** Stored bits a sample for PCM and lossless formats; absent for lossy codecs. */
  bits?: number;
  /** The stored samples in a word: 'int24', 'float32', 'flac', 'mp3', 'aac', 'opus' ... */
  codec: string;
}

export interface StereoBlock {
  left: Float32Array;
  right: Float32Array;
}

export interface AudioSource {
  readonly file: string;
  readonly info: SourceInfo;
  /** Frames handed out so far. */
  readonly position: number;
  /** The next `frames` frames (fewer only at the end); null once the file is exhausted. */
  read(frames: number): Promise<StereoBlock | null>;
  close(): Promise<void>;
}

export interface SinkInfo {
  format: AudioFormat;
  sampleRate: number;
  channels: 1 | 2;
  /**
   * The stored sample format of PCM and lossless files: the caller dithers int16/int24 before
   * writing (as master.ts does for WAV) and may pass ready integers. Null for lossy codecs: the
   * encoder takes float and there is nothing to dither.
   */
  sampleFormat: SampleFormat | null;
  bitrateKbps: number | null;
}

export interface AudioSink {
  readonly file: string;
  /** Where the file is written until commit(): complete and readable there after finish(). */
  readonly partialPath: string;
  readonly info: SinkInfo;
  /** Frames written so far. */
  readonly frames: number;
  /**
   * Interleaved frames: floats in -1..1 (rounded to the sample format, never dithered here), or
   * for int16/int24/int32 formats integers already dithered to that width. Resolves once the
   * block is accepted (after the pipe drained, for ffmpeg), so a fast producer waits.
   */
  write(interleaved: Float32Array | Int32Array): Promise<void>;
  /** Completes the file under its partial name without replacing the real one yet. */
  finish(): Promise<void>;
  /** Moves the finished file under its real name (finishing it first if needed). */
  commit(): Promise<void>;
  /** finish() then commit(). */
  close(): Promise<void>;
  /** Gives up: removes the partial file; the real name is never touched. */
  abort(): Promise<void>;
}

/** What WavReader and AiffReader have in common. */
export interface SyncReader {
  readonly file: string;
  readonly position: number;
  read(frames: number): StereoBlock;
  close(): void;
}

/** A synchronous reader as an AudioSource. */
export function syncSource(reader: SyncReader, info: SourceInfo): AudioSource {
  return {
    file: reader.file,
    info,
    get position() {
      return reader.position;
    },
    async read(frames) {
      const block = reader.read(frames);
      return block.left.length === 0 ? null : block;
    },
    async close() {
      reader.close();
    },
  };
}

/** What WavWriter and AiffWriter have in common. */
export interface SyncWriter {
  readonly file: string;
  readonly partialPath: string;
  readonly frames: number;
  write(interleaved: Float32Array | Int32Array): void;
  finish(): void;
  commit(): void;
  abort(): void;
}

/** A synchronous writer as an AudioSink. */
export function syncSink(writer: SyncWriter, info: SinkInfo): AudioSink {
  return {
    file: writer.file,
    partialPath: writer.partialPath,
    info,
    get frames() {
      return writer.frames;
    },
    async write(interleaved) {
      writer.write(interleaved);
    },
    async finish() {
      writer.finish();
    },
    async commit() {
      writer.commit();
    },
    async close() {
      writer.commit();
    },
    async abort() {
      writer.abort();
    },
  };
}
