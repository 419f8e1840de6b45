/**
 * `npm run bench`: speed of the chain, each processor and the meters in x real time, with peers
 * run on the same input in the same run (ffmpeg filters, LSP and x42 limiters through ffmpeg's
 * lv2 filter) when installed, true-peak overs of every output counted by an independent 8x judge,
 * and per-block process times against the block deadline.
 *
 * Flags: --music FILE (real material), --seconds N (length of real music, default 600),
 * --no-peers, --live-seconds N (the PulseAudio live run, default 300), --only SECTIONS (comma
 * separated: chain, peers, meters, blocks, live, controller, dashboard, quality, delivery), --controller-seconds N
 * (the sustained control-event run, default 60), --live-load-seconds N (each of the two live runs
 * against busy processes, default 60; 0 skips them).
 *
 * `quality` (issue 11): the limiter against its peers (x42 dpl, LSP, alimiter) on THD+N, SMPTE
 * IMD and pumping of generated signals, and on the real music driven to -14, -9 and -7 LUFS
 * (loudness reached, 8x overs, max dBTP, LRA, PLR); under 2 minutes with --seconds 120 on two cores.
 *
 * `delivery` (issue 14): plain against codec-safe masters and ffmpeg's two-pass loudnorm, each
 * decoded through six codecs (bench/delivery.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MasteringChain } from '../engine/src/chain.ts';
import { LoudnessAnalyzer } from '../engine/src/loudness.ts';
import type { ParameterValues } from '../engine/src/params.ts';
import { CACHE, generated, hasCommand, music, type Material } from './material.ts';
import { PEERS, ffmpegEbur128, overs, runPeer } from './peers.ts';
import { STAGES, only } from './stages.ts';
import { benchController } from './controller.ts';
import { benchDashboard } from './dashboard.ts';
import { benchRealtimeFiltered } from './realtime.ts';
import { benchQuality } from './quality.ts';
import { benchDelivery } from './delivery.ts';

const { values: flags } = parseArgs({
  options: {
    music: { type: 'string' },
    seconds: { type: 'string', default: '600' },
    'no-peers': { type: 'boolean', default: false },
    'live-seconds': { type: 'string', default: '300' },
    only: { type: 'string' },
    'controller-seconds': { type: 'string', default: '60' },
    'live-load-seconds': { type: 'string', default: '60' },
  },
});

const results: Record<string, unknown> = {};
const log = (line = '') => console.log(line);
const x = (value: number) => `${value.toFixed(0)}x`;

/** Settings that make each processor work (a flat EQ or an idle image stage would cost nothing). */
const ACTIVE: Record<(typeof STAGES)[number], ParameterValues> = {
  eq: {
    'eq.hp.slope': 2,
    'eq.lowShelf.gain': 2,
    'eq.bell1.gain': -3,
    'eq.bell2.gain': 3,
    'eq.bell3.gain': -2,
    'eq.highShelf.gain': 2,
  },
  comp: {},
  image: { 'image.width': 120, 'image.bassMono.on': 1 },
  character: { 'character.drive': 12, 'character.mix': 100 },
  limiter: { 'limiter.gain': 6 },
};

/** CPU seconds of process() over the whole material, best of `runs` (block 512, fresh chain each run). */
function timeChain(
  material: Material,
  values: ParameterValues,
  runs = 3,
): { seconds: number; left: Float32Array; right: Float32Array } {
  let best = Infinity;
  let out = { left: material.left, right: material.right };
  for (let run = 0; run < runs; run++) {
    const chain = new MasteringChain({ sampleRate: material.sampleRate, maxBlock: 512, values });
    const left = material.left.slice();
    const right = material.right.slice();
    const start = process.hrtime.bigint();
    for (let i = 0; i < left.length; i += 512)
      chain.process(left.subarray(i, i + 512), right.subarray(i, i + 512));
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
    out = { left: left.subarray(chain.latencySamples), right: right.subarray(chain.latencySamples) };
  }
  return { seconds: best, ...out };
}

function benchChain(material: Material): void {
  log(`\n## Chain speed on ${material.name} (48 kHz stereo, one core, x real time)`);
  const whole = timeChain(material, {});
  const baseline = timeChain(material, only());
  const table: Record<string, number> = {
    'whole chain (defaults)': material.seconds / whole.seconds,
    'meters + plumbing (all stages bypassed)': material.seconds / baseline.seconds,
  };
  for (const stage of STAGES) {
    const t = timeChain(material, { ...only(stage), ...ACTIVE[stage] });
    // A processor's own cost: the chain with only it active, less the chain with nothing active.
    table[`${stage} alone`] = material.seconds / Math.max(1e-9, t.seconds - baseline.seconds);
  }
  for (const [name, speed] of Object.entries(table)) log(`  ${name.padEnd(42)} ${x(speed).padStart(8)}`);
  results[`chain: ${material.name}`] = table;
}

