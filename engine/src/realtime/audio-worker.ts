/**
 * The real-time loop: a worker thread that runs nothing but the chain. Each block: pick up
 * parameter changes from shared memory, fill the block from the source, process it in place
 * (the native chain writes the meters straight into shared memory), publish health, hand the
 * block to the recorder ring, and wait for the next block's deadline. Everything is allocated
 * before the loop starts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MasteringChain } from '../chain.ts';
import { DemoProgram } from '../demo-program.ts';
import { METER_LAYOUT } from '../meter-layout.ts';
import { PARAMETER_IDS } from '../params.ts';
import { WavReader } from '../wav.ts';
import { RecordRing } from './record-ring.ts';
import { SharedMeters } from './shared-meters.ts';
import { SharedParams } from './shared-params.ts';

export interface WorkerConfig {
  sampleRate: number;
  block: number;
  source: { kind: 'demo' } | { kind: 'file'; path: string };
  params: SharedArrayBuffer;
  meters: SharedArrayBuffer;
  control: SharedArrayBuffer; // Int32 [0]: 1 = stop requested
  record?: SharedArrayBuffer;
}

export const enum DeviceState {
  Starting = 0,
  Running = 1,
  Demo = 2,
  Lost = 3,
  Stopped = 4,
}

/** Where audio comes from: the generated demo, or a file looping forever. */
interface Source {
  fill(left: Float32Array, right: Float32Array): void;
}

function fileSource(path: string, sampleRate: number): Source {
  // Loaded whole once: a looping file plays from memory so the loop never touches the disk.
  const reader = WavReader.open(path);
  if (reader.info.sampleRate !== sampleRate) {
    reader.close();
    throw new Error(`${path}: ${reader.info.sampleRate} Hz does not match the engine's ${sampleRate} Hz (use --rate ${reader.info.sampleRate})`);
  }
  const { left, right } = reader.read(reader.info.frames);
  reader.close();
  if (left.length === 0) throw new Error(`${path}: no audio in it`);
  let position = 0;
  return {
    fill(outL, outR) {
      for (let i = 0; i < outL.length; i++) {
        outL[i] = left[position];
        outR[i] = right[position];
        position = position + 1 === left.length ? 0 : position + 1;
      }
    },
  };
}

function run(config: WorkerConfig): void {
  const params = new SharedParams(config.params);
  const meters = new SharedMeters(config.meters);
  const control = new Int32Array(config.control);
  const ring = config.record ? new RecordRing(undefined, config.record) : undefined;
  const values = Object.fromEntries(PARAMETER_IDS.map((id, i) => [id, params.read(i)]));
  const chain = new MasteringChain({ sampleRate: config.sampleRate, maxBlock: config.block, meterFrame: meters.frame, values });
  const source: Source = config.source.kind === 'file' ? fileSource(config.source.path, config.sampleRate) : new DemoProgram(config.sampleRate);
  const left = new Float32Array(config.block);
  const right = new Float32Array(config.block);
  const applied = new Float64Array(params.count);
  for (let i = 0; i < params.count; i++) applied[i] = params.read(i);
  let seenSequence = params.sequenceNumber;

  const frame = meters.frame;
  const off = METER_LAYOUT.offsets;
  const blockSeconds = config.block / config.sampleRate;
  const sleepCell = new Int32Array(new SharedArrayBuffer(4));
  let loadMean = 0;
  let loadMax = 0;
  let blocks = 0;

  parentPort!.postMessage({ type: 'ready', latencySamples: chain.latencySamples });

  const started = process.hrtime.bigint();
  while (Atomics.load(control, 0) === 0) {
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
    source.fill(left, right);
    const t0 = process.hrtime.bigint();
    meters.beginWrite();
    chain.process(left, right);
    const load = Number(process.hrtime.bigint() - t0) / 1e9 / blockSeconds;
    loadMean += 0.01 * (load - loadMean);
    loadMax = Math.max(loadMax, load);
    blocks++;
    frame[off['engine.dspLoadMean']] = loadMean;
    frame[off['engine.dspLoadMax']] = loadMax;
    frame[off['engine.chainLatencyMs']] = (chain.latencySamples / config.sampleRate) * 1000;
    frame[off['engine.ioLatencyMs']] = (config.block / config.sampleRate) * 1000;
    frame[off['engine.deviceState']] = DeviceState.Demo;
    frame[off['engine.blocks']] = blocks;
    frame[off['engine.inputOverflows']] = 0;
    frame[off['engine.outputUnderflows']] = 0;
    meters.endWrite();
    ring?.push(left, right);

    // Pace to the clock: sleep until this block's deadline (drift-free: measured from the start).
    const dueNs = started + BigInt(Math.round(blocks * blockSeconds * 1e9));
    const waitMs = Number(dueNs - process.hrtime.bigint()) / 1e6;
    if (waitMs > 0) Atomics.wait(sleepCell, 0, 0, waitMs);
  }
  frame[off['engine.deviceState']] = DeviceState.Stopped;
  parentPort!.postMessage({ type: 'stopped', blocks });
}


try {
  run(workerData as WorkerConfig);
} catch (error) {
  parentPort!.postMessage({ type: 'error', message: (error as Error).message });
}
