/**
 * Streamed WAV reading and writing: PCM 16/24/32-bit, IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE,
 * RF64 (EBU Tech 3306) in both directions. Memory stays flat whatever the file's length.
 *
 * Readers open regular files only; writers write or replace regular files only (file-checks.ts).
 * Writers never leave a half-written file under the requested name: they write to a
 * sibling `.partial` file and rename it on close(); abort() removes it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OutputFileError, checkOutputFile, describeKind, readExactly } from './file-checks.ts';

export type SampleFormat = 'int16' | 'int24' | 'int32' | 'float32';

export interface WavInfo {
  sampleRate: number;
  channels: number;
  /** As stored in the file. */
  format: SampleFormat | 'float64';
  frames: number;
  durationSeconds: number;
}

export class WavError extends Error {
  constructor(file: string, problem: string) {
    super(`${path.basename(file)}: ${problem}`);
    this.name = 'WavError';
  }
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
// KSDATAFORMAT_SUBTYPE_* GUID tail shared by PCM and IEEE float: 0000-0010-8000-00aa00389b71
const GUID_TAIL = Buffer.from([
  0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
]);

function bytesPerSample(format: WavInfo['format']): number {
  return format === 'int16' ? 2 : format === 'int24' ? 3 : format === 'float64' ? 8 : 4;
}

export class WavReader {
  readonly info: WavInfo;
  private readonly fd: number;
  private readonly dataStart: number;
  private readonly frameBytes: number;
  private framesRead = 0;
  private chunk = Buffer.alloc(0);

  private constructor(
    readonly file: string,
    fd: number,
    info: WavInfo,
    dataStart: number,
  ) {
    this.fd = fd;
    this.info = info;
    this.dataStart = dataStart;
    this.frameBytes = bytesPerSample(info.format) * info.channels;
  }

