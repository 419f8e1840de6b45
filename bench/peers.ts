/** Peers run on the same input in the same run: ffmpeg's filters and LV2 limiters through ffmpeg. */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { WavReader, WavWriter, interleave } from '../engine/src/wav.ts';
import { addon } from '../engine/src/native.ts';
import { CACHE } from './material.ts';

export interface Peer {
  name: string;
  filter: string;
  /** Present only when the machine has what the peer needs. */
  available: () => boolean;
}

const lv2 = (uri: string, controls: string) => `lv2=p=${uri.replace(/:/g, '\\\\:')}:c=${controls}`;
const hasLv2Filter = () => {
  try {
    return execFileSync('ffmpeg', ['-hide_banner', '-filters'], { encoding: 'utf8' }).includes(' lv2 ');
  } catch {
    return false;
  }
};

/** A limiter peer alone, with its drive and ceiling as parameters (for the quality section). */
export interface LimiterPeer {
  name: string;
  /** Short file-name tag. */
  tag: string;
  /** The filter driving `driveDb` (within the peer's range: see limiterFilter) into `ceilingDb`. */
  filter: (driveDb: number, ceilingDb: number) => string;
  /** The peer's drive range in dB (from its LV2 TTL or ffmpeg's option limits). */
  minDriveDb: number;
  maxDriveDb: number;
  /** Whether the peer limits true peaks (an 8x over of a sample-peak limiter is expected). */
  truePeak: boolean;
  available: () => boolean;
}

const linear = (dbValue: number) => (10 ** (dbValue / 20)).toPrecision(8);

export const LIMITER_PEERS: LimiterPeer[] = [
  {
    // dpl.ttl: gain -10..30 dB, threshold -10..0 dB, release default 10 ms.
    name: 'x42 dpl, true-peak mode',
    tag: 'x42',
    filter: (driveDb, ceilingDb) =>
      lv2('http://gareus.org/oss/lv2/dpl#stereo', `gain=${driveDb}|threshold=${ceilingDb}|truepeak=1`),
    minDriveDb: -10,
    maxDriveDb: 30,
    truePeak: true,
    available: () => fs.existsSync('/usr/lib/lv2/dpl.lv2') && hasLv2Filter(),
  },
  {
    // limiter_stereo.ttl: g_in 0..1000 (linear), th linear; ovs=15 is "Full x4(2L)" oversampling.
    // boost=0: its default gain boost lifts the output so th lands at 0 dBFS, not at the ceiling.
    // Release stays at its default 5 ms (the TTL allows 0.25..20 ms only).
    name: 'LSP limiter stereo, 4x oversampling',
    tag: 'lsp',
    filter: (driveDb, ceilingDb) =>
      lv2(
        'http://lsp-plug.in/plugins/lv2/limiter_stereo',
        `g_in=${linear(driveDb)}|th=${linear(ceilingDb)}|ovs=15|alr=0|boost=0`,
      ),
    minDriveDb: -60,
    maxDriveDb: 60,
    truePeak: true,
    available: () => fs.existsSync('/usr/lib/lv2/lsp-plugins.lv2') && hasLv2Filter(),
  },
  {
    // ffmpeg -h filter=alimiter: level_in 1/64..64 (+-36 dB), defaults attack 5 ms, release 50 ms;
    // a sample-peak limiter. latency=1 removes its lookahead delay; level=disabled keeps unity gain.
    name: 'ffmpeg alimiter (sample peak)',
    tag: 'alimiter',
    filter: (driveDb, ceilingDb) =>
      `alimiter=level_in=${linear(driveDb)}:limit=${linear(ceilingDb)}:level=disabled:latency=1`,
    minDriveDb: -36,
    maxDriveDb: 36,
    truePeak: false,
    available: () => true,
  },
];

/** A limiter peer's filter, its drive clamped to the peer's range. */
export function limiterFilter(peer: LimiterPeer, driveDb: number, ceilingDb: number): string {
  return peer.filter(Math.min(peer.maxDriveDb, Math.max(peer.minDriveDb, driveDb)), ceilingDb);
}

const limiterPeer = (tag: string): LimiterPeer => LIMITER_PEERS.find((p) => p.tag === tag)!;

