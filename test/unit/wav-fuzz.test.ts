/**
 * A small WAV fuzzer: a few hundred generated files, most of them malformed the ways real files
 * and hostile ones are (truncated headers, wrong chunk sizes, huge sizes, odd format codes, bad
 * block align, RF64/ds64 variants, channel counts, bit depths, extensible sub-formats, data past
 * the end), each through the analysis and the master. Each must end in a correct result or a
 * clear error (an Error naming the file, no stack trace in its message), within bounded time,
 * with nothing left at the output path and no partial file anywhere. A few go through the real
 * command line too. Seeded, so a failure names its case and comes back the same way.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeFile, master } from '../../engine/src/master.ts';
import { WavReader } from '../../engine/src/wav.ts';
import { seededRandom } from '../helpers/signals.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-wav-fuzz-'));
const outDir = path.join(dir, 'out');
fs.mkdirSync(outDir);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const CASES = 300;
const random = seededRandom(0x13f022);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
const chance = (p: number) => random() < p;
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

// The KSDATAFORMAT_SUBTYPE GUIDs' shared tail; a sub-format is its first two bytes.
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

interface Header {
  riff: string;
  wave: string;
  tag: number;
  channels: number;
  sampleRate: number;
  bits: number;
  blockAlign: number;
  extensible: boolean;
  subFormat: number;
  guidTail: number[];
  fmtSize: number;
  frames: number;
  /** The data chunk's declared size, when it differs from the bytes that follow. */
  dataSize?: number;
  ds64?: { size: number; dataSize: bigint };
  order: Array<'ds64' | 'fmt' | 'junk' | 'data' | 'list'>;
  /** Cut the file here (bytes from the start). */
  truncateAt?: number;
  /** Flip these bytes of the finished file. */
  flips: number[];
  /** Float samples this many times full scale (a float file at +30 dBFS and beyond). */
  floatScale: number;
}

/** A well-formed header of a format the rig reads, for mutations to start from. */
function validHeader(): Header {
  const [tag, bits] = pick([
    [1, 16],
    [1, 24],
    [1, 32],
    [3, 32],
    [3, 64],
  ] as const);
  const channels = pick([1, 2]);
  const extensible = chance(0.3);
  const sampleRate = pick([8000, 22050, 44100, 48000, 96000]);
  return {
    riff: 'RIFF',
    wave: 'WAVE',
    tag: extensible ? 0xfffe : tag,
    subFormat: tag,
    guidTail: GUID_TAIL,
    channels,
    sampleRate,
    bits,
    blockAlign: (channels * bits) / 8,
    extensible,
    fmtSize: extensible ? 40 : 16,
    // Empty, one frame, under the 400 ms a loudness needs, and long enough to master.
    frames: Math.round(sampleRate * pick([0, 0, 1 / sampleRate, 0.01, 0.3, 0.5, 0.6, 0.6, 0.8, 0.8])),
    order: chance(0.3) ? ['junk', 'fmt', 'list', 'data'] : ['fmt', 'data'],
    flips: [],
    floatScale: 0.3,
  };
}