  static open(file: string): WavReader {
    const cannotOpen = (error: unknown) =>
      new WavError(file, `cannot open: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    const refuseKind = (stats: fs.Stats) => {
      if (!stats.isFile()) throw new WavError(file, `is ${describeKind(stats)}, not a WAV file`);
    };
    let fd: number;
    try {
      // Checked before opening: opening some devices acts on them (a tape rewinds).
      refuseKind(fs.statSync(file));
      // Non-blocking, so a FIFO swapped in after the check still cannot hang the open.
      fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch (error) {
      throw error instanceof WavError ? error : cannotOpen(error);
    }
    try {
      refuseKind(fs.fstatSync(fd));
      const { info, dataStart } = parseHeader(file, fd);
      return new WavReader(file, fd, info, dataStart);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  get position(): number {
    return this.framesRead;
  }

  /** Reads up to `frames` frames as stereo float (mono becomes dual mono). Empty at the end. */
  read(frames: number): { left: Float32Array; right: Float32Array } {
    const count = Math.max(0, Math.min(frames, this.info.frames - this.framesRead));
    const bytes = count * this.frameBytes;
    if (this.chunk.length < bytes) this.chunk = Buffer.alloc(bytes);
    readExactly(
      this.fd,
      this.chunk,
      bytes,
      this.dataStart + this.framesRead * this.frameBytes,
      (problem) => new WavError(this.file, problem),
      (got) =>
        `truncated: the data ends after ${this.framesRead + Math.floor(got / this.frameBytes)} of ${this.info.frames} frames`,
    );
    this.framesRead += count;
    const left = new Float32Array(count);
    const right = new Float32Array(count);
    decode(this.chunk, this.info.format, this.info.channels, count, left, right);
    return { left, right };
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

function decode(
  buf: Buffer,
  format: WavInfo['format'],
  channels: number,
  frames: number,
  left: Float32Array,
  right: Float32Array,
): void {
  const samples = frames * channels;
  const target = (i: number, v: number) => {
    const frame = (i / channels) | 0;
    if (channels === 1) left[frame] = right[frame] = v;
    else if (i % 2 === 0) left[frame] = v;
    else right[frame] = v;
  };
  switch (format) {
    case 'int16':
      for (let i = 0; i < samples; i++) target(i, buf.readInt16LE(i * 2) / 32768);
      break;
    case 'int24':
      for (let i = 0; i < samples; i++) target(i, buf.readIntLE(i * 3, 3) / 8388608);
      break;
    case 'int32':
      for (let i = 0; i < samples; i++) target(i, buf.readInt32LE(i * 4) / 2147483648);
      break;
    case 'float32':
      for (let i = 0; i < samples; i++) target(i, buf.readFloatLE(i * 4));
      break;
    case 'float64':
      for (let i = 0; i < samples; i++) target(i, buf.readDoubleLE(i * 8));
      break;
  }
}

function parseHeader(file: string, fd: number): { info: WavInfo; dataStart: number } {
  const fileSize = fs.fstatSync(fd).size;
  const head = Buffer.alloc(12);
  if (fs.readSync(fd, head, 0, 12, 0) < 12)
    throw new WavError(file, `not a WAV file (only ${fileSize} bytes)`);
  const riff = head.toString('latin1', 0, 4);
  if ((riff !== 'RIFF' && riff !== 'RF64' && riff !== 'BW64') || head.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavError(file, 'not a WAV file (no RIFF/RF64 WAVE header)');
  }
  let offset = 12;
  let fmt: Buffer | undefined;
  let ds64DataSize: number | undefined;
  const chunkHeader = Buffer.alloc(8);
  /** A chunk's first `length` bytes, or a clear error when the file ends inside them. */
  const body = (id: string, size: number, start: number, length: number): Buffer => {
    const buf = Buffer.alloc(length);
    if (fs.readSync(fd, buf, 0, length, start) < length)
      throw new WavError(
        file,
        `truncated: the ${id.trim()} chunk declares ${size} bytes but the file ends ${Math.max(0, fileSize - start)} bytes into it`,
      );
    return buf;
  };
  while (offset + 8 <= fileSize) {
    fs.readSync(fd, chunkHeader, 0, 8, offset);
    const id = chunkHeader.toString('latin1', 0, 4);
    let size = chunkHeader.readUInt32LE(4);
    const bodyStart = offset + 8;
    if (id === 'ds64') {
      // EBU Tech 3306: RIFF size, data size and sample count, 8 bytes each, then a table.
      if (size < 28) throw new WavError(file, `the ds64 chunk of ${size} bytes is too short (RF64 needs 28)`);
      ds64DataSize = Number(body(id, size, bodyStart, 28).readBigUInt64LE(8));
    } else if (id === 'fmt ') {
      if (size < 16) throw new WavError(file, `fmt chunk of ${size} bytes is too short`);
      fmt = body(id, size, bodyStart, Math.min(size, 40));
    } else if (id === 'data') {
      if (!fmt) throw new WavError(file, 'data chunk comes before the fmt chunk');
      if (size === 0xffffffff && ds64DataSize !== undefined) size = ds64DataSize;
      else if (size === 0xffffffff && riff !== 'RIFF')
        throw new WavError(file, `${riff} data chunk without a ds64 chunk giving its size`);
      const info = describeFormat(file, fmt);
      const frameBytes = bytesPerSample(info.format) * info.channels;
      const available = fileSize - bodyStart;
      if (size > available) {
        throw new WavError(
          file,
          `truncated: the data chunk declares ${size} bytes but the file holds only ${available}`,
        );
      }
      const frames = Math.floor(size / frameBytes);
      return { info: { ...info, frames, durationSeconds: frames / info.sampleRate }, dataStart: bodyStart };
    }
    offset = bodyStart + size + (size % 2);
  }
  throw new WavError(file, fmt ? 'truncated: no data chunk' : 'no fmt chunk');
}

function describeFormat(file: string, fmt: Buffer): Omit<WavInfo, 'frames' | 'durationSeconds'> {
  let tag = fmt.readUInt16LE(0);
  const channels = fmt.readUInt16LE(2);
  const sampleRate = fmt.readUInt32LE(4);
  const blockAlign = fmt.readUInt16LE(12);
  const bits = fmt.readUInt16LE(14);
  if (tag === FORMAT_EXTENSIBLE) {
    if (fmt.length < 40) throw new WavError(file, 'WAVE_FORMAT_EXTENSIBLE fmt chunk is too short');
    if (!fmt.subarray(26, 40).equals(GUID_TAIL))
      throw new WavError(file, 'unsupported WAVE_FORMAT_EXTENSIBLE sub-format');
    tag = fmt.readUInt16LE(24);
  }
  if (channels === 0) throw new WavError(file, 'declares 0 channels');
  if (channels > 2)
    throw new WavError(
      file,
      `has ${channels} channels; the rig masters mono or stereo only (downmix it first)`,
    );
  if (sampleRate < 8000 || sampleRate > 384000)
    throw new WavError(file, `unsupported sample rate ${sampleRate} Hz`);
  let format: WavInfo['format'] | undefined;
  if (tag === FORMAT_PCM)
    format = bits === 16 ? 'int16' : bits === 24 ? 'int24' : bits === 32 ? 'int32' : undefined;
  else if (tag === FORMAT_FLOAT) format = bits === 32 ? 'float32' : bits === 64 ? 'float64' : undefined;
  if (!format)
    throw new WavError(
      file,
      `unsupported sample format (format tag ${tag}, ${bits} bits); use 16/24/32-bit PCM or 32-bit float`,
    );
  // The frame layout is the channels times the sample width; a file saying otherwise is damaged
  // (or holds a layout the rig cannot read), and reading it anyway would play noise.
  const frameBytes = bytesPerSample(format) * channels;
  if (blockAlign !== frameBytes)
    throw new WavError(
      file,
      `block align ${blockAlign} does not match ${channels} channel${channels > 1 ? 's' : ''} of ${bits}-bit samples (${frameBytes} bytes a frame)`,
    );
  return { sampleRate, channels, format };
}

export interface WavWriterOptions {
  sampleRate: number;
  channels: 1 | 2;
  format: SampleFormat;
  /** Rewrite the header this often (frames) so a killed process leaves a playable file. 0: only on close. */
  headerRefreshFrames?: number;
}

// RIFF sizes are 32-bit; past this the file is promoted to RF64 on close.
const RIFF_LIMIT = 0xffffffff;
const HEADER_BYTES = 12 + (8 + 28) + (8 + 40) + 8; // RIFF, JUNK/ds64 reserve, fmt (extensible-sized), data header

/** The hidden sibling a file is written to until it is complete: `dir/.name.partial`. */
export function partialPathOf(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.partial`);
}

/** Opens `file` for writing as a new regular file, never through what was left at its name. */
function createFresh(file: string): number {
  const stale = fs.lstatSync(file, { throwIfNoEntry: false });
  // A partial left by a killed process, or a symlink planted there: writing through it with 'w'
  // would truncate whatever it points at. Only a file or a link is removed; anything else is named.
  if (stale && !stale.isFile() && !stale.isSymbolicLink())
    throw new OutputFileError(file, `is ${describeKind(stale)} where a partial file goes; remove it`);
  if (stale) fs.rmSync(file);
  return fs.openSync(file, 'wx');
}

export class WavWriter {
  readonly partialPath: string;
  private readonly fd: number;
  private dataBytes = 0;
  private framesSinceHeader = 0;
  private state: 'writing' | 'finished' | 'closed' = 'writing';
  private buffer = Buffer.alloc(0);

