/**
 * The knob path under load: raw MIDI bytes from a Behringer X-Touch Mini (its shipped mapping)
 * through the decoder and the mapping engine into the ParameterStore, with feedback encoded back
 * to bytes as an adapter would. Measures the latency from bytes in to the value being set (p50,
 * p99) over a sustained 2000 events/s, far more than two hands on eight encoders send, while a
 * "dashboard" also changes bound parameters ten times a second so feedback flows too; and the
 * heap/RSS before and after, to show the path holds no memory per event.
 *
 * `npx tsx bench/controller.ts [--seconds N]` (default 60). Memory is read after a full collection.
 */
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ParameterStore } from '../engine/src/parameter-store.ts';
import { Mapper } from '../controller/src/mapping/mapper.ts';
import { builtinMappingDir, decoderConfig, loadMapping } from '../controller/src/mapping/load.ts';
import { MidiDecoder, encodeFeedback } from '../controller/src/midi/bytes.ts';

export interface ControllerFigures {
  latencyP50Us: number;
  latencyP99Us: number;
  sustainedEventsPerSecond: number;
  seconds: number;
  heapBeforeMb: number;
  heapAfterMb: number;
  rssBeforeMb: number;
  rssAfterMb: number;
}

const EVENTS_PER_SECOND = 2000;
const WARMUP_SECONDS = 1;
/** X-Touch Mini factory layer A: encoders send CC 1-8 on channel 11 (status 0xBA). */
const STATUS = 0xb0 | 10;
const ENCODER_CCS = [1, 2, 3, 4, 5, 6, 7, 8];
const MB = 1024 * 1024;

/** A full collection, also when node was started without --expose-gc (the flag can be set at run time). */
function collectGarbage(): void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed();
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

function memory(): { heapMb: number; rssMb: number } {
  collectGarbage();
  const usage = process.memoryUsage();
  return { heapMb: usage.heapUsed / MB, rssMb: usage.rss / MB };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export async function benchController(options: { seconds?: number } = {}): Promise<ControllerFigures> {
  const seconds = options.seconds ?? 60;
  const mapping = loadMapping(path.join(builtinMappingDir(), 'behringer-x-touch-mini.json'));
  const store = new ParameterStore();
  let setAt = 0;
  let changes = 0;
  // Subscribed before the engine, so it hears each change first: the moment the value is set.
  store.subscribe(() => {
    setAt = performance.now();
    changes++;
  });
  let feedbackBytes = 0;
  const engine = new Mapper({
    mapping,
    store,
    surfaceId: 'bench',
    send: (message) => (feedbackBytes += encodeFeedback(message).length),
  });
  const decoder = new MidiDecoder(decoderConfig(mapping));
  const handle = engine.handle.bind(engine);
  const dashboardParams = ['comp.threshold', 'input.trim', 'limiter.ceiling'];

  const latenciesUs = new Float64Array(Math.ceil((seconds + 1) * EVENTS_PER_SECOND));
  let recorded = 0;
  const message = [STATUS, 0, 0];
  // Each encoder sweeps up and down its travel, as a turning hand does.
  const positions = new Int32Array(ENCODER_CCS.length).fill(64);
  const directions = new Int32Array(ENCODER_CCS.length).fill(1);
  let turned = 0;

  function turnOne(record: boolean): void {
    const encoder = turned++ % ENCODER_CCS.length;
    if (positions[encoder] + directions[encoder] > 127 || positions[encoder] + directions[encoder] < 0)
      directions[encoder] = -directions[encoder];
    positions[encoder] += directions[encoder];
    message[1] = ENCODER_CCS[encoder];
    message[2] = positions[encoder];
    const changesBefore = changes;
    const t0 = performance.now();
    decoder.feed(message, handle);
    // A stepped parameter (the ratio) changes only at its detents; only real changes have a latency.
    if (record && changes !== changesBefore && recorded < latenciesUs.length)
      latenciesUs[recorded++] = (setAt - t0) * 1000;
  }

  /** Sends events at EVENTS_PER_SECOND for `durationS`, in the small bursts a USB MIDI port delivers. */
  async function drive(durationS: number, record: boolean): Promise<{ events: number; elapsedS: number }> {
    const start = performance.now();
    let events = 0;
    let lastDashboardAt = start;
    for (;;) {
      const now = performance.now();
      const elapsedS = (now - start) / 1000;
      if (elapsedS >= durationS) return { events, elapsedS };
      const due = Math.floor(elapsedS * EVENTS_PER_SECOND) - events;
      for (let i = 0; i < due; i++) turnOne(record);
      events += due;
      if (now - lastDashboardAt >= 100) {
        lastDashboardAt = now;
        const id = dashboardParams[Math.floor(now / 100) % dashboardParams.length];
        store.set(id, store.get(id) === -1 ? -2 : -1, 'dashboard:bench');
      }
      await sleep(1);
    }
  }

  await drive(WARMUP_SECONDS, false);
  const before = memory();
  const run = await drive(seconds, true);
  engine.dispose();
  const after = memory();

  if (feedbackBytes === 0)
    throw new Error(
      'controller bench: no feedback was sent; the dashboard changes did not reach the surface',
    );
  const samples = latenciesUs.subarray(0, recorded).sort();
  return {
    latencyP50Us: percentile(samples, 0.5),
    latencyP99Us: percentile(samples, 0.99),
    sustainedEventsPerSecond: run.events / run.elapsedS,
    seconds: run.elapsedS,
    heapBeforeMb: before.heapMb,
    heapAfterMb: after.heapMb,
    rssBeforeMb: before.rssMb,
    rssAfterMb: after.rssMb,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
  const figures = await benchController({ seconds: Number(values.seconds) });
  const f = (value: number, digits = 1) => value.toFixed(digits);
  console.log(
    `## Controller path (X-Touch Mini bytes -> decoder -> mapping engine -> store), ${f(figures.seconds, 0)} s`,
  );
  console.log(
    `  latency bytes in -> value set   p50 ${f(figures.latencyP50Us)} us   p99 ${f(figures.latencyP99Us)} us`,
  );
  console.log(`  sustained                       ${f(figures.sustainedEventsPerSecond, 0)} events/s`);
  console.log(`  heap                            ${f(figures.heapBeforeMb)} -> ${f(figures.heapAfterMb)} MB`);
  console.log(`  rss                             ${f(figures.rssBeforeMb)} -> ${f(figures.rssAfterMb)} MB`);
}