/** One of the ways a file goes wrong, applied to a valid header; some cases stay valid. */
function mutate(h: Header): string {
  const way = pick([
    'valid',
    'truncated',
    'fmt-size',
    'data-size',
    'huge-data',
    'format-code',
    'block-align',
    'channels',
    'bits',
    'sample-rate',
    'guid',
    'short-extensible',
    'rf64',
    'order',
    'flips',
    'hot-float',
    'no-wave',
  ] as const);
  switch (way) {
    case 'valid':
      break;
    case 'truncated':
      h.truncateAt = pick([0, 4, 11, 12, 19, 20, 30, 36, 43, 44, int(0, 200)]);
      break;
    case 'fmt-size':
      h.fmtSize = pick([0, 2, 14, 15, 17, 18, 39, 41, 0xffff, 0xfffffff0, int(0, 100)]);
      break;
    case 'data-size':
      h.dataSize = int(0, h.frames * h.blockAlign * 2 + 8);
      break;
    case 'huge-data':
      h.dataSize = pick([0xffffffff, 0x7fffffff, 0xfffffffe, 2 ** 31 + 1]);
      break;
    case 'format-code':
      h.tag = pick([0, 2, 6, 7, 0x11, 0x55, 0xfffe, 0xffff, int(0, 0xffff)]);
      break;
    case 'block-align':
      h.blockAlign = pick([0, 1, 3, h.blockAlign + 1, h.blockAlign * 2, 0xffff]);
      break;
    case 'channels':
      h.channels = pick([0, 3, 4, 6, 8, 0xffff]);
      h.blockAlign = (h.channels * h.bits) / 8;
      break;
    case 'bits':
      h.bits = pick([0, 1, 7, 8, 12, 20, 31, 48, 64, 65535]);
      h.blockAlign = Math.floor((h.channels * h.bits) / 8);
      break;
    case 'sample-rate':
      h.sampleRate = pick([0, 1, 7999, 384001, 0xffffffff, int(8000, 384000)]);
      break;
    case 'guid':
      h.tag = 0xfffe;
      h.extensible = true;
      h.fmtSize = 40;
      h.guidTail = Array.from({ length: 14 }, () => int(0, 255));
      if (chance(0.5)) h.subFormat = int(0, 0xffff);
      break;
    case 'short-extensible':
      h.tag = 0xfffe;
      h.extensible = false;
      h.fmtSize = pick([16, 18, 22, 24]);
      break;
    case 'rf64':
      h.riff = pick(['RF64', 'BW64']);
      h.dataSize = 0xffffffff;
      if (chance(0.8)) {
        const actual = BigInt(h.frames * h.blockAlign);
        h.ds64 = {
          size: pick([28, 28, 0, 8, 16, 20, 27, 36, 0xffffffff]),
          dataSize: pick([actual, actual, actual + 1000n, 2n ** 40n, 2n ** 63n, 0n]),
        };
        h.order = chance(0.8) ? ['ds64', 'fmt', 'data'] : ['fmt', 'ds64', 'data'];
      }
      break;
    case 'order':
      h.order = pick([
        ['data', 'fmt'],
        ['fmt'],
        ['data'],
        [],
        ['fmt', 'fmt', 'data'],
        ['junk', 'data'],
      ] as Array<Header['order']>);
      break;
    case 'flips':
      h.flips = Array.from({ length: int(1, 4) }, () => int(0, 60));
      break;
    case 'hot-float':
      h.tag = 3;
      h.extensible = false;
      h.fmtSize = 16;
      h.bits = 32;
      h.blockAlign = h.channels * 4;
      h.floatScale = pick([31, 100, 1e6, 3.4e38, Infinity, NaN]);
      break;
    case 'no-wave':
      if (chance(0.5)) h.riff = pick(['RIFX', 'riff', 'FORM', '\0\0\0\0']);
      else h.wave = pick(['AVI ', 'wave', 'WAV ']);
      break;
  }
  return way;
}

/** The sample bytes for a header's format: a 997 Hz tone, or noise where the format is not one the rig reads. */
function samples(h: Header): Buffer {
  const width = h.bits / 8;
  const count = h.frames * Math.max(1, Math.min(h.channels, 8));
  const known = [2, 3, 4, 8].includes(width);
  const out = Buffer.alloc(known ? count * width : Math.min(count * 4, 1 << 20));
  if (!known) {
    for (let i = 0; i < out.length; i++) out[i] = int(0, 255);
    return out;
  }
  const float = (h.extensible ? h.subFormat : h.tag) === 3;
  for (let i = 0; i < count; i++) {
    const v = 0.5 * Math.sin((2 * Math.PI * 997 * Math.floor(i / Math.max(1, h.channels))) / 48000);
    if (float && width === 4) out.writeFloatLE(v * (h.floatScale / 0.3) * 0.3, i * 4);
    else if (float && width === 8) out.writeDoubleLE(v, i * 8);
    else if (width === 2) out.writeInt16LE(Math.round(v * 32767), i * 2);
    else if (width === 3) out.writeIntLE(Math.round(v * 8388607), i * 3, 3);
    else out.writeInt32LE(Math.round(v * 2147483647), i * 4);
  }
  return out;
}

