/**
 * The dashboard server under a room full of browsers: 20 WebSocket clients (in a child process,
 * so their CPU is not the server's) receive meters from a synthetic engine for ~20 s. Measures
 * the server process's CPU, the meter frame size, the frame rate each client receives, and the
 * latency from a meter update in the "engine" to its arrival in a client.
 *
 * Latency: the synthetic engine writes a sequence number into `engine.blocks` at each update and
 * remembers when; a client reading that number on arrival gives the age of what it shows. It
 * includes the wait for the next meter tick, as a real page's does. Both processes read the same
 * clock (performance.timeOrigin + performance.now()).
 *
 * `npx tsx bench/dashboard.ts [--seconds N] [--clients N] [--hz N]`
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { startDashboard } from '../dashboard/server/index.ts';
import { METER_FRAME_LENGTH, METER_LAYOUT } from '../engine/src/meter-layout.ts';
import { ParameterStore } from '../engine/src/parameter-store.ts';

export interface DashboardFigures {
  frameBytes: number;
  frameRateHz: number;
  clients: number;
  mainThreadCpuPercent: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** The synthetic engine's own share of the CPU figure (measured alone, no server ticking). */
  meterSourceCpuPercent: number;
}

const SEQUENCE_OFFSET = METER_LAYOUT.offsets['engine.blocks'];
// 512-frame blocks at 48 kHz: how often the real engine rewrites its meter frame.
const ENGINE_BLOCK_MS = (512 / 48000) * 1000;
const clock = () => performance.timeOrigin + performance.now();

interface ClientReport {
  frames: number;
  wrongSizedFrames: number;
  /** [sequence, arrival time] per frame. */
  arrivals: Array<[number, number]>;
}

type ParentMessage = { type: 'stop' };
type ChildMessage =
  { type: 'ready' } | { type: 'done'; reports: ClientReport[] } | { type: 'failed'; message: string };

