/**
 * Streamed AIFF and AIFF-C reading and writing (Apple's Audio IFF 1.3 and its AIFF-C draft):
 * big-endian chunks, a COMM chunk with the rate as an 80-bit extended float, the samples in SSND.
 * Read: PCM of 1..32 bits (big-endian 'NONE'/'twos'/'in24'/'in32', little-endian 'sowt') and
 * float ('fl32'/'FL32', 'fl64'/'FL64'), mono or stereo. Written: 16/24/32-bit PCM, and 32-bit
 * float as AIFF-C 'fl32'. Memory stays flat; writers keep wav.ts's partial-file discipline.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OutputFileError, checkOutputFile, readExactly } from '../file-checks.ts';
import type { SampleFormat } from '../wav.ts';
import { claimPartial, commitPartial, openReadableFile, partialPathOf } from './regular-files.ts';

export class AiffError extends Error {
  constructor(file: string, problem: string) {
    super(`${path.basename(file)}: ${problem}`);
    this.name = 'AiffError';
  }
}

type Encoding = 'int-be' | 'int-le' | 'float-be';

export interface AiffInfo {
  sampleRate: number;
  channels: 1 | 2;
  /** Bits a sample as COMM declares them (stored left-justified in whole bytes). */
  bits: number;
  /** The AIFF-C compression type, or null for plain AIFF. */
  compression: string | null;
  frames: number;
  durationSeconds: number;
}

// AIFF-C compression types the rig reads: the big-endian PCM ones, 'sowt' (little-endian PCM,
// what Apple tools write for "AIFF" since 10.4) and IEEE float. Anything else is a real codec.
const COMPRESSIONS: Record<string, Encoding> = {
  NONE: 'int-be',
  twos: 'int-be',
  in24: 'int-be',
  in32: 'int-be',
  sowt: 'int-le',
  fl32: 'float-be',
  FL32: 'float-be',
  fl64: 'float-be',
  FL64: 'float-be',
};

/** The 80-bit IEEE 754 extended float COMM stores the rate in: sign+exponent, then a 64-bit mantissa with its integer bit. */
export function readExtended(buf: Buffer, offset: number): number {
  const signExponent = buf.readUInt16BE(offset);
  const mantissa = buf.readBigUInt64BE(offset + 2);
  const exponent = signExponent & 0x7fff;
  if (exponent === 0x7fff) return NaN;
  if (exponent === 0 && mantissa === 0n) return 0;
  const value = Number(mantissa) * 2 ** (exponent - 16383 - 63);
  return signExponent & 0x8000 ? -value : value;
}