function chunk(id: string, declared: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(declared >>> 0, 4);
  return Buffer.concat([head, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

function build(h: Header): Buffer {
  const data = samples(h);
  const fmt = Buffer.alloc(40);
  fmt.writeUInt16LE(h.tag & 0xffff, 0);
  fmt.writeUInt16LE(h.channels & 0xffff, 2);
  fmt.writeUInt32LE(h.sampleRate >>> 0, 4);
  fmt.writeUInt32LE((h.sampleRate * h.blockAlign) >>> 0, 8);
  fmt.writeUInt16LE(h.blockAlign & 0xffff, 12);
  fmt.writeUInt16LE(h.bits & 0xffff, 14);
  fmt.writeUInt16LE(22, 16);
  fmt.writeUInt16LE(h.bits & 0xffff, 18);
  fmt.writeUInt32LE(h.channels === 2 ? 3 : 4, 20);
  fmt.writeUInt16LE(h.subFormat & 0xffff, 24);
  Buffer.from(h.guidTail).copy(fmt, 26);
  const chunks = h.order.map((id) => {
    switch (id) {
      case 'fmt':
        return chunk('fmt ', h.fmtSize, fmt.subarray(0, Math.min(h.fmtSize, 40)));
      case 'data':
        return chunk('data', h.dataSize ?? data.length, data);
      case 'junk':
        return chunk('JUNK', 13, Buffer.alloc(13));
      case 'list':
        return chunk('LIST', 4, Buffer.from('INFO'));
      case 'ds64': {
        const body = Buffer.alloc(28);
        body.writeBigUInt64LE(BigInt(36 + data.length), 0);
        body.writeBigUInt64LE(BigInt.asUintN(64, h.ds64!.dataSize), 8);
        body.writeBigUInt64LE(BigInt(h.frames), 16);
        return chunk('ds64', h.ds64!.size, body.subarray(0, Math.min(28, h.ds64!.size)));
      }
    }
  });
  const head = Buffer.alloc(12);
  head.write(h.riff, 0, 'latin1');
  const body = Buffer.concat(chunks);
  head.writeUInt32LE(h.riff === 'RIFF' ? (4 + body.length) >>> 0 : 0xffffffff, 4);
  head.write(h.wave, 8, 'latin1');
  let file = Buffer.concat([head, body]);
  for (const at of h.flips) if (at < file.length) file[at] ^= 1 << int(0, 7);
  if (h.truncateAt !== undefined) file = file.subarray(0, h.truncateAt);
  return file;
}

interface Case {
  file: string;
  way: string;
}

const cases: Case[] = Array.from({ length: CASES }, (_, i) => {
  const header = validHeader();
  const way = i % 25 === 24 ? 'random-bytes' : mutate(header);
  const file = path.join(dir, `case-${String(i).padStart(3, '0')}-${way}.wav`);
  fs.writeFileSync(
    file,
    way === 'random-bytes'
      ? Buffer.from(Array.from({ length: int(0, 400) }, () => int(0, 255)))
      : build(header),
  );
  return { file, way };
});

/** Runs `job`; returns its error, which must be an Error naming `file` with no stack in its message. */
async function clearErrorOrResult(file: string, job: () => unknown): Promise<Error | undefined> {
  try {
    await job();
    return undefined;
  } catch (error) {
    expect(error, file).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message, `${file}: ${(error as Error).stack}`).toContain(path.basename(file));
    expect(message, file).not.toMatch(/\n\s+at /);
    // One line: the command line prints the message as it is.
    expect(message, file).not.toContain('\n');
    return error as Error;
  }
}

const partialsIn = (folder: string) => fs.readdirSync(folder).filter((f) => f.includes('.partial'));

describe('the WAV fuzzer', () => {
  it(`takes ${CASES} generated files through analysis and master to a result or a clear error`, async () => {
    const output = path.join(outDir, 'master.wav');
    const outcomes: Record<string, { ok: number; refused: number }> = {};
    const started = performance.now();
    for (const [i, { file, way }] of cases.entries()) {
      const caseStarted = performance.now();
      const tally = (outcomes[way] ??= { ok: 0, refused: 0 });

      let frames: number | undefined;
      const analysis = await clearErrorOrResult(file, async () => {
        const report = await analyzeFile(file);
        expect(report, file).toHaveProperty('integratedLufs');
        const reader = WavReader.open(file);
        frames = reader.info.frames;
        // What it read lies inside the file.
        expect(frames * reader.info.channels, file).toBeLessThanOrEqual(fs.statSync(file).size);
        reader.close();
      });

      const mastering = await clearErrorOrResult(file, async () => {
        const result = await master({
          input: file,
          output,
          targetLufs: -14,
          ceilingDbtp: -1,
          values: {},
          format: pick(['int16', 'int24', 'float32']),
          cd: i % 10 === 0,
        });
        // A master is as long as its input, in the input's rate.
        const reader = WavReader.open(output);
        const input = WavReader.open(file);
        expect(reader.info.frames, file).toBe(input.info.frames);
        expect(reader.info.sampleRate, file).toBe(input.info.sampleRate);
        reader.close();
        input.close();
        expect(result.output.report.truePeakDbtp ?? -Infinity, file).toBeLessThanOrEqual(-1 + 0.5);
      });
      console.log(way, path.basename(file), analysis?.message ?? 'ok', '/', mastering?.message ?? 'ok');
      if (mastering) {
        expect(fs.existsSync(output), `${file}: ${mastering.message}`).toBe(false);
        tally.refused++;
      } else {
        expect(analysis, file).toBeUndefined();
        expect(frames, file).toBeGreaterThan(0);
        tally.ok++;
      }
      expect(partialsIn(outDir), file).toEqual([]);
      expect(partialsIn(dir), file).toEqual([]);
      fs.rmSync(output, { force: true });
      fs.rmSync(output.replace(/\.wav$/, '.cd.wav'), { force: true });
      // Bounded: no case may take long (the slowest valid ones render under a second of audio).
      expect(performance.now() - caseStarted, file).toBeLessThan(5000);
    }
    // The fuzzer exercises both outcomes, and most kinds of damage are refused.
    const total = Object.values(outcomes).reduce((sum, t) => ({
      ok: sum.ok + t.ok,
      refused: sum.refused + t.refused,
    }));
    expect(total.ok).toBeGreaterThan(20);
    expect(total.refused).toBeGreaterThan(CASES / 2);
    expect(performance.now() - started).toBeLessThan(60_000);
  });

  it('prints one line and no stack trace on the real command line', async () => {
    const run = promisify(execFile);
    const root = path.resolve(import.meta.dirname, '../..');
    // One case of each kind that the library refused, through `rig analyze` and `rig master`.
    const chosen = ['truncated', 'rf64', 'bits', 'guid']
      .map((way) => cases.find((c) => c.way === way && !isReadable(c.file)))
      .filter((c): c is Case => c !== undefined);
    expect(chosen.length).toBeGreaterThan(2);
    const output = path.join(outDir, 'cli.wav');
    await Promise.all(
      chosen.flatMap(({ file }) =>
        [
          ['analyze', file],
          ['master', file, '-o', output],
        ].map(async (args) => {
          const result = await run(
            process.execPath,
            ['--import', 'tsx', path.join(root, 'bin/rig.ts'), ...args],
            { cwd: root, timeout: 30_000 },
          ).then(
            () => ({ code: 0, stderr: '' }),
            (error: { code: number; stderr: string }) => error,
          );
          expect(result.code, args.join(' ')).toBe(1);
          expect(result.stderr, args.join(' ')).toMatch(
            new RegExp(`^rig ${args[0]}: .*${path.basename(file).replace(/\./g, '\\.')}.*\n$`),
          );
        }),
      ),
    );
    expect(fs.existsSync(output)).toBe(false);
    expect(partialsIn(outDir)).toEqual([]);
  });
});

function isReadable(file: string): boolean {
  try {
    WavReader.open(file).close();
    return true;
  } catch {
    return false;
  }
}
