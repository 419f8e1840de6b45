/**
 * What every loop of the audio worker shares: the chain, the shared parameters and meters, the
 * block buffers, the stop flag, and the three things every loop does with them: process a block,
 * say it is ready, and stop. Everything here is allocated before the first block.
 */
import { parentPort } from 'node:worker_threads';
import { MasteringChain } from '../chain.ts';
import { DeviceState, METER_LAYOUT } from '../meter-layout.ts';
import { PARAMETER_IDS } from '../params.ts';
import type { AudioStream } from './port-audio.ts';
import { RecordRing } from './record-ring.ts';
import { SharedMeters } from './shared-meters.ts';
import { SharedParams } from './shared-params.ts';

// A stream whose server vanished never calls back from quit(); stop does not wait longer for it.
const kStopQuitTimeoutMs = 500;

export interface WorkerConfig {
  sampleRate: number;
  block: number;
  source:
    { kind: 'demo' } | { kind: 'file'; path: string } | { kind: 'device'; input: string; output: string };
  /** Demo or file: also play the master on this output device (name substring or id). */
  monitor?: string;
  params: SharedArrayBuffer;
  meters: SharedArrayBuffer;
  control: SharedArrayBuffer; // Int32 [0]: 1 = stop requested; [1]: meter resets requested so far
  record?: SharedArrayBuffer;
  /** The raw input, before the chain, for a safety copy of what came in. */
  recordInput?: SharedArrayBuffer;
  /** Which interface inputs (1-based) feed the stereo bus, e.g. [3, 4]. */
  channels?: [number, number];
  /** false: leave the audio thread at normal priority (the benchmark's comparison). */
  raisePriority?: boolean;
}

export interface WorkerContext {
  readonly config: WorkerConfig;
  readonly chain: MasteringChain;
  /** Parameter values from the main thread, with their change sequence. */
  readonly params: SharedParams;
  /** The meters the main thread reads; the chain writes its own straight into `frame`. */
  readonly meters: SharedMeters;
  /** `meters.frame`: the loops write the engine's health cells (device state, xruns) into it. */
  readonly frame: Float32Array;
  /** Int32 [0]: 1 = stop requested (see stopRequested); [1]: meter resets requested so far. */
  readonly control: Int32Array;
  /** The block buffers the loops fill and the chain processes in place, one block long. */
  readonly left: Float32Array;
  readonly right: Float32Array;
  /** The thread's scheduling priority, as reported to the main thread. */
  readonly priority: string;
  /** Blocks processed so far. */
  blocks: number;
  /** The engine's own I/O buffering, in the meters; set by announceReady. */
  ioLatencyMs: number;
  /** One block through the chain: parameter changes in, meters and health out, on to the recorders. */
  readonly processBlock: (blockLeft: Float32Array, blockRight: Float32Array, state: DeviceState) => void;
}

export function createWorkerContext(config: WorkerConfig, priority: string): WorkerContext {
  const params = new SharedParams(config.params);
  const meters = new SharedMeters(config.meters);
  const control = new Int32Array(config.control);
  const ring = config.record ? new RecordRing(undefined, config.record) : undefined;
  const inputRing = config.recordInput ? new RecordRing(undefined, config.recordInput) : undefined;
  const values = Object.fromEntries(PARAMETER_IDS.map((id, i) => [id, params.read(i)]));
  const chain = new MasteringChain({
    sampleRate: config.sampleRate,
    maxBlock: config.block,
    meterFrame: meters.frame,
    values,
  });
  const applied = new Float64Array(params.count);
  for (let i = 0; i < params.count; i++) applied[i] = params.read(i);
  let seenSequence = params.sequenceNumber;
  let seenMeterResets = 0;

  const frame = meters.frame;
  const off = METER_LAYOUT.offsets;
  frame[off['engine.inputOverflows']] = 0;
  frame[off['engine.outputUnderflows']] = 0;
  let loadMean = 0;
  let loadMax = 0;

  const ctx: WorkerContext = {
    config,
    chain,
    params,
    meters,
    frame,
    control,
    left: new Float32Array(config.block),
    right: new Float32Array(config.block),
    priority,
    blocks: 0,
    ioLatencyMs: (config.block / config.sampleRate) * 1000,
    processBlock: (blockLeft, blockRight, state) => {
      const sequence = params.sequenceNumber;
      if (sequence !== seenSequence) {
        seenSequence = sequence;
        for (let i = 0; i < params.count; i++) {
          const value = params.read(i);
          if (value !== applied[i]) {
            applied[i] = value;
            chain.setByIndex(i, value);
          }
        }
      }
      const meterResets = Atomics.load(control, 1);
      if (meterResets !== seenMeterResets) {
        // Integrated loudness, LRA, maxima and the worst DSP load start again (a new song, a new set).
        seenMeterResets = meterResets;
        chain.resetIntegrated();
        loadMax = 0;
      }
      inputRing?.push(blockLeft, blockRight);
      // performance.now() rather than hrtime.bigint(): a BigInt per block would be garbage.
      const t0 = performance.now();
      meters.beginWrite();
      chain.process(blockLeft, blockRight);
      const load = (performance.now() - t0) / 1000 / (blockLeft.length / config.sampleRate);
      loadMean += 0.01 * (load - loadMean);
      loadMax = Math.max(loadMax, load);
      ctx.blocks++;
      frame[off['engine.dspLoadMean']] = loadMean;
      frame[off['engine.dspLoadMax']] = loadMax;
      frame[off['engine.chainLatencyMs']] = (chain.latencySamples / config.sampleRate) * 1000;
      frame[off['engine.ioLatencyMs']] = ctx.ioLatencyMs;
      frame[off['engine.deviceState']] = state;
      frame[off['engine.blocks']] = ctx.blocks;
      meters.endWrite();
      ring?.push(blockLeft, blockRight);
    },
  };
  return ctx;
}

/** The main thread asked the worker to stop (checked once per block or tick, never blocking). */
export function stopRequested(ctx: WorkerContext): boolean {
  return Atomics.load(ctx.control, 0) !== 0;
}

/**
 * Tells the main thread the chain is running, with the engine's own I/O buffering
 * (`ioLatencySamples`, which the meters report from now on) and the devices in use.
 */
export function announceReady(
  ctx: WorkerContext,
  ioLatencySamples: number,
  devices: { input?: string; output?: string } = {},
): void {
  ctx.ioLatencyMs = (ioLatencySamples / ctx.config.sampleRate) * 1000;
  parentPort!.postMessage({
    type: 'ready',
    latencySamples: ctx.chain.latencySamples,
    ioLatencySamples,
    ...devices,
    priority: ctx.priority,
  });
}

/**
 * The one way out, whichever loop runs: the meters say Stopped, the given streams are quit one
 * after the other, and the thread ends. A stream whose server vanished never calls back; do not
 * wait for it forever.
 */
export function stopWorker(ctx: WorkerContext, streams: readonly AudioStream[] = []): void {
  ctx.frame[METER_LAYOUT.offsets['engine.deviceState']] = DeviceState.Stopped;
  const done = () => {
    parentPort!.postMessage({ type: 'stopped', blocks: ctx.blocks });
    process.exit(0);
  };
  if (streams.length === 0) return done();
  const timer = setTimeout(done, kStopQuitTimeoutMs);
  const quitFrom = (i: number): void =>
    i === streams.length ? (clearTimeout(timer), done()) : streams[i].quit(() => quitFrom(i + 1));
  quitFrom(0);
}
