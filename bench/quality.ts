/**
 * The `quality` section of the benchmark (issue 11): the rig's true-peak limiter measured side by
 * side with its peers (x42 dpl in true-peak mode, LSP limiter, ffmpeg's alimiter, each alone,
 * through ffmpeg) on generated signals (THD+N, SMPTE IMD, pumping) and on real music driven to
 * loudness targets (loudness reached, 8x overs, max dBTP, LRA, PLR). Every processor gets the
 * same input, the same drive and the same -1 dBTP ceiling; every output is judged by the same
 * meters (engine/src/analysis/distortion.ts, the rig's loudness meter, the addon's 8x over counter).
 */
import { MasteringChain } from '../engine/src/chain.ts';
import {
  kickAndTone,
  pumpingMs,
  sine,
  smpteImd,
  smpteImdSignal,
  thdN,
} from '../engine/src/analysis/distortion.ts';
import { measureLoudness } from '../engine/src/loudness.ts';
import { decideDrive, MAX_PASSES, TOLERANCE_LU, type DrivePass } from '../engine/src/drive-search.ts';
import { getSpec, type ParameterValues } from '../engine/src/params.ts';
import type { Material } from './material.ts';
import { LIMITER_PEERS, limiterFilter, overs, runFilterOnFile, runFilterOnSignal } from './peers.ts';
import { only } from './stages.ts';

const SR = 48000;
const CEILING_DBTP = -1;
const BLOCK = 4096;

type Stereo = { left: Float32Array; right: Float32Array };

/** One processor under test: how it runs on samples and on a file, with a drive in dB. */
interface Processor {
  name: string;
  minDriveDb: number;
  maxDriveDb: number;
  onSignal: (left: Float32Array, right: Float32Array, driveDb: number) => Stereo;
  onFile: (material: Material, driveDb: number) => Stereo;
}

const LIMITER_ALONE = only('limiter');

/** The chain over whole signals (copies), latency removed, the tail flushed with silence. */
function renderChain(left: Float32Array, right: Float32Array, values: ParameterValues): Stereo {
  const chain = new MasteringChain({ sampleRate: SR, maxBlock: BLOCK, values });
  const latency = chain.latencySamples;
  const l = new Float32Array(left.length + latency);
  const r = new Float32Array(left.length + latency);
  l.set(left);
  r.set(right);
  chain.processBuffer(l, r);
  return { left: l.subarray(latency), right: r.subarray(latency) };
}

function rig(name: string, values: ParameterValues): Processor {
  const spec = getSpec('limiter.gain');
  const run = (left: Float32Array, right: Float32Array, driveDb: number) =>
    renderChain(left, right, { ...values, 'limiter.ceiling': CEILING_DBTP, 'limiter.gain': driveDb });
  return {
    name,
    minDriveDb: spec.min,
    maxDriveDb: spec.max,
    onSignal: run,
    onFile: (m, driveDb) => run(m.left, m.right, driveDb),
  };
}

function processors(withPeers: boolean, log: (line?: string) => void): Processor[] {
  const list = [rig('rig: limiter alone', LIMITER_ALONE), rig('rig: whole chain (defaults)', {})];
  if (!withPeers) return list;
  for (const peer of LIMITER_PEERS) {
    if (!peer.available()) {
      log(`  ${peer.name}: skipped (not installed)`);
      continue;
    }
    list.push({
      name: peer.name,
      minDriveDb: peer.minDriveDb,
      maxDriveDb: peer.maxDriveDb,
      onSignal: (left, right, driveDb) =>
        runFilterOnSignal(left, right, SR, limiterFilter(peer, driveDb, CEILING_DBTP), peer.tag),
      onFile: (m, driveDb) => runFilterOnFile(m.file, limiterFilter(peer, driveDb, CEILING_DBTP), peer.tag),
    });
  }
  return list;
}

function table(
  log: (line?: string) => void,
  columns: string[],
  rows: Array<[string, Array<string | number>]>,
): void {
  const width = Math.max(34, ...rows.map(([name]) => name.length + 2));
  log(`  ${''.padEnd(width)}${columns.map((c) => c.padStart(12)).join('')}`);
  for (const [name, cells] of rows)
    log(
      `  ${name.padEnd(width)}${cells.map((c) => (typeof c === 'number' ? c.toFixed(1) : c).padStart(12)).join('')}`,
    );
}

// Steady state: the whole chain's compressor lets the full-scale onset through, and the limiter's
// recovery from it (1.3 s with the old limiter) is pumping, measured below, not distortion.
const SIGNAL_S = 3.5;
const SETTLE_S = 1.5;
const THD_CASES = [50, 100, 1000].flatMap((hz) => [6, 12].map((driveDb) => ({ hz, driveDb })));

interface TargetRow {
  targetLufs: number;
  driveDb: number;
  passes: number;
  integratedLufs: number | null;
  overs: number;
  maxDbtp: number;
  lra: number | null;
  plr: number | null;
}

/**
 * The drive search of `rig master` (engine/src/drive-search.ts) for every processor alike: first
 * guess from the distance to the target (or the previous target's drive), then its secant steps.
 */
function driveToTarget(
  p: Processor,
  material: Material,
  targetLufs: number,
  firstGuessDb: number,
): TargetRow {
  let drive = Math.min(p.maxDriveDb, Math.max(p.minDriveDb, firstGuessDb));
  const tried: DrivePass[] = [];
  let best: TargetRow | undefined;
  for (;;) {
    const out = p.onFile(material, drive);
    const report = measureLoudness(out.left, out.right, SR);
    const lufs = report.integratedLufs ?? -Infinity;
    const o = overs(out.left, out.right, CEILING_DBTP);
    const row: TargetRow = {
      targetLufs,
      driveDb: drive,
      passes: tried.length + 1,
      integratedLufs: report.integratedLufs,
      overs: o.overs,
      maxDbtp: o.maxDbtp,
      lra: report.lra,
      plr: report.plr,
    };
    if (!best || Math.abs(lufs - targetLufs) < Math.abs((best.integratedLufs ?? -Infinity) - targetLufs))
      best = row;
    best.passes = row.passes;
    tried.push({ gainDb: drive, lufs });
    const decision = decideDrive(tried, targetLufs, { min: p.minDriveDb, max: p.maxDriveDb });
    if ('stop' in decision) return best;
    drive = decision.next;
  }
}

