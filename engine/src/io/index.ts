/**
 * Audio files in and out: every format the rig reads or writes behind one contract
 * (AudioSource / AudioSink), and the one bridge to ffmpeg that codecs and compressed formats use.
 */
export type {
  AudioFormat,
  AudioSink,
  AudioSource,
  SinkInfo,
  SourceInfo,
  StereoBlock,
  SyncReader,
  SyncWriter,
} from './audio-stream.ts';
export { syncSink, syncSource } from './audio-stream.ts';
export { AiffError, AiffReader, AiffWriter, type AiffInfo, type AiffWriterOptions } from './aiff.ts';
export {
  FORMAT_LABELS,
  LOSSY_CODECS,
  codedRate,
  createAudioSink,
  detectFormat,
  formatOfBytes,
  formatOfName,
  openAudioSource,
  type LossyFormat,
  type SinkOptions,
} from './formats.ts';
export {
  FfmpegError,
  FfmpegMissingError,
  ffmpegAvailable,
  ffmpegUrl,
  findFfmpeg,
  runFfmpeg,
  spawnFfmpeg,
  type FfmpegProcess,
} from './ffmpeg.ts';
export { codecRoundTrip, findDelay, type CodecRoundTrip } from './codec-round-trip.ts';