/** The client side, run in the child process. */
async function runClients(port: number, token: string, count: number): Promise<void> {
  const reports: ClientReport[] = [];
  const sockets = await Promise.all(
    Array.from({ length: count }, () => {
      const report: ClientReport = { frames: 0, wrongSizedFrames: 0, arrivals: [] };
      reports.push(report);
      const socket = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`);
      socket.on('message', (data: Buffer, isBinary) => {
        if (!isBinary) return;
        const arrived = clock();
        report.frames++;
        if (data.byteLength !== METER_FRAME_LENGTH * 4) report.wrongSizedFrames++;
        report.arrivals.push([data.readFloatLE(SEQUENCE_OFFSET * 4), arrived]);
      });
      return new Promise<WebSocket>((resolve, reject) => {
        socket.once('open', () => resolve(socket));
        socket.once('error', reject);
      });
    }),
  );
  // Counting starts now, with every client connected.
  for (const report of reports) {
    report.frames = 0;
    report.arrivals.length = 0;
  }
  process.send!({ type: 'ready' } satisfies ChildMessage);
  process.on('message', (message: ParentMessage) => {
    if (message.type !== 'stop') return;
    for (const socket of sockets) socket.terminate();
    process.send!({ type: 'done', reports } satisfies ChildMessage, () => process.exit(0));
  });
}

/** A meter frame rewritten at the engine's block rate, with each update's time remembered by sequence number. */
class SyntheticEngine {
  readonly frame = new Float32Array(METER_FRAME_LENGTH).map((_, i) => -30 + (i % 40));
  readonly updatedAt = new Map<number, number>();
  private sequence = 0;
  private timer?: NodeJS.Timeout;

  start(): void {
    this.timer = setInterval(() => {
      this.sequence++;
      // A meter that moves; the rest of the frame keeps its values (what they are costs the server nothing).
      this.frame[METER_LAYOUT.offsets['output.momentaryLufs']] = -14 + Math.sin(this.sequence * 0.05);
      this.frame[SEQUENCE_OFFSET] = this.sequence;
      this.updatedAt.set(this.sequence, clock());
    }, ENGINE_BLOCK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  readMeters = (into: Float32Array): Float32Array => {
    into.set(this.frame);
    return into;
  };
}

/** CPU of this process over `ms` of wall time, as a percentage of one core. */
async function cpuPercentOver(ms: number): Promise<number> {
  const before = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const used = process.cpuUsage(before);
  return ((used.user + used.system) / 1000 / (performance.now() - started)) * 100;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function benchDashboard({
  seconds = 20,
  clients = 20,
  meterHz = 30,
}: { seconds?: number; clients?: number; meterHz?: number } = {}): Promise<DashboardFigures> {
  const engine = new SyntheticEngine();
  engine.start();
  const meterSourceCpuPercent = await cpuPercentOver(3000);

  const server = await startDashboard({
    store: new ParameterStore(),
    readMeters: engine.readMeters,
    status: () => ({
      engine: {
        device: 'synthetic',
        state: 'demo',
        sampleRate: 48000,
        blockFrames: 512,
        chainLatencyMs: 8,
        ioLatencyMs: ENGINE_BLOCK_MS,
      },
      surfaces: [],
      slot: 'A',
      snapshots: [],
      target: { preset: null, lufs: null, ceilingDbtp: null },
      learning: null,
    }),
    port: 0,
    meterHz,
    maxClients: clients,
  });
  let child: ChildProcess | undefined;
  try {
    child = fork(fileURLToPath(import.meta.url), [String(server.port), server.token, String(clients)], {
      execArgv: ['--import', import.meta.resolve('tsx')],
      env: { ...process.env, DASHBOARD_BENCH_ROLE: 'clients' },
    });
    const messages = child as ChildProcess & {
      once(event: 'message', listener: (m: ChildMessage) => void): ChildProcess;
    };
    const next = () =>
      new Promise<ChildMessage>((resolve, reject) => {
        messages.once('message', resolve);
        child!.once('exit', (code) => reject(new Error(`bench clients exited (${code}) before reporting`)));
      });
    const ready = await next();
    if (ready.type !== 'ready')
      throw new Error(`bench clients: ${ready.type === 'failed' ? ready.message : 'did not start'}`);

    const cpu = await cpuPercentOver(seconds * 1000);
    const stopped = next();
    child.send({ type: 'stop' } satisfies ParentMessage);
    const done = await stopped;
    if (done.type !== 'done') throw new Error('bench clients did not report');

    const latencies: number[] = [];
    let wrongSized = 0;
    for (const report of done.reports) {
      wrongSized += report.wrongSizedFrames;
      for (const [sequence, arrived] of report.arrivals) {
        const updated = engine.updatedAt.get(sequence);
        if (updated !== undefined) latencies.push(arrived - updated);
      }
    }
    if (wrongSized > 0) throw new Error(`${wrongSized} meter frames arrived with the wrong size`);
    latencies.sort((a, b) => a - b);
    const totalFrames = done.reports.reduce((sum, r) => sum + r.frames, 0);
    return {
      frameBytes: METER_FRAME_LENGTH * 4,
      frameRateHz: totalFrames / done.reports.length / seconds,
      clients: done.reports.length,
      mainThreadCpuPercent: cpu,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      meterSourceCpuPercent,
    };
  } finally {
    if (child && child.exitCode === null) child.kill();
    await server.close();
    engine.stop();
  }
}

const thisFile = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === thisFile) {
  if (process.env.DASHBOARD_BENCH_ROLE === 'clients') {
    const [port, token, count] = process.argv.slice(2);
    runClients(Number(port), token, Number(count)).catch((error: Error) => {
      process.send!({ type: 'failed', message: error.message } satisfies ChildMessage, () => process.exit(1));
    });
  } else {
    const { values } = parseArgs({
      options: {
        seconds: { type: 'string', default: '20' },
        clients: { type: 'string', default: '20' },
        hz: { type: 'string', default: '30' },
      },
    });
    const figures = await benchDashboard({
      seconds: Number(values.seconds),
      clients: Number(values.clients),
      meterHz: Number(values.hz),
    });
    console.log(`## Dashboard server: ${figures.clients} clients, ${values.seconds} s`);
    console.log(`  meter frame                     ${figures.frameBytes} bytes`);
    console.log(
      `  frames received per client      ${figures.frameRateHz.toFixed(1)} Hz (asked for ${values.hz})`,
    );
    console.log(
      `  server process CPU              ${figures.mainThreadCpuPercent.toFixed(2)} % of a core (synthetic engine alone: ${figures.meterSourceCpuPercent.toFixed(2)} %)`,
    );
    console.log(
      `  meter update -> client latency  p50 ${figures.latencyP50Ms.toFixed(1)} ms, p99 ${figures.latencyP99Ms.toFixed(1)} ms`,
    );
  }
}
