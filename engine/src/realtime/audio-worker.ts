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
  /** The raw input, before the chain, for a safety copy of what came in. */
  recordInput?: SharedArrayBuffer;
  /** Which interface inputs (1-based) feed the stereo bus, e.g. [3, 4]. */
  channels?: [number, number];
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
  const inputRing = config.recordInput ? new RecordRing(undefined, config.recordInput) : undefined;
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
  frame[off['engine.inputOverflows']] = 0;
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
    inputRing?.push(blockLeft, blockRight);
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
    frame[off['engine.outputUnderflows']] = 0;
    meters.endWrite();
    ring?.push(blockLeft, blockRight);
  };

  if (config.source.kind === 'device') {
    runDevice(config, config.source, left, right, processBlock, control, chain.latencySamples, frame);
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
 *
 * A watchdog stands in for the status PortAudio does not pass through naudiodon: a chunk that
 * comes late counts as an input overflow; no chunk for half a second means the device is gone.
 * Then the output fades out over one block instead of stopping dead, the streams are abandoned
 * (closing a stream whose server vanished never returns), and the device is reopened by name
 * once a second until it streams again. The process never notices.
 */
function runDevice(
  config: WorkerConfig,
  source: { input: string; output: string },
  left: Float32Array,
  right: Float32Array,
  processBlock: (blockLeft: Float32Array, blockRight: Float32Array, state: DeviceState) => void,
  control: Int32Array,
  latencySamples: number,
  frame: Float32Array,
): void {
  const portAudio = createRequire(import.meta.url)('naudiodon') as Naudiodon;
  const off = METER_LAYOUT.offsets;
  const chunkMs = (config.block / config.sampleRate) * 1000;
  const lostAfterMs = Math.max(500, 8 * chunkMs);
  let streams: { input: AudioStream; output: AudioStream } | undefined;
  let lastChunk = performance.now();
  let lastOut: Buffer | undefined;
  let overflows = 0;
  let state = DeviceState.Starting;
  let names = { input: source.input, output: source.output };
  // The stream opens as many inputs as the highest one asked for; the bus takes the two chosen.
  const channels = config.channels ?? [1, 2];
  const inputChannels = Math.max(...channels);
  const [leftChannel, rightChannel] = [channels[0] - 1, channels[1] - 1];

  const open = (): boolean => {
    try {
      const devices = portAudio.getDevices();
      const input = findDevice(devices, source.input, 'input');
      const output = findDevice(devices, source.output, 'output');
      if (Math.max(...channels) > input.maxInputChannels) {
        throw new Error(`"${input.name}" has ${input.maxInputChannels} inputs; --channels ${channels.join(',')} asks for more`);
      }
      const options = (id: number, count: number) => ({ channelCount: count, sampleFormat: portAudio.SampleFormatFloat32, sampleRate: config.sampleRate, deviceId: id, closeOnError: false, framesPerBuffer: config.block });
      const inStream = new portAudio.AudioIO({ inOptions: options(input.id, inputChannels) });
      const outStream = new portAudio.AudioIO({ outOptions: options(output.id, 2) });
      inStream.on('data', (chunk: Buffer) => onChunk(chunk, outStream));
      const report = (error: Error) => parentPort!.postMessage({ type: 'device-error', message: error.message });
      inStream.on('error', report);
      outStream.on('error', report);
      outStream.start();
      // Two blocks of silence ahead of the first processed one: output is written as input
      // arrives, and this cushion absorbs the jitter between the two streams' callbacks.
      outStream.write(Buffer.alloc(config.block * 8 * kOutputCushionBlocks));
      inStream.start();
      streams = { input: inStream, output: outStream };
      names = { input: input.name, output: output.name };
      lastChunk = performance.now();
      return true;
    } catch (error) {
      parentPort!.postMessage({ type: 'device-error', message: (error as Error).message });
      return false;
    }
  };

  const onChunk = (chunk: Buffer, outStream: AudioStream) => {
    const now = performance.now();
    const frames = chunk.length / (4 * inputChannels);
    // Late by more than two chunks: the input ring overflowed while we were not reading it.
    if (state === DeviceState.Running && now - lastChunk > 2.5 * Math.max(chunkMs, (frames / config.sampleRate) * 1000)) overflows++;
    lastChunk = now;
    state = DeviceState.Running;
    // naudiodon hands each chunk over in a Buffer of its own; the output needs one the stream
    // can keep until PortAudio has consumed it.
    const out = Buffer.allocUnsafe(frames * 8);
    for (let start = 0; start < frames; start += config.block) {
      const n = Math.min(config.block, frames - start);
      const l = n === config.block ? left : left.subarray(0, n);
      const r = n === config.block ? right : right.subarray(0, n);
      for (let i = 0; i < n; i++) {
        const base = (start + i) * inputChannels;
        l[i] = chunk.readFloatLE((base + leftChannel) * 4);
        r[i] = chunk.readFloatLE((base + rightChannel) * 4);
      }
      processBlock(l, r, DeviceState.Running);
      frame[off['engine.inputOverflows']] = overflows;
      // Input block + the output cushion, at the stream's own buffering on top of that.
      frame[off['engine.ioLatencyMs']] = ((config.block * (1 + kOutputCushionBlocks)) / config.sampleRate) * 1000;
      for (let i = 0; i < n; i++) {
        out.writeFloatLE(l[i], (start + i) * 8);
        out.writeFloatLE(r[i], (start + i) * 8 + 4);
      }
    }
    lastOut = out;
    outStream.write(out);
  };

  const fadeOutLast = () => {
    if (!lastOut || !streams) return;
    const frames = lastOut.length / 8;
    const fade = Buffer.allocUnsafe(lastOut.length);
    for (let i = 0; i < frames; i++) {
      const g = 1 - (i + 1) / frames;
      fade.writeFloatLE(lastOut.readFloatLE(i * 8) * g, i * 8);
      fade.writeFloatLE(lastOut.readFloatLE(i * 8 + 4) * g, i * 8 + 4);
    }
    streams.output.write(fade);
  };

  if (!open()) throw new Error(`cannot open the audio devices "${source.input}" / "${source.output}"`);
  parentPort!.postMessage({ type: 'ready', latencySamples, input: names.input, output: names.output });

  let nextAttempt = 0;
  const watch = setInterval(() => {
    const now = performance.now();
    if (Atomics.load(control, 0) !== 0) {
      clearInterval(watch);
      // A stream whose server vanished never calls back; do not wait for it forever.
      const done = () => {
        parentPort!.postMessage({ type: 'stopped' });
        process.exit(0);
      };
      const timer = setTimeout(done, 500);
      if (streams && state === DeviceState.Running) streams.input.quit(() => streams!.output.quit(() => (clearTimeout(timer), done())));
      return;
    }
    if (state === DeviceState.Running && now - lastChunk > lostAfterMs) {
      state = DeviceState.Lost;
      fadeOutLast();
      streams = undefined; // abandoned: see above
      frame[off['engine.deviceState']] = DeviceState.Lost;
      parentPort!.postMessage({ type: 'device-error', message: `no audio from "${names.input}" for ${Math.round(now - lastChunk)} ms: device lost, reopening` });
      nextAttempt = now + 1000;
    }
    if (state === DeviceState.Lost && now >= nextAttempt) {
      nextAttempt = now + 1000;
      if (open()) state = DeviceState.Starting; // Running again with its first chunk
    }
    if (state === DeviceState.Starting && streams && now - lastChunk > lostAfterMs * 4) {
      // Opened but silent: the device is not really back yet.
      state = DeviceState.Lost;
      streams = undefined;
      frame[off['engine.deviceState']] = DeviceState.Lost;
    }
  }, 50);
}

const kOutputCushionBlocks = 2;

type AudioStream = NodeJS.EventEmitter & { start(): void; quit(callback?: () => void): void; write(chunk: Buffer): boolean };

interface Naudiodon {
  getDevices(): AudioDevice[];
  SampleFormatFloat32: number;
  AudioIO: new (options: Record<string, unknown>) => AudioStream;
}

try {
  run(workerData as WorkerConfig);
} catch (error) {
  parentPort!.postMessage({ type: 'error', message: (error as Error).message });
}