export interface QualityOptions {
  music?: Material;
  peers: boolean;
  log: (line?: string) => void;
}

export function benchQuality({ music, peers, log }: QualityOptions): Record<string, unknown> {
  const results: Record<string, unknown> = {};
  const list = processors(peers, log);

  log(
    `\n## Quality: THD+N of sines at 0 dBFS peak, driven into ${CEILING_DBTP} dBTP (dB re the fundamental)`,
  );
  log(
    `  method: ${SIGNAL_S} s sine, ${SETTLE_S} s skipped (steady state), least-squares notch of the exact fundamental over whole periods, residual RMS / fundamental RMS, full band`,
  );
  const thd: Record<string, Record<string, number>> = {};
  for (const p of list) {
    thd[p.name] = {};
    for (const { hz, driveDb } of THD_CASES) {
      const x = sine(SR, SIGNAL_S, hz, 1);
      thd[p.name][`${hz} Hz +${driveDb} dB`] = thdN(p.onSignal(x, x, driveDb).left, SR, hz, {
        skipSeconds: SETTLE_S,
      });
    }
  }
  table(
    log,
    THD_CASES.map((c) => `${c.hz}Hz +${c.driveDb}`),
    list.map((p) => [p.name, Object.values(thd[p.name])]),
  );
  results['quality: THD+N dB'] = thd;

  log(`\n## Quality: SMPTE RP120 IMD and pumping, +6 dB drive into ${CEILING_DBTP} dBTP`);
  log(
    `  IMD method: 60 Hz + 7 kHz at 4:1, peak 0 dBFS, ${SIGNAL_S} s, ${SETTLE_S} s skipped; the 7 kHz band (+-500 Hz) demodulated, its 60/120/180 Hz AM relative to the carrier`,
  );
  log(
    '  pumping method: 60 Hz kick (1.0 peak, 46 ms decay) every 500 ms under a 3 kHz tone at -21 dBFS, 10 s; mean ms per period that',
  );
  log(
    '    the tone (band envelope, +-200 Hz) sits > 1 dB below input x drive; reference figures (issue 11): x42 dpl 56 ms, alimiter 52 ms, goal <= 50 ms',
  );
  const dynamics: Record<string, { imdDb: number; pumpingMs: number }> = {};
  const imdIn = smpteImdSignal(SR, SIGNAL_S, 1);
  const kick = kickAndTone(SR, 10);
  for (const p of list) {
    dynamics[p.name] = {
      imdDb: smpteImd(p.onSignal(imdIn, imdIn, 6).left, SR, { skipSeconds: SETTLE_S }),
      // Alignment does not matter here: the tone's input envelope is constant.
      pumpingMs: pumpingMs(kick, p.onSignal(kick, kick, 6).left, SR, 0, 6),
    };
  }
  table(
    log,
    ['IMD dB', 'pumping ms'],
    list.map((p) => [p.name, [dynamics[p.name].imdDb, dynamics[p.name].pumpingMs]]),
  );
  results['quality: IMD and pumping (+6 dB)'] = dynamics;

  if (!music) {
    log('\n## Quality on real music: skipped (no music material)');
    return results;
  }
  log(`\n## Quality on ${music.name}: drive found for each loudness target, ceiling ${CEILING_DBTP} dBTP`);
  log(
    `  method: secant search on the drive (<= ${MAX_PASSES} passes, on target within ${TOLERANCE_LU} LU); loudness, LRA, PLR by the rig's BS.1770 meter, overs by the addon's 8x judge (both channels)`,
  );
  const input = measureLoudness(music.left, music.right, SR);
  log(`  input: I ${input.integratedLufs} LUFS, LRA ${input.lra} LU, TP ${input.truePeakDbtp} dBTP`);
  const targets: Record<string, TargetRow[]> = {};
  for (const p of list) {
    targets[p.name] = [];
    let previous: TargetRow | undefined;
    for (const targetLufs of [-14, -9, -7]) {
      // First guess: the previous target's drive plus the distance, else the input's distance.
      const guess = previous
        ? previous.driveDb + (targetLufs - (previous.integratedLufs ?? previous.targetLufs))
        : targetLufs - (input.integratedLufs ?? targetLufs);
      previous = driveToTarget(p, music, targetLufs, guess);
      targets[p.name].push(previous);
    }
  }
  const fmt = (v: number | null, digits = 1) => (v === null ? 'n/a' : v.toFixed(digits));
  for (const targetLufs of [-14, -9, -7]) {
    log(`  target ${targetLufs} LUFS:`);
    table(
      log,
      ['drive dB', 'passes', 'I LUFS', '8x overs', 'max dBTP', 'LRA LU', 'PLR dB'],
      list.map((p) => {
        const r = targets[p.name].find((t) => t.targetLufs === targetLufs)!;
        return [
          p.name,
          [
            r.driveDb.toFixed(2),
            String(r.passes),
            fmt(r.integratedLufs, 2),
            String(r.overs),
            r.maxDbtp.toFixed(2),
            fmt(r.lra),
            fmt(r.plr),
          ],
        ];
      }),
    );
  }
  results[`quality: loudness targets on ${music.name}`] = targets;
  return results;
}
