/**
 * Which format a file is, and the one place that opens it: WAV and AIFF in this process, FLAC
 * and the delivery codecs through ffmpeg. Detection trusts the file's first bytes over its name
 * (a WAV called .mp3 is read as WAV); the extension decides only when the bytes say nothing.
 * Without ffmpeg, WAV and AIFF still work and every other request names the package to install.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OutputFileError } from '../file-checks.ts';
import { WavReader, WavWriter, type SampleFormat, type WavInfo } from '../wav.ts';
import { AiffReader, AiffWriter } from './aiff.ts';
import { syncSink, syncSource, type AudioFormat, type AudioSink, type AudioSource } from './audio-stream.ts';
import { openFfmpegSource } from './ffmpeg-decoder.ts';
import { createFfmpegSink } from './ffmpeg-encoder.ts';

/** How each format is called in messages. */
export const FORMAT_LABELS: Record<AudioFormat, string> = {
  wav: 'WAV',
  aiff: 'AIFF',
  aifc: 'AIFF-C',
  flac: 'FLAC',
  mp3: 'MP3',
  aac: 'AAC',
  m4a: 'M4A (AAC)',
  vorbis: 'Ogg Vorbis',
  opus: 'Opus',
};

const EXTENSIONS: Record<string, AudioFormat> = {
  '.wav': 'wav',
  '.wave': 'wav',
  '.bwf': 'wav',
  '.rf64': 'wav',
  '.aif': 'aiff',
  '.aiff': 'aiff',
  '.aifc': 'aifc',
  '.flac': 'flac',
  '.mp3': 'mp3',
  '.aac': 'aac',
  '.m4a': 'm4a',
  '.mp4': 'm4a',
  '.ogg': 'vorbis',
  '.oga': 'vorbis',
  '.opus': 'opus',
};

/** The format a name implies, by its extension. */
export function formatOfName(file: string): AudioFormat | null {
  return EXTENSIONS[path.extname(file).toLowerCase()] ?? null;
}

/** The format the first bytes of a file show, or null when they show none the rig knows. */
export function formatOfBytes(head: Buffer): AudioFormat | null {
  const text = (from: number, to: number) => head.toString('latin1', from, to);
  if (head.length >= 12 && ['RIFF', 'RF64', 'BW64'].includes(text(0, 4)) && text(8, 12) === 'WAVE')
    return 'wav';
  if (head.length >= 12 && text(0, 4) === 'FORM') {
    if (text(8, 12) === 'AIFF') return 'aiff';
    if (text(8, 12) === 'AIFC') return 'aifc';
  }
  if (text(0, 4) === 'fLaC') return 'flac';
  if (text(0, 4) === 'OggS') {
    // The first page holds the codec's identification header, right after the segment table.
    const segments = head.length > 26 ? head[26] : 0;
    const packet = head.subarray(27 + segments);
    if (packet.toString('latin1', 0, 8) === 'OpusHead') return 'opus';
    if (packet.toString('latin1', 1, 7) === 'vorbis') return 'vorbis';
    if (packet.toString('latin1', 1, 5) === 'FLAC') return 'flac';
    return null;
  }
  if (head.length >= 8 && text(4, 8) === 'ftyp') return 'm4a';
  let at = 0;
  if (text(0, 3) === 'ID3' && head.length >= 10) {
    // ID3v2: a 28-bit "syncsafe" size (7 bits a byte) after ten header bytes, plus a footer if flagged.
    const size =
      ((head[6] & 0x7f) << 21) | ((head[7] & 0x7f) << 14) | ((head[8] & 0x7f) << 7) | (head[9] & 0x7f);
    at = 10 + size + (head[5] & 0x10 ? 10 : 0);
    if (at + 4 > head.length) return 'mp3'; // a tag longer than the look-ahead: MP3 is what carries ID3
    if (head.toString('latin1', at, at + 4) === 'fLaC') return 'flac';
  }
  if (at + 2 <= head.length && head[at] === 0xff && (head[at + 1] & 0xe0) === 0xe0) {
    // An MPEG audio frame sync; layer bits 00 are ADTS (AAC), anything else MPEG layer I-III.
    return (head[at + 1] & 0x06) === 0 ? 'aac' : 'mp3';
  }
  return null;
}