function benchPeers(material: Material): void {
  if (flags['no-peers'] || !hasCommand('ffmpeg')) {
    log(`\n## Peers: skipped (${flags['no-peers'] ? '--no-peers' : 'ffmpeg not installed'})`);
    return;
  }
  log(`\n## Peers on ${material.name}: +6 dB drive into a -1 dBTP ceiling, single thread`);
  const ours = timeChain(material, { 'limiter.gain': 6 }, 2);
  const ourLimiter = timeChain(material, { ...only('limiter'), 'limiter.gain': 6 }, 2);
  const baseline = timeChain(material, only(), 2);
  const rows: Array<{ name: string; speed: number; net?: number; overs: number; maxDbtp: number }> = [];
  const o = overs(ours.left, ours.right, -1);
  rows.push({
    name: 'rig: whole chain',
    speed: material.seconds / ours.seconds,
    overs: o.overs,
    maxDbtp: o.maxDbtp,
  });
  const lo = overs(ourLimiter.left, ourLimiter.right, -1);
  rows.push({
    name: 'rig: limiter alone',
    speed: material.seconds / Math.max(1e-9, ourLimiter.seconds - baseline.seconds),
    overs: lo.overs,
    maxDbtp: lo.maxDbtp,
  });
  for (const peer of PEERS) {
    if (!peer.available()) {
      log(`  ${peer.name}: skipped (not installed)`);
      continue;
    }
    const run = runPeer(material.file, peer.filter, peer.name.split(' ')[0].toLowerCase());
    const po = overs(run.left, run.right, -1);
    rows.push({
      name: peer.name,
      speed: material.seconds / run.seconds,
      net: material.seconds / Math.max(1e-9, run.seconds - run.decodeSeconds),
      overs: po.overs,
      maxDbtp: po.maxDbtp,
    });
  }
  log(
    `  ${'processor'.padEnd(42)} ${'speed'.padStart(8)} ${'net of decode'.padStart(14)} ${'8x overs'.padStart(10)} ${'max dBTP'.padStart(9)}`,
  );
  for (const r of rows) {
    log(
      `  ${r.name.padEnd(42)} ${x(r.speed).padStart(8)} ${(r.net ? x(r.net) : '').padStart(14)} ${String(r.overs).padStart(10)} ${r.maxDbtp.toFixed(2).padStart(9)}`,
    );
  }
  const find = (prefix: string) => rows.find((r) => r.name.startsWith(prefix));
  const ratio = (a?: (typeof rows)[number], b?: (typeof rows)[number]) =>
    a && b ? (a.speed / (b.net ?? b.speed)).toFixed(2) : 'n/a';
  log(
    `  ratios: whole chain / ffmpeg chain ${ratio(find('rig: whole'), find('ffmpeg'))}, limiter / x42 dpl ${ratio(find('rig: limiter'), find('x42'))}, limiter / LSP ${ratio(find('rig: limiter'), find('LSP'))} (peers net of decode)`,
  );
  results[`peers: ${material.name}`] = rows;
}

function benchMeters(material: Material): void {
  log(`\n## Metering on ${material.name}`);
  let best = Infinity;
  let report;
  for (let run = 0; run < 3; run++) {
    const analyzer = new LoudnessAnalyzer(material.sampleRate);
    const start = process.hrtime.bigint();
    for (let i = 0; i < material.left.length; i += 512)
      analyzer.push(material.left.subarray(i, i + 512), material.right.subarray(i, i + 512));
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
    report = analyzer.report();
  }
  const speed = material.seconds / best;
  log(`  rig meters (one tap: loudness, true peak, RMS, correlation, spectrum): ${x(speed)} real time`);
  log(`  rig: I ${report!.integratedLufs} LUFS, LRA ${report!.lra} LU, TP ${report!.truePeakDbtp} dBTP`);
  const row: Record<string, number | string> = { speed };
  if (hasCommand('ffmpeg') && !flags['no-peers']) {
    const ff = ffmpegEbur128(material.file);
    log(
      `  ffmpeg ebur128=peak=true: ${x(material.seconds / ff.seconds)} real time (including decode): I ${ff.integrated} LUFS, LRA ${ff.lra} LU, TP ${ff.truePeak} dBTP`,
    );
    log(
      `  differences (rig - ffmpeg): I ${(report!.integratedLufs! - ff.integrated).toFixed(2)} LU, LRA ${(report!.lra! - ff.lra).toFixed(2)} LU, TP ${(report!.truePeakDbtp! - ff.truePeak).toFixed(2)} dB; speed ratio ${(speed / (material.seconds / ff.seconds)).toFixed(1)}`,
    );
    Object.assign(row, {
      ffmpegSpeed: material.seconds / ff.seconds,
      dI: report!.integratedLufs! - ff.integrated,
      dLra: report!.lra! - ff.lra,
      dTp: report!.truePeakDbtp! - ff.truePeak,
    });
  }
  results[`meters: ${material.name}`] = row;
}

