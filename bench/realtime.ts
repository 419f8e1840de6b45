/**
 * The live path under time: the engine streams a clocked PulseAudio "interface" (null sinks,
 * test/setup/pulse.sh) for minutes while a program plays into it; counts input overflows (late
 * chunks), output dropouts (runs of digital silence inside the recorded program) and DSP load.
 */
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { meterValue } from '../engine/src/meter-layout.ts';
import { ChatterFilter } from '../engine/src/realtime/chatter-filter.ts';
import { LiveAudio } from '../engine/src/realtime/live-audio.ts';
import { CACHE, generated, hasCommand } from './material.ts';

export interface RealtimeFigures {
  seconds: number;
  blocks: number;
  expectedBlocks: number;
  inputOverflows: number;
  /** Output blocks the engine could not hand over in time (from its own timing). */
  outputUnderflows: number;
  /** Runs of digital silence inside the recorded program: what a listener would hear. */
  outputDropouts: number;
  /** Underflow / overflow status flags PortAudio itself printed (its start-up priming counts one). */
  portAudioUnderflows?: number;
  portAudioOverflows?: number;
  dspLoadMean: number;
  dspLoadMax: number;
}

function available(): boolean {
  try {
    execFileSync('pulseaudio', ['--version'], { stdio: 'ignore' });
    return hasCommand('ffmpeg') || true;
  } catch {
    return false;
  }
}

/** Dropouts: runs of at least 64 exact zeros between the first and last sound. */
function countDropouts(file: string): number {
  const bytes = fs.readFileSync(file);
  const frames = Math.floor(bytes.length / 8);
  const sample = (i: number) => bytes.readFloatLE(i * 8);
  let first = 0;
  while (first < frames && Math.abs(sample(first)) < 1e-4) first++;
  let last = frames - 1;
  while (last > first && Math.abs(sample(last)) < 1e-4) last--;
  let dropouts = 0;
  let run = 0;
  for (let i = first; i <= last; i++) {
    if (sample(i) === 0) {
      run++;
      if (run === 64) dropouts++;
    } else {
      run = 0;
    }
  }
  return dropouts;
}

export interface LiveRunOptions {
  /** Busy processes competing for the cores meanwhile (a streaming PC's browser, OBS, encoder). */
  hogs?: number;
  /** false: the audio thread stays at normal priority. */
  raisePriority?: boolean;
}

/**
 * A desktop's audio server runs ahead of ordinary work (rtkit grants PulseAudio and PipeWire
 * real-time or high priority); the private server started here gets the like, so a run under load
 * measures the rig's audio path rather than a starved server's clock.
 */
function raiseAudioServer(runtime: string): void {
  for (const pid of fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'pulseaudio') continue;
      if (
        !fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`PULSE_RUNTIME_PATH=${runtime}`)
      )
        continue;
      raiseProcess(Number(pid));
    } catch {
      // Not ours, or gone: the server keeps its priority.
    }
  }
}

/** Every thread of `pid` ahead of ordinary work (the player and recorder stand in for the interface's hardware). */
function raiseProcess(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) os.setPriority(Number(tid), -15);
  } catch {
    // Gone already, or not permitted.
  }
}

export async function benchRealtime(
  seconds: number,
  block = 512,
  options: LiveRunOptions = {},
): Promise<RealtimeFigures | string> {
  if (!available()) return 'skipped: pulseaudio is not installed';
  const runtime = path.join(CACHE, 'pulse-runtime');
  const env = {
    ...process.env,
    PULSE_RUNTIME_PATH: runtime,
    PULSE_SOURCE: 'rig_in.monitor',
    PULSE_SINK: 'rig_out',
  };
  Object.assign(process.env, env); // the engine's worker inherits these
  execFileSync('bash', [path.resolve(import.meta.dirname, '../test/setup/pulse.sh')], {
    env,
    stdio: 'ignore',
  });
  // One program longer than the run: restarting a player between loops would leave gaps in the
  // input that the recording would show as dropouts of the rig's.
  raiseAudioServer(runtime);
  const program = generated(Math.ceil(seconds) + 10).file;
  const recording = path.join(CACHE, 'realtime-out.raw');
  const engine = new LiveAudio({
    block,
    source: { kind: 'device', input: 'pulse', output: 'pulse' },
    values: { 'limiter.gain': 6 },
    raisePriority: options.raisePriority,
  });
  await engine.start();
  const recorder = spawn(
    'parec',
    ['-d', 'rig_out.monitor', '--format=float32le', '--rate=48000', '--channels=2', recording],
    { env, stdio: 'ignore' },
  );
  const play = () => spawn('paplay', ['-d', 'rig_in', program], { env, stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const startFrame = engine.readMeters();
  const startBlocks = meterValue(startFrame, 'engine.blocks') || 0;
  const player = play();
  raiseProcess(player.pid);
  raiseProcess(recorder.pid);
  const hogs = Array.from({ length: options.hogs ?? 0 }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  for (const hog of hogs) hog.kill('SIGKILL');
  const end = engine.readMeters();
  player.kill('SIGTERM');
  recorder.kill('SIGTERM');
  await engine.stop();
  try {
    execFileSync('pulseaudio', ['--kill'], { env, stdio: 'ignore' });
  } catch {
    // gone already
  }
  return {
    seconds,
    blocks: meterValue(end, 'engine.blocks') - startBlocks,
    expectedBlocks: (seconds * 48000) / block,
    inputOverflows: meterValue(end, 'engine.inputOverflows'),
    outputUnderflows: meterValue(end, 'engine.outputUnderflows'),
    outputDropouts: countDropouts(recording),
    dspLoadMean: meterValue(end, 'engine.dspLoadMean'),
    dspLoadMax: meterValue(end, 'engine.dspLoadMax'),
  };
}

/**
 * The live run in a child process whose output passes the chatter filter: PortAudio and ALSA
 * print from native code, and the benchmark's report should stay readable.
 */
export async function benchRealtimeFiltered(
  seconds: number,
  options: LiveRunOptions = {},
): Promise<RealtimeFigures | string> {
  const args = [String(seconds), String(options.hogs ?? 0), String(options.raisePriority !== false)];
  const child = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), fileURLToPath(import.meta.url), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const out = new ChatterFilter();
  const err = new ChatterFilter({ dropBlankLines: true });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += out.push(chunk)));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => process.stderr.write(err.push(chunk)));
  await new Promise((resolve) => child.once('close', resolve));
  text += out.flush();
  const result = text.split('\n').find((line) => line.startsWith('RESULT '));
  if (!result) return `failed: ${text.trim().split('\n').slice(-3).join(' | ') || 'no result'}`;
  const figures = JSON.parse(result.slice(7)) as RealtimeFigures | string;
  if (typeof figures === 'string') return figures;
  return {
    ...figures,
    portAudioUnderflows: out.outputUnderflows + err.outputUnderflows,
    portAudioOverflows: out.inputOverflows + err.inputOverflows,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [seconds = '300', hogs = '0', raisePriority = 'true'] = process.argv.slice(2);
  const figures = await benchRealtime(Number(seconds), 512, {
    hogs: Number(hogs),
    raisePriority: raisePriority === 'true',
  });
  console.log(`RESULT ${JSON.stringify(figures)}`);
  process.exit(0); // a worker may linger in the audio driver
}