/** Writes a positive integer (a sample rate) as an 80-bit extended float, exactly. */
export function writeExtended(value: number, buf: Buffer, offset: number): void {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${value} is not a positive integer rate`);
  const e = Math.floor(Math.log2(value));
  buf.writeUInt16BE(16383 + e, offset);
  buf.writeBigUInt64BE(BigInt(value) << BigInt(63 - e), offset + 2);
}

export class AiffReader {
  readonly info: AiffInfo;
  private readonly encoding: Encoding;
  private readonly sampleBytes: number;
  private readonly dataStart: number;
  private readonly frameBytes: number;
  private framesRead = 0;
  private chunk = Buffer.alloc(0);

  private constructor(
    readonly file: string,
    private readonly fd: number,
    header: ParsedHeader,
  ) {
    this.info = header.info;
    this.encoding = header.encoding;
    this.sampleBytes = header.sampleBytes;
    this.frameBytes = header.sampleBytes * header.info.channels;
    this.dataStart = header.dataStart;
  }

  static open(file: string): AiffReader {
    const fd = openReadableFile(file, (problem) => new AiffError(file, problem), 'an AIFF file');
    try {
      return new AiffReader(file, fd, parseHeader(file, fd));
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
      (problem) => new AiffError(this.file, problem),
      (got) =>
        `truncated: the samples end after ${this.framesRead + Math.floor(got / this.frameBytes)} of ${this.info.frames} frames`,
    );
    this.framesRead += count;
    const left = new Float32Array(count);
    const right = new Float32Array(count);
    this.decode(count, left, right);
    return { left, right };
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  private decode(frames: number, left: Float32Array, right: Float32Array): void {
    const { channels } = this.info;
    const width = this.sampleBytes;
    const buf = this.chunk;
    // Samples narrower than their bytes are left-justified, so reading the whole bytes as one
    // integer and scaling by the bytes' full range gives the right value for any bit depth.
    const scale = 1 / 2 ** (8 * width - 1);
    const sample = (at: number): number => {
      if (this.encoding === 'float-be') return width === 4 ? buf.readFloatBE(at) : buf.readDoubleBE(at);
      if (width === 2)
        return (this.encoding === 'int-be' ? buf.readInt16BE(at) : buf.readInt16LE(at)) * scale;
      return (this.encoding === 'int-be' ? buf.readIntBE(at, width) : buf.readIntLE(at, width)) * scale;
    };
    for (let i = 0; i < frames; i++) {
      const at = i * width * channels;
      left[i] = sample(at);
      right[i] = channels === 1 ? left[i] : sample(at + width);
    }
  }
}

interface ParsedHeader {
  info: AiffInfo;
  encoding: Encoding;
  sampleBytes: number;
  dataStart: number;
}

function parseHeader(file: string, fd: number): ParsedHeader {
  const fail = (problem: string) => new AiffError(file, problem);
  const fileSize = fs.fstatSync(fd).size;
  const head = Buffer.alloc(12);
  if (fs.readSync(fd, head, 0, 12, 0) < 12) throw fail(`not an AIFF file (only ${fileSize} bytes)`);
  const formType = head.toString('latin1', 8, 12);
  if (head.toString('latin1', 0, 4) !== 'FORM' || (formType !== 'AIFF' && formType !== 'AIFC'))
    throw fail('not an AIFF file (no FORM AIFF or AIFC header)');
  const aifc = formType === 'AIFC';
  // A FORM size past the end is a file cut short; the chunks that are there say how much.
  const end = Math.min(fileSize, 8 + head.readUInt32BE(4));
  let comm: Buffer | undefined;
  let ssnd: { start: number; size: number } | undefined;
  const chunkHeader = Buffer.alloc(8);
  for (let offset = 12; offset + 8 <= end;) {
    fs.readSync(fd, chunkHeader, 0, 8, offset);
    const id = chunkHeader.toString('latin1', 0, 4);
    const size = chunkHeader.readUInt32BE(4);
    if (id === 'COMM') {
      const want = aifc ? 22 : 18;
      if (size < want) throw fail(`the COMM chunk of ${size} bytes is too short (${formType} needs ${want})`);
      comm = Buffer.alloc(want);
      if (fs.readSync(fd, comm, 0, want, offset + 8) < want) throw fail('truncated inside the COMM chunk');
    } else if (id === 'SSND') {
      if (size < 8) throw fail(`the SSND chunk of ${size} bytes is too short`);
      ssnd = { start: offset + 8, size };
    }
    // Chunks are padded to an even length; the pad byte is not in the size.
    offset += 8 + size + (size % 2);
  }
  if (!comm) throw fail('no COMM chunk (the channels, length and rate are missing)');
  const channels = comm.readInt16BE(0);
  const frames = comm.readUInt32BE(2);
  const bits = comm.readInt16BE(6);
  const rate = readExtended(comm, 8);
  const compression = aifc ? comm.toString('latin1', 18, 22) : null;
  const encoding = compression === null ? 'int-be' : COMPRESSIONS[compression];
  if (!encoding)
    throw fail(
      `AIFF-C compression '${compression}' is not supported (only uncompressed PCM and float); convert it to WAV or AIFF first`,
    );
  if (channels <= 0) throw fail(`declares ${channels} channels`);
  if (channels > 2)
    throw fail(`has ${channels} channels; the rig masters mono or stereo only (downmix it first)`);
  if (!(rate >= 8000 && rate <= 384000)) throw fail(`unsupported sample rate ${rate} Hz`);
  const float = encoding === 'float-be';
  if (float ? bits !== 32 && bits !== 64 : bits < 1 || bits > 32)
    throw fail(`unsupported sample size of ${bits} bits${float ? ' for float samples (use 32 or 64)' : ''}`);
  // fl64's COMM sometimes says 32 bits; the type decides the width of float samples.
  const sampleBytes = float ? (compression!.toLowerCase() === 'fl64' ? 8 : 4) : Math.ceil(bits / 8);
  if (frames > 0 && !ssnd) throw fail(`no SSND chunk (COMM declares ${frames} frames)`);
  let dataStart = 0;
  if (ssnd) {
    // SSND: offset to the first sample (block alignment, almost always 0), block size, samples.
    const fields = Buffer.alloc(8);
    fs.readSync(fd, fields, 0, 8, ssnd.start);
    dataStart = ssnd.start + 8 + fields.readUInt32BE(0);
    const declared = frames * sampleBytes * channels;
    const inChunk = ssnd.size - 8 - fields.readUInt32BE(0);
    const inFile = fileSize - dataStart;
    if (declared > Math.min(inChunk, inFile))
      throw fail(
        `truncated: COMM declares ${frames} frames (${declared} bytes) but the SSND chunk holds only ${Math.max(0, Math.min(inChunk, inFile))} bytes`,
      );
  }
  const sampleRate = Math.round(rate);
  return {
    info: {
      sampleRate,
      channels: channels as 1 | 2,
      bits,
      compression,
      frames,
      durationSeconds: frames / sampleRate,
    },
    encoding,
    sampleBytes,
    dataStart,
  };
}

export interface AiffWriterOptions {
  sampleRate: number;
  channels: 1 | 2;
  /** int16/int24/int32 as big-endian PCM; float32 only in AIFF-C ('fl32'). */
  format: SampleFormat;
  /** Write AIFF-C (FORM AIFC) rather than plain AIFF; required for float32. */
  aifc?: boolean;
}

// The AIFF-C FVER timestamp every reader expects: the draft of 1990-05-23.
const AIFC_VERSION_1 = 0xa2805140;
const FORM_LIMIT = 0xffffffff;

function widthOf(format: AiffWriterOptions['format']): number {
  return format === 'int16' ? 2 : format === 'int24' ? 3 : 4;
}

export class AiffWriter {
  readonly partialPath: string;
  private readonly fd: number;
  private readonly headerBytes: number;
  private readonly header: Buffer;
  private dataBytes = 0;
  private state: 'writing' | 'finished' | 'closed' = 'writing';
  private buffer = Buffer.alloc(0);

  /** Refuses, before writing anything, an output that is not a regular file or whose folder is missing. */
  constructor(
    readonly file: string,
    readonly options: AiffWriterOptions,
  ) {
    if (options.format === 'float32' && !options.aifc)
      throw new OutputFileError(file, 'plain AIFF stores integers only; write AIFF-C (.aifc) for float');
    checkOutputFile(file);
    this.header = headerTemplate(options);
    this.headerBytes = this.header.length;
    this.partialPath = partialPathOf(file);
    this.fd = claimPartial(this.partialPath);
    try {
      this.writeHeader();
    } catch (error) {
      this.abort();
      throw error;
    }
  }

  get frames(): number {
    return this.dataBytes / (widthOf(this.options.format) * this.options.channels);
  }

  /** Interleaved samples: floats for float32; for integer formats, floats in -1..1 or ready integers. */
  write(interleaved: Float32Array | Int32Array): void {
    if (this.state !== 'writing') throw new Error(`${this.file}: written after it was finished`);
    const { format } = this.options;
    const width = widthOf(format);
    const bytes = interleaved.length * width;
    if (this.headerBytes - 8 + this.dataBytes + bytes + 1 > FORM_LIMIT)
      throw new OutputFileError(this.file, 'AIFF holds at most 4 GiB; write WAV (RF64) for longer masters');
    if (this.buffer.length < bytes) this.buffer = Buffer.alloc(bytes);
    const buf = this.buffer;
    const integers = interleaved instanceof Int32Array;
    const scale = format === 'int16' ? 32768 : format === 'int24' ? 8388608 : 2147483648;
    for (let i = 0; i < interleaved.length; i++) {
      const v = interleaved[i];
      if (format === 'float32') {
        buf.writeFloatBE(v, i * 4);
        continue;
      }
      const s = integers ? v : Math.max(-scale, Math.min(scale - 1, Math.round(v * scale)));
      if (format === 'int16') buf.writeInt16BE(s, i * 2);
      else if (format === 'int24') buf.writeIntBE(s, i * 3, 3);
      else buf.writeInt32BE(s, i * 4);
    }
    const written = fs.writeSync(this.fd, buf, 0, bytes, this.headerBytes + this.dataBytes);
    if (written < bytes) {
      // As in WavWriter: keep the header true to the whole frames that landed.
      const frameBytes = width * this.options.channels;
      this.dataBytes += written - (written % frameBytes);
      this.writeHeader();
      throw Object.assign(new Error(`no space left for ${this.file} (wrote ${written} of ${bytes} bytes)`), {
        code: 'ENOSPC',
      });
    }
    this.dataBytes += bytes;
  }

  /** Completes the file under its partial name (readable there) without replacing the real one yet. */
  finish(): void {
    if (this.state !== 'writing') return;
    // An odd-sized SSND chunk (mono 24-bit, odd frames) gets its pad byte.
    if (this.dataBytes % 2) fs.writeSync(this.fd, Buffer.alloc(1), 0, 1, this.headerBytes + this.dataBytes);
    this.writeHeader();
    fs.fsyncSync(this.fd);
    this.state = 'finished';
    fs.closeSync(this.fd);
  }

  /** Moves the finished file under its real name (see WavWriter.commit). */
  commit(): void {
    this.finish();
    if (this.state === 'closed') return;
    try {
      commitPartial(this.partialPath, this.file);
    } finally {
      this.state = 'closed';
    }
  }

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
    const h = this.header;
    const frameBytes = widthOf(this.options.format) * this.options.channels;
    const pad = this.dataBytes % 2;
    h.writeUInt32BE(this.headerBytes - 8 + this.dataBytes + pad, 4);
    const comm = this.options.aifc ? 24 : 12;
    h.writeUInt32BE(this.dataBytes / frameBytes, comm + 10);
    h.writeUInt32BE(8 + this.dataBytes, this.headerBytes - 12);
    fs.writeSync(this.fd, h, 0, this.headerBytes, 0);
  }
}

/** The header with everything but the sizes filled in: FORM, (FVER), COMM, SSND's head. */
function headerTemplate({ sampleRate, channels, format, aifc }: AiffWriterOptions): Buffer {
  const bits = widthOf(format) * 8;
  const [type, name] = format === 'float32' ? ['fl32', '32-bit floating point'] : ['NONE', 'not compressed'];
  // A Pascal string: count byte, characters, padded to an even length.
  const nameBytes = 1 + name.length + ((1 + name.length) % 2);
  const commSize = aifc ? 22 + nameBytes : 18;
  const size = 12 + (aifc ? 12 : 0) + 8 + commSize + 16;
  const h = Buffer.alloc(size);
  h.write('FORM', 0, 'latin1');
  h.write(aifc ? 'AIFC' : 'AIFF', 8, 'latin1');
  let at = 12;
  if (aifc) {
    h.write('FVER', at, 'latin1');
    h.writeUInt32BE(4, at + 4);
    h.writeUInt32BE(AIFC_VERSION_1, at + 8);
    at += 12;
  }
  h.write('COMM', at, 'latin1');
  h.writeUInt32BE(commSize, at + 4);
  h.writeInt16BE(channels, at + 8);
  h.writeInt16BE(bits, at + 14);
  writeExtended(sampleRate, h, at + 16);
  if (aifc) {
    h.write(type, at + 26, 'latin1');
    h.writeUInt8(name.length, at + 30);
    h.write(name, at + 31, 'latin1');
  }
  at += 8 + commSize;
  h.write('SSND', at, 'latin1');
  // Offset and block size stay 0: samples start right after them, unaligned.
  return h;
}
