/** Peers run on the same input in the same run: ffmpeg's filters and LV2 limiters through ffmpeg. */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { WavReader } from '../engine/src/wav.ts';
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

/** All peers drive +6 dB into a -1 dBTP (or -1 dBFS) ceiling, like our limiter in the benchmark. */
export const PEERS: Peer[] = [
  {
    name: 'ffmpeg equalizer + acompressor + alimiter',
    filter: 'volume=6dB,equalizer=f=100:t=q:w=0.7:g=2,equalizer=f=3000:t=q:w=1:g=-2,acompressor=threshold=0.25:ratio=2:attack=10:release=300,alimiter=limit=0.891:level=disabled',
    available: () => true,
  },
  {
    name: 'LSP limiter stereo, 4x oversampling',
    filter: lv2('http://lsp-plug.in/plugins/lv2/limiter_stereo', 'g_in=1.995|th=0.891|ovs=15|alr=0'),
    available: () => fs.existsSync('/usr/lib/lv2/lsp-plugins.lv2') && hasLv2Filter(),
  },
  {
    name: 'x42 dpl, true-peak mode',
    filter: lv2('http://gareus.org/oss/lv2/dpl#stereo', 'gain=6|threshold=-1|truepeak=1'),
    available: () => fs.existsSync('/usr/lib/lv2/dpl.lv2') && hasLv2Filter(),
  },
];

function timedFfmpeg(args: string[]): number {
  const start = process.hrtime.bigint();
  execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-threads', '1', '-filter_threads', '1', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
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
  const output = path.join(CACHE, `peer-${tag}.wav`);
  const seconds = timedFfmpeg(['-i', input, '-af', filter, '-c:a', 'pcm_f32le', '-y', output]);
  const decodeSeconds = timedFfmpeg(['-i', input, '-af', 'anull', '-c:a', 'pcm_f32le', '-y', path.join(CACHE, 'peer-null.wav')]);
  const reader = WavReader.open(output);
  const { left, right } = reader.read(reader.info.frames);
  reader.close();
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
  const run = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-threads', '1', '-i', input, '-af', 'ebur128=peak=true', '-f', 'null', '-'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { ...parseSummary(run.stderr ?? ''), seconds };
}

function parseSummary(stderr: string): Omit<Ebur128, 'seconds'> {
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  const number = (label: RegExp) => Number(summary.match(label)?.[1] ?? NaN);
  return { integrated: number(/I:\s+(-?[\d.]+) LUFS/), lra: number(/LRA:\s+(-?[\d.]+) LU/), truePeak: number(/Peak:\s+(-?[\d.]+) dBFS/) };
}
