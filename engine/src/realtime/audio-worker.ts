/**
 * The real-time loop: a worker thread that runs nothing but the chain. Each block: pick up
 * parameter changes from shared memory, fill the block from the source, process it in place
 * (the native chain writes the meters straight into shared memory), publish health, hand the
 * block to the recorder ring, and wait for the next block's deadline. Everything is allocated
 * before the loop starts.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { MasteringChain } from '../chain.ts';
import { DemoProgram } from '../demo-program.ts';
import { METER_LAYOUT } from '../meter-layout.ts';
import { PARAMETER_IDS } from '../params.ts';
import { WavReader } from '../wav.ts';
import { RecordRing } from './record-ring.ts';
import { SharedMeters } from './shared-meters.ts';
import { SharedParams } from './shared-params.ts';
import { findDevice, type AudioDevice } from './devices.ts';

export interface WorkerConfig {
  sampleRate: number;
  block: number;
  source: { kind: 'demo' } | { kind: 'file'; path: string } | { kind: 'device'; input: string; output: string };
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
  const source: Source | undefined =
    config.source.kind === 'file' ? fileSource(config.source.path, config.sampleRate) : config.source.kind === 'demo' ? new DemoProgram(config.sampleRate) : undefined;
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

  const processBlock = (blockLeft: Float32Array, blockRight: Float32Array, state: DeviceState) => {
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
    const t0 = process.hrtime.bigint();
    meters.beginWrite();
    chain.process(blockLeft, blockRight);
    const load = Number(process.hrtime.bigint() - t0) / 1e9 / (blockLeft.length / config.sampleRate);
    loadMean += 0.01 * (load - loadMean);
    loadMax = Math.max(loadMax, load);
    blocks++;
    frame[off['engine.dspLoadMean']] = loadMean;
    frame[off['engine.dspLoadMax']] = loadMax;
    frame[off['engine.chainLatencyMs']] = (chain.latencySamples / config.sampleRate) * 1000;
    frame[off['engine.ioLatencyMs']] = (config.block / config.sampleRate) * 1000;
    frame[off['engine.deviceState']] = state;
    frame[off['engine.blocks']] = blocks;
    frame[off['engine.inputOverflows']] = 0;
    frame[off['engine.outputUnderflows']] = 0;
    meters.endWrite();
    ring?.push(blockLeft, blockRight);
  };

  if (config.source.kind === 'device') {
    runDevice(config, config.source, left, right, processBlock, control, chain.latencySamples);
    return;
  }

  parentPort!.postMessage({ type: 'ready', latencySamples: chain.latencySamples });
  const started = process.hrtime.bigint();
  while (Atomics.load(control, 0) === 0) {
    source!.fill(left, right);
    processBlock(left, right, DeviceState.Demo);
    // Pace to the clock: sleep until this block's deadline (drift-free: measured from the start).
    const dueNs = started + BigInt(Math.round(blocks * blockSeconds * 1e9));
    const waitMs = Number(dueNs - process.hrtime.bigint()) / 1e6;
    if (waitMs > 0) Atomics.wait(sleepCell, 0, 0, waitMs);
  }
  frame[off['engine.deviceState']] = DeviceState.Stopped;
  parentPort!.postMessage({ type: 'stopped', blocks });
}


/**
 * The interface drives the loop: every input chunk is processed and written to the output.
 * Input and output are two PortAudio streams: naudiodon's duplex mode delivers no input here
 * (measured through PulseAudio), separate streams do, in a worker thread too.
 */
function runDevice(
  config: WorkerConfig,
  source: { input: string; output: string },
  left: Float32Array,
  right: Float32Array,
  processBlock: (blockLeft: Float32Array, blockRight: Float32Array, state: DeviceState) => void,
  control: Int32Array,
  latencySamples: number,
): void {
  const portAudio = createRequire(import.meta.url)('naudiodon') as Naudiodon;
  const devices = portAudio.getDevices();
  const input = findDevice(devices, source.input, 'input');
  const output = findDevice(devices, source.output, 'output');
  const options = (id: number) => ({ channelCount: 2, sampleFormat: portAudio.SampleFormatFloat32, sampleRate: config.sampleRate, deviceId: id, closeOnError: false, framesPerBuffer: config.block });
  const inStream = new portAudio.AudioIO({ inOptions: options(input.id) });
  const outStream = new portAudio.AudioIO({ outOptions: options(output.id) });
  inStream.on('data', (chunk: Buffer) => {
    const frames = chunk.length / 8;
    // naudiodon hands each chunk over in a Buffer of its own; the output needs one the stream
    // can keep until PortAudio has consumed it.
    const out = Buffer.allocUnsafe(chunk.length);
    for (let start = 0; start < frames; start += config.block) {
      const n = Math.min(config.block, frames - start);
      const l = n === config.block ? left : left.subarray(0, n);
      const r = n === config.block ? right : right.subarray(0, n);
      for (let i = 0; i < n; i++) {
        l[i] = chunk.readFloatLE((start + i) * 8);
        r[i] = chunk.readFloatLE((start + i) * 8 + 4);
      }
      processBlock(l, r, DeviceState.Running);
      for (let i = 0; i < n; i++) {
        out.writeFloatLE(l[i], (start + i) * 8);
        out.writeFloatLE(r[i], (start + i) * 8 + 4);
      }
    }
    outStream.write(out);
  });
  const report = (error: Error) => parentPort!.postMessage({ type: 'device-error', message: error.message });
  inStream.on('error', report);
  outStream.on('error', report);
  outStream.start();
  inStream.start();
  parentPort!.postMessage({ type: 'ready', latencySamples, input: input.name, output: output.name });
  const watch = setInterval(() => {
    if (Atomics.load(control, 0) === 0) return;
    clearInterval(watch);
    inStream.quit(() => outStream.quit(() => parentPort!.postMessage({ type: 'stopped' })));
  }, 20);
}

interface Naudiodon {
  getDevices(): AudioDevice[];
  SampleFormatFloat32: number;
  AudioIO: new (options: Record<string, unknown>) => NodeJS.EventEmitter & { start(): void; quit(callback?: () => void): void; write(chunk: Buffer): boolean };
}

try {
  run(workerData as WorkerConfig);
} catch (error) {
  parentPort!.postMessage({ type: 'error', message: (error as Error).message });
}