const HEAD_BYTES = 64 * 1024;

/** What `file` holds: by its first bytes, else by its extension; null when neither tells. */
export function detectFormat(file: string): AudioFormat | null {
  let head = Buffer.alloc(0);
  try {
    const stats = fs.statSync(file);
    // Only a regular file is peeked at: a FIFO would block the read (the readers then refuse it).
    if (stats.isFile()) {
      const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      try {
        head = Buffer.alloc(Math.min(HEAD_BYTES, stats.size));
        head = head.subarray(0, fs.readSync(fd, head, 0, head.length, 0));
      } finally {
        fs.closeSync(fd);
      }
    }
  } catch {
    // Unreadable or missing: the reader chosen by the name says so in its own words.
  }
  return formatOfBytes(head) ?? formatOfName(file);
}

function bitsOf(format: WavInfo['format']): number {
  return format === 'int16' ? 16 : format === 'int24' ? 24 : format === 'float64' ? 64 : 32;
}

/** Opens any audio file the rig reads, as a stream of stereo float blocks. */
export async function openAudioSource(file: string): Promise<AudioSource> {
  const format = detectFormat(file);
  if (format === 'wav') {
    const reader = WavReader.open(file);
    const { sampleRate, channels, frames, durationSeconds } = reader.info;
    return syncSource(reader, {
      format,
      sampleRate,
      channels: channels as 1 | 2,
      frames,
      durationSeconds,
      bits: bitsOf(reader.info.format),
      codec: reader.info.format,
    });
  }
  if (format === 'aiff' || format === 'aifc') {
    const reader = AiffReader.open(file);
    const { sampleRate, channels, frames, durationSeconds, bits, compression } = reader.info;
    const float = compression?.toLowerCase().startsWith('fl');
    return syncSource(reader, {
      format: compression === null ? 'aiff' : 'aifc',
      sampleRate,
      channels,
      frames,
      durationSeconds,
      bits,
      codec: float ? `float${bits}` : `int${bits}`,
    });
  }
  // Anything else is ffmpeg's to decode, a name the rig does not know included.
  return openFfmpegSource(file, format, format ? FORMAT_LABELS[format] : null);
}

export interface SinkOptions {
  sampleRate: number;
  /** Default 2. */
  channels?: 1 | 2;
  /** Default: by the file's extension. */
  format?: AudioFormat;
  /** Stored samples of PCM and lossless formats (default int24); ignored by lossy codecs. */
  sampleFormat?: SampleFormat;
  /** Lossy codecs' bit rate; each codec has a delivery-grade default. */
  bitrateKbps?: number;
}

export type LossyFormat = 'mp3' | 'aac' | 'm4a' | 'vorbis' | 'opus';

/** The delivery codecs: ffmpeg's encoder and muxer, the rates the codec stores, a default bit rate. */
export const LOSSY_CODECS: Record<
  LossyFormat,
  {
    encoder: string;
    muxer: string;
    extension: string;
    rates: number[] | null;
    defaultKbps: number;
    /** The encoder's options beyond the bit rate. */
    args?: string[];
  }
> = {
  // MPEG-1/2/2.5 layer III rates.
  mp3: {
    encoder: 'libmp3lame',
    muxer: 'mp3',
    extension: '.mp3',
    rates: [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000],
    defaultKbps: 320,
  },
  // ffmpeg's native AAC encoder: the MPEG-4 sampling-frequency table up to 96 kHz. Perceptual noise
  // substitution off: a PNS band carries only its energy and every decoder fills it with noise from
  // its own random generator (ISO/IEC 14496-3, 4.6.13), so the peaks it makes belong to the decoder,
  // not to the master, and no change to the master can bound them. Measured here: with PNS a -1 dBTP
  // master decoded from 128 kb/s at up to +4.3 dBTP in one 0.2 s region after a 0.3 dB change
  // elsewhere, and at -0.9 dBTP without it.
  ...(() => {
    const rates = [7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000];
    const args = ['-aac_pns', '0'];
    return {
      m4a: { encoder: 'aac', muxer: 'ipod', extension: '.m4a', rates, defaultKbps: 256, args },
      aac: { encoder: 'aac', muxer: 'adts', extension: '.aac', rates, defaultKbps: 256, args },
    };
  })(),
  // Vorbis itself takes any rate, but libvorbis has no bit-rate management above 48 kHz (its setup
  // fails at 96 kHz, 320 kb/s), and no platform streams it above that.
  vorbis: {
    encoder: 'libvorbis',
    muxer: 'ogg',
    extension: '.ogg',
    rates: [8000, 11025, 16000, 22050, 32000, 44100, 48000],
    defaultKbps: 320,
  },
  // RFC 6716: Opus codes at 48 kHz and its fractions only.
  opus: {
    encoder: 'libopus',
    muxer: 'ogg',
    extension: '.opus',
    rates: [8000, 12000, 16000, 24000, 48000],
    defaultKbps: 160,
  },
};