  /** Refuses, before writing anything, an output that is not a regular file or whose folder is missing. */
  constructor(
    readonly file: string,
    readonly options: WavWriterOptions,
  ) {
    checkOutputFile(file);
    this.partialPath = partialPathOf(file);
    try {
      this.fd = createFresh(this.partialPath);
    } catch (error) {
      if (error instanceof OutputFileError) throw error;
      throw new OutputFileError(
        file,
        `cannot write it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    try {
      this.writeHeader();
    } catch (error) {
      this.abort();
      throw error;
    }
  }

  get frames(): number {
    return this.dataBytes / (bytesPerSample(this.options.format) * this.options.channels);
  }

  /** Interleaved samples: floats for float32; for integer formats, floats in -1..1 or ready integers. */
  write(interleaved: Float32Array | Int32Array): void {
    const { format, channels } = this.options;
    const width = bytesPerSample(format);
    const bytes = interleaved.length * width;
    if (this.buffer.length < bytes) this.buffer = Buffer.alloc(bytes);
    const buf = this.buffer;
    const integers = interleaved instanceof Int32Array;
    const scale = format === 'int16' ? 32768 : format === 'int24' ? 8388608 : 2147483648;
    for (let i = 0; i < interleaved.length; i++) {
      const v = interleaved[i];
      if (format === 'float32') {
        buf.writeFloatLE(v, i * 4);
        continue;
      }
      const s = integers ? v : Math.max(-scale, Math.min(scale - 1, Math.round(v * scale)));
      if (format === 'int16') buf.writeInt16LE(s, i * 2);
      else if (format === 'int24') buf.writeIntLE(s, i * 3, 3);
      else buf.writeInt32LE(s, i * 4);
    }
    const written = fs.writeSync(this.fd, buf, 0, bytes, HEADER_BYTES + this.dataBytes);
    if (written < bytes) {
      // A short write is how a full disk first shows: keep the header true to the whole frames
      // that did land, so the file stays playable up to there.
      const frameBytes = width * channels;
      this.dataBytes += written - (written % frameBytes);
      this.writeHeader();
      throw Object.assign(new Error(`no space left for ${this.file} (wrote ${written} of ${bytes} bytes)`), {
        code: 'ENOSPC',
      });
    }
    this.dataBytes += bytes;
    this.framesSinceHeader += interleaved.length / channels;
    const refresh = this.options.headerRefreshFrames ?? 0;
    if (refresh > 0 && this.framesSinceHeader >= refresh) {
      this.writeHeader();
      this.framesSinceHeader = 0;
    }
  }

  /**
   * Completes the file under its partial name (readable there) without replacing the real one
   * yet: several files that belong together are finished first, then committed together.
   */
  finish(): void {
    if (this.state !== 'writing') return;
    this.writeHeader();
    fs.fsyncSync(this.fd);
    this.state = 'finished';
    fs.closeSync(this.fd);
  }

  /**
   * Moves the finished file under its real name, if that is still a regular file or nothing;
   * otherwise (it became a folder or a FIFO meanwhile) removes the partial and says why.
   */
  commit(): void {
    this.finish();
    if (this.state === 'closed') return;
    try {
      checkOutputFile(this.file);
      fs.renameSync(this.partialPath, this.file);
    } catch (error) {
      fs.rmSync(this.partialPath, { force: true });
      throw error instanceof OutputFileError
        ? error
        : new OutputFileError(
            this.file,
            `cannot write it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          );
    } finally {
      this.state = 'closed';
    }
  }