/** All peers drive +6 dB into a -1 dBTP (or -1 dBFS) ceiling, like our limiter in the benchmark. */
export const PEERS: Peer[] = [
  {
    name: 'ffmpeg equalizer + acompressor + alimiter',
    filter:
      'volume=6dB,equalizer=f=100:t=q:w=0.7:g=2,equalizer=f=3000:t=q:w=1:g=-2,acompressor=threshold=0.25:ratio=2:attack=10:release=300,alimiter=limit=0.891:level=disabled',
    available: () => true,
  },
  // The limiter peers alone, as the quality section runs them.
  ...['lsp', 'x42'].map((tag) => {
    const peer = limiterPeer(tag);
    return { name: peer.name, filter: limiterFilter(peer, 6, -1), available: peer.available };
  }),
];

function timedFfmpeg(args: string[]): number {
  const start = process.hrtime.bigint();
  execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-threads', '1', '-filter_threads', '1', ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export interface PeerRun {
  seconds: number;
  decodeSeconds: number;
  left: Float32Array;
  right: Float32Array;
}

/** Runs a filter over the file; returns wall time (and a decode-only baseline) and the output. */
export function runPeer(input: string, filter: string, tag: string): PeerRun {
  const { left, right, seconds } = runFilterOnFile(input, filter, `peer-${tag}`);
  const decodeSeconds = timedFfmpeg([
    '-i',
    input,
    '-af',
    'anull',
    '-c:a',
    'pcm_f32le',
    '-y',
    path.join(CACHE, 'peer-null.wav'),
  ]);
  return { seconds, decodeSeconds, left, right };
}

export interface Ebur128 {
  integrated: number;
  lra: number;
  truePeak: number;
  seconds: number;
}

export function ffmpegEbur128(input: string): Ebur128 {
  const start = process.hrtime.bigint();
  const run = spawnSync(
    'ffmpeg',
    ['-hide_banner', '-nostats', '-threads', '1', '-i', input, '-af', 'ebur128=peak=true', '-f', 'null', '-'],
    { encoding: 'utf8', maxBuffer: 1 << 30 },
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { ...parseSummary(run.stderr ?? ''), seconds };
}

function parseSummary(stderr: string): Omit<Ebur128, 'seconds'> {
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  const number = (label: RegExp) => Number(summary.match(label)?.[1] ?? NaN);
  return {
    integrated: number(/I:\s+(-?[\d.]+) LUFS/),
    lra: number(/LRA:\s+(-?[\d.]+) LU/),
    truePeak: number(/Peak:\s+(-?[\d.]+) dBFS/),
  };
}

/**
 * Runs a filter on a generated stereo signal: written to a float WAV in .bench-cache, filtered by
 * ffmpeg (one thread), read back. The output is as long as ffmpeg makes it (peers may delay).
 */
export function runFilterOnSignal(
  left: Float32Array,
  right: Float32Array,
  sampleRate: number,
  filter: string,
  tag: string,
): { left: Float32Array; right: Float32Array; seconds: number } {
  fs.mkdirSync(CACHE, { recursive: true });
  const input = path.join(CACHE, `signal-${tag}-in.wav`);
  const writer = new WavWriter(input, { sampleRate, channels: 2, format: 'float32' });
  writer.write(interleave(left, right, 2));
  writer.close();
  const run = runFilterOnFile(input, filter, tag);
  fs.rmSync(input, { force: true });
  return run;
}

/** Runs a filter over a file; returns the output samples and the wall time. */
export function runFilterOnFile(
  input: string,
  filter: string,
  tag: string,
): { left: Float32Array; right: Float32Array; seconds: number } {
  const output = path.join(CACHE, `signal-${tag}-out.wav`);
  const seconds = timedFfmpeg(['-i', input, '-af', filter, '-c:a', 'pcm_f32le', '-y', output]);
  const reader = WavReader.open(output);
  const { left, right } = reader.read(reader.info.frames);
  reader.close();
  fs.rmSync(output, { force: true });
  return { left, right, seconds };
}

/** Every output's judge: true-peak overs of both channels by the addon's independent 8x meter. */
export function overs(
  left: Float32Array,
  right: Float32Array,
  ceilingDb: number,
): { overs: number; maxDbtp: number } {
  const l = addon.countOvers(left, ceilingDb);
  const r = addon.countOvers(right, ceilingDb);
  return { overs: l.overs + r.overs, maxDbtp: Math.max(l.maxDbtp, r.maxDbtp) };
}