/** Per-block process() times at small blocks while parameters change 1000 times per second. */
function benchBlocks(material: Material): void {
  log(`\n## Per-block process time on ${material.name}, 1000 parameter changes per second of audio`);
  log(
    `  ${'block'.padStart(6)} ${'deadline'.padStart(10)} ${'p50'.padStart(9)} ${'p99'.padStart(9)} ${'p99.9'.padStart(9)} ${'max'.padStart(9)}  p99.9 / deadline`,
  );
  for (const block of [64, 128, 256]) {
    const chain = new MasteringChain({ sampleRate: material.sampleRate, maxBlock: block });
    const left = material.left.slice(0, material.sampleRate * 60);
    const right = material.right.slice(0, material.sampleRate * 60);
    const times: number[] = [];
    const changeEvery = material.sampleRate / 1000;
    let nextChange = 0;
    for (let i = 0; i + block <= left.length; i += block) {
      while (nextChange < i + block) {
        chain.set('eq.bell2.gain', 6 * Math.sin(nextChange / 4800));
        nextChange += changeEvery;
      }
      const start = process.hrtime.bigint();
      chain.process(left.subarray(i, i + block), right.subarray(i, i + block));
      times.push(Number(process.hrtime.bigint() - start) / 1e3);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
    const deadline = (block / material.sampleRate) * 1e6;
    log(
      `  ${String(block).padStart(6)} ${`${deadline.toFixed(0)} us`.padStart(10)} ${`${at(0.5).toFixed(1)} us`.padStart(9)} ${`${at(0.99).toFixed(1)} us`.padStart(9)} ${`${at(0.999).toFixed(1)} us`.padStart(9)} ${`${times[times.length - 1].toFixed(0)} us`.padStart(9)}  ${((at(0.999) / deadline) * 100).toFixed(1)} %`,
    );
    results[`blocks ${block}`] = {
      p50: at(0.5),
      p99: at(0.99),
      p999: at(0.999),
      max: times[times.length - 1],
      deadline,
    };
  }
}

const SECTIONS = [
  'chain',
  'peers',
  'meters',
  'blocks',
  'live',
  'controller',
  'dashboard',
  'quality',
  'delivery',
] as const;
const chosen = new Set(flags.only ? flags.only.split(',') : SECTIONS);
for (const name of chosen) {
  if (!(SECTIONS as readonly string[]).includes(name))
    throw new Error(`--only ${flags.only}: unknown section "${name}" (sections: ${SECTIONS.join(', ')})`);
}
const wants = (section: (typeof SECTIONS)[number]) => chosen.has(section);

log('# rig benchmark');
const materials: Material[] = [generated(60)];
if (wants('chain') || wants('peers') || wants('meters') || wants('quality') || wants('delivery')) {
  const real = music(Number(flags.seconds), flags.music);
  if (real) materials.push(real);
  else log("(no real music: install ffmpeg and Debian's hyperrogue-music, or pass --music FILE)");
}
if (wants('chain')) for (const material of materials) benchChain(material);
if (wants('peers')) benchPeers(materials[materials.length - 1]);
if (wants('meters')) for (const material of materials) benchMeters(material);
if (wants('blocks')) benchBlocks(materials[0]);
if (wants('quality')) {
  const real = materials.length > 1 ? materials[materials.length - 1] : undefined;
  Object.assign(
    results,
    benchQuality({ music: real, peers: !flags['no-peers'] && hasCommand('ffmpeg'), log }),
  );
}

if (wants('delivery')) {
  const real = materials.length > 1 ? materials[materials.length - 1] : undefined;
  if (!real || !hasCommand('ffmpeg')) log('\n## Delivery: skipped (needs ffmpeg and real music)');
  else Object.assign(results, await benchDelivery(real, log));
}

if (wants('live')) {
  log(`\n## Live path: ${flags['live-seconds']} s through a clocked PulseAudio interface (512-frame blocks)`);
  const live = await benchRealtimeFiltered(Number(flags['live-seconds']));
  if (typeof live === 'string') log(`  ${live}`);
  else {
    log(
      `  blocks ${live.blocks} of ${live.expectedBlocks.toFixed(0)} expected; xruns: input overflows ${live.inputOverflows}, output underflows ${live.outputUnderflows}; silent gaps in the recording ${live.outputDropouts}`,
    );
    log(
      `  PortAudio's own status flags: ${live.portAudioUnderflows} output underflow, ${live.portAudioOverflows} input overflow (start-up priming counts one)`,
    );
    log(
      `  DSP load mean ${(live.dspLoadMean * 100).toFixed(2)} %, max ${(live.dspLoadMax * 100).toFixed(1)} %`,
    );
    results.live = live;
    const loadSeconds = Number(flags['live-load-seconds']);
    if (loadSeconds > 0) {
      // As on a streaming PC (browser, OBS, encoder): four busy processes per core, once with the
      // audio thread's raised priority and once without it.
      const hogs = 4 * os.availableParallelism();
      log(
        `  under load (${hogs} busy processes, ${loadSeconds} s each): xruns input overflows / output underflows / silent gaps`,
      );
      for (const raisePriority of [true, false]) {
        const loaded = await benchRealtimeFiltered(loadSeconds, { hogs, raisePriority });
        if (typeof loaded === 'string')
          log(`    ${raisePriority ? 'raised priority' : 'normal priority'}: ${loaded}`);
        else
          log(
            `    ${(raisePriority ? 'audio thread at raised priority' : 'audio thread at normal priority').padEnd(34)} ${loaded.inputOverflows} / ${loaded.outputUnderflows} / ${loaded.outputDropouts}`,
          );
        results[`live under load, ${raisePriority ? 'raised' : 'normal'} priority`] = loaded;
      }
    }
  }
}

fs.mkdirSync(CACHE, { recursive: true });
if (wants('controller')) {
  const seconds = Number(flags['controller-seconds']);
  log(`\n## Control surfaces: raw MIDI bytes -> mapping engine -> parameter store`);
  const c = await benchController({ seconds });
  log(
    `  event -> parameter latency p50 ${c.latencyP50Us.toFixed(1)} us, p99 ${c.latencyP99Us.toFixed(1)} us (goal: p99 under 1 ms)`,
  );
  log(
    `  sustained ${c.sustainedEventsPerSecond.toFixed(0)} events/s for ${c.seconds.toFixed(0)} s: heap ${c.heapBeforeMb.toFixed(1)} -> ${c.heapAfterMb.toFixed(1)} MB, RSS ${c.rssBeforeMb.toFixed(1)} -> ${c.rssAfterMb.toFixed(1)} MB`,
  );
  results.controller = c;
}

if (wants('dashboard')) {
  log(`\n## Dashboard: 20 WebSocket clients, meters at 30 Hz`);
  const d = await benchDashboard({ seconds: 20, clients: 20, meterHz: 30 });
  log(
    `  meter frame ${d.frameBytes} bytes (goal: at most 1024), received at ${d.frameRateHz.toFixed(1)} Hz per client`,
  );
  log(
    `  server main thread ${d.mainThreadCpuPercent.toFixed(2)} % of a core with ${d.clients} clients (the synthetic meter source alone: ${d.meterSourceCpuPercent.toFixed(2)} %; goal: under 5 %)`,
  );
  log(
    `  meter update -> client latency p50 ${d.latencyP50Ms.toFixed(1)} ms, p99 ${d.latencyP99Ms.toFixed(1)} ms (goal: under 50 ms)`,
  );
  results.dashboard = d;
}

// A partial run (--only) updates its own sections and keeps the others' last figures.
const resultsFile = path.join(CACHE, 'results.json');
const earlier = fs.existsSync(resultsFile)
  ? (JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as Record<string, unknown>)
  : {};
fs.writeFileSync(resultsFile, JSON.stringify({ ...earlier, ...results }, null, 2));
log(`\nfigures also in ${path.relative(process.cwd(), path.join(CACHE, 'results.json'))}`);
process.exit(0); // the live run's worker may linger in the audio driver