/**
 * The rate a signal at `sampleRate` is coded at by `format`: its own where the codec stores it,
 * else a whole-number fraction of it the codec stores (88.2 -> 44.1, 96 -> 48 kHz), else 48 kHz
 * or the codec's highest.
 */
export function codedRate(format: LossyFormat, sampleRate: number): number {
  const rates = LOSSY_CODECS[format].rates;
  if (!rates || rates.includes(sampleRate)) return sampleRate;
  return (
    rates.find((r) => r >= 44100 && sampleRate % r === 0) ??
    (rates.includes(48000) ? 48000 : Math.max(...rates))
  );
}

/** Creates the writer for any audio file the rig writes; the file appears under its name on close(). */
export async function createAudioSink(file: string, options: SinkOptions): Promise<AudioSink> {
  const format = options.format ?? formatOfName(file);
  if (!format)
    throw new OutputFileError(
      file,
      `cannot tell the format from its name; use .wav, .aif, .aifc, .flac, .mp3, .m4a, .aac, .ogg or .opus`,
    );
  const { sampleRate } = options;
  const channels = options.channels ?? 2;
  const sampleFormat = options.sampleFormat ?? 'int24';
  const label = FORMAT_LABELS[format];
  const info = { format, sampleRate, channels, sampleFormat, bitrateKbps: null };
  if (format === 'wav')
    return syncSink(new WavWriter(file, { sampleRate, channels, format: sampleFormat }), info);
  if (format === 'aiff' || format === 'aifc')
    return syncSink(
      new AiffWriter(file, { sampleRate, channels, format: sampleFormat, aifc: format === 'aifc' }),
      info,
    );
  if (format === 'flac') {
    if (sampleFormat !== 'int16' && sampleFormat !== 'int24')
      throw new OutputFileError(
        file,
        `FLAC stores 16 or 24 bit, not ${sampleFormat}; write WAV for 32-bit or float`,
      );
    // ffmpeg's FLAC encoder takes 16-bit samples, or 32-bit ones of which it keeps the top 24.
    const encoderArgs =
      sampleFormat === 'int16'
        ? ['-sample_fmt', 's16']
        : ['-sample_fmt', 's32', '-bits_per_raw_sample', '24'];
    return createFfmpegSink(file, info, { encoder: 'flac', muxer: 'flac', encoderArgs }, label);
  }
  const codec = LOSSY_CODECS[format];
  if (codec.rates && !codec.rates.includes(sampleRate))
    throw new OutputFileError(
      file,
      `${label} stores ${codec.rates.map((r) => r / 1000).join('/')} kHz, not ${sampleRate / 1000} kHz; resample the master first (the rig's resampler, not the codec's)`,
    );
  const bitrateKbps = options.bitrateKbps ?? codec.defaultKbps;
  if (!(bitrateKbps > 0))
    throw new RangeError(`${file}: bit rate ${bitrateKbps} kb/s is not a positive number`);
  return createFfmpegSink(
    file,
    { ...info, sampleFormat: null, bitrateKbps },
    {
      encoder: codec.encoder,
      muxer: codec.muxer,
      encoderArgs: ['-b:a', `${bitrateKbps}k`, ...(codec.args ?? [])],
    },
    label,
  );
}