  /** Finishes the header and moves the file under its real name. */
  close(): void {
    this.commit();
  }

  /** Gives up: removes the partial file; the real name is never touched. */
  abort(): void {
    if (this.state === 'closed') return;
    const open = this.state === 'writing';
    this.state = 'closed';
    try {
      if (open) fs.closeSync(this.fd);
    } finally {
      fs.rmSync(this.partialPath, { force: true });
    }
  }

  private writeHeader(): void {
    const { sampleRate, channels, format } = this.options;
    const width = bytesPerSample(format);
    const rf64 = HEADER_BYTES - 8 + this.dataBytes > RIFF_LIMIT;
    const h = Buffer.alloc(HEADER_BYTES);
    h.write(rf64 ? 'RF64' : 'RIFF', 0, 'latin1');
    h.writeUInt32LE(rf64 ? RIFF_LIMIT : HEADER_BYTES - 8 + this.dataBytes, 4);
    h.write('WAVE', 8, 'latin1');
    // A JUNK chunk reserves the room a ds64 chunk needs, so promotion to RF64 rewrites in place.
    h.write(rf64 ? 'ds64' : 'JUNK', 12, 'latin1');
    h.writeUInt32LE(28, 16);
    if (rf64) {
      h.writeBigUInt64LE(BigInt(HEADER_BYTES - 8 + this.dataBytes), 20);
      h.writeBigUInt64LE(BigInt(this.dataBytes), 28);
      h.writeBigUInt64LE(BigInt(this.dataBytes / (width * channels)), 36);
    }
    h.write('fmt ', 48, 'latin1');
    h.writeUInt32LE(40, 52);
    // Extensible for everything: it states valid bits and the channel mask unambiguously.
    h.writeUInt16LE(FORMAT_EXTENSIBLE, 56);
    h.writeUInt16LE(channels, 58);
    h.writeUInt32LE(sampleRate, 60);
    h.writeUInt32LE(sampleRate * width * channels, 64);
    h.writeUInt16LE(width * channels, 68);
    h.writeUInt16LE(width * 8, 70);
    h.writeUInt16LE(22, 72);
    h.writeUInt16LE(width * 8, 74);
    h.writeUInt32LE(channels === 2 ? 0x3 : 0x4, 76); // FL|FR, or FC for mono
    h.writeUInt16LE(format === 'float32' ? FORMAT_FLOAT : FORMAT_PCM, 80);
    GUID_TAIL.copy(h, 82);
    h.write('data', 96, 'latin1');
    h.writeUInt32LE(rf64 ? RIFF_LIMIT : this.dataBytes, 100);
    fs.writeSync(this.fd, h, 0, HEADER_BYTES, 0);
  }
}

/** Interleaves stereo channels into one array (1 or 2 channels out). */
export function interleave(
  left: Float32Array,
  right: Float32Array,
  channels: 1 | 2,
  out?: Float32Array,
): Float32Array {
  const n = left.length;
  const result =
    out && out.length >= n * channels ? out.subarray(0, n * channels) : new Float32Array(n * channels);
  if (channels === 1) {
    for (let i = 0; i < n; i++) result[i] = 0.5 * (left[i] + right[i]);
  } else {
    for (let i = 0; i < n; i++) {
      result[2 * i] = left[i];
      result[2 * i + 1] = right[i];
    }
  }
  return result;
}

export function parseSampleFormat(text: string): SampleFormat {
  const table: Record<string, SampleFormat> = {
    '16': 'int16',
    '24': 'int24',
    '32': 'int32',
    float: 'float32',
    '32f': 'float32',
    float32: 'float32',
  };
  const format = table[text];
  if (!format) throw new RangeError(`unknown sample format "${text}" (use 16, 24, 32 or float)`);
  return format;
}
