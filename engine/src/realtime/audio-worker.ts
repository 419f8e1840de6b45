/**
 * The real-time loop: a worker thread that runs nothing but the chain. Each block: pick up
 * parameter changes from shared memory, fill the block from the source, process it in place
 * (the native chain writes the meters straight into shared memory), publish health, hand the
 * block to the recorder ring, and wait for the next block's deadline. Everything is allocated
 * before the loop starts.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { MasteringChain } from '../chain.ts';
import { DemoProgram } from '../demo-program.ts';
import { DeviceState, METER_LAYOUT } from '../meter-layout.ts';
import { PARAMETER_IDS } from '../params.ts';
import { WavReader } from '../wav.ts';
import { RecordRing } from './record-ring.ts';
import { SharedMeters } from './shared-meters.ts';
import { SharedParams } from './shared-params.ts';
import { findDevice, type AudioDevice } from './devices.ts';

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

/** Where audio comes from: the generated demo, or a file looping forever. */
interface Source {
  fill(left: Float32Array, right: Float32Array): void;
}

function fileSource(path: string, sampleRate: number): Source {
  // Loaded whole once: a looping file plays from memory so the loop never touches the disk.
  const reader = WavReader.open(path);
  if (reader.info.sampleRate !== sampleRate) {
    reader.close();
    throw new Error(
      `${path}: ${reader.info.sampleRate} Hz does not match the engine's ${sampleRate} Hz (use --rate ${reader.info.sampleRate})`,
    );
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

/**
 * Gives this thread (and the PortAudio threads it starts, which inherit it) a better nice value
 * than the rest of the machine: on a streaming PC the browser, OBS and the encoder compete for the
 * same cores, and a late audio block is an audible dropout. Needs CAP_SYS_NICE (or an rtprio/nice
 * limit); without it the rig runs at normal priority and says so.
 */
function raiseThreadPriority(): string {
  try {
    // Linux: setpriority() with a thread id reaches that thread alone, and /proc/thread-self names it.
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    os.setPriority(tid, kAudioNice);
    return `nice ${os.getPriority(tid)}`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM'
      ? 'normal (raising it needs CAP_SYS_NICE or a nice limit)'
      : `normal (${code ?? (error as Error).message})`;
  }
}

// Ahead of ordinary desktop work, short of the audio server's own real-time threads.
const kAudioNice = -11;

let threadPriority = 'normal';

function run(config: WorkerConfig): void {
  if (config.raisePriority !== false) threadPriority = raiseThreadPriority();
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
  const source: Source | undefined =
    config.source.kind === 'file'
      ? fileSource(config.source.path, config.sampleRate)
      : config.source.kind === 'demo'
        ? new DemoProgram(config.sampleRate)
        : undefined;
  const left = new Float32Array(config.block);
  const right = new Float32Array(config.block);
  const applied = new Float64Array(params.count);
  for (let i = 0; i < params.count; i++) applied[i] = params.read(i);
  let seenSequence = params.sequenceNumber;
  let seenMeterResets = 0;
  let ioLatencyMs = (config.block / config.sampleRate) * 1000;

  const frame = meters.frame;
  const off = METER_LAYOUT.offsets;
  frame[off['engine.inputOverflows']] = 0;
  frame[off['engine.outputUnderflows']] = 0;
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
    blocks++;
    frame[off['engine.dspLoadMean']] = loadMean;
    frame[off['engine.dspLoadMax']] = loadMax;
    frame[off['engine.chainLatencyMs']] = (chain.latencySamples / config.sampleRate) * 1000;
    frame[off['engine.ioLatencyMs']] = ioLatencyMs;
    frame[off['engine.deviceState']] = state;
    frame[off['engine.blocks']] = blocks;
    meters.endWrite();
    ring?.push(blockLeft, blockRight);
  };

  // With a device: the block plus the output cushion (PortAudio's and the host's buffering come on top).
  const withCushionMs = (cushionedIoLatency(config.block) / config.sampleRate) * 1000;
  if (config.source.kind === 'device') {
    ioLatencyMs = withCushionMs;
    runDevice(config, config.source, left, right, processBlock, control, chain.latencySamples, frame);
    return;
  }

  if (config.monitor) {
    const monitor = openMonitor(config, config.monitor);
    if (monitor) {
      ioLatencyMs = withCushionMs;
      runMonitored(config, monitor, source!, left, right, processBlock, control, chain.latencySamples, frame);
      return;
    }
  }

  parentPort!.postMessage({
    type: 'ready',
    latencySamples: chain.latencySamples,
    ioLatencySamples: config.block,
    priority: threadPriority,
  });
  const started = performance.now();
  while (Atomics.load(control, 0) === 0) {
    source!.fill(left, right);
    processBlock(left, right, DeviceState.Demo);
    // Pace to the clock: sleep until this block's deadline (drift-free: measured from the start).
    const waitMs = started + blocks * blockSeconds * 1000 - performance.now();
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
 * naudiodon prints PortAudio's status flags instead of passing them on, so the xrun counts are
 * inferred from timing: a chunk that comes late counts as an input overflow; a write that comes
 * later than the output's queued audio lasts counts as an output underflow (so does a block
 * dropped because the device stopped taking them). No chunk for half a second means the device
 * is gone: the output fades out over one block instead of stopping dead, the streams are
 * abandoned (closing a stream whose server vanished never returns), and the device is reopened
 * by name once a second until it streams again. The process never notices.
 *
 * Steady state allocates nothing on our side (output blocks come from OutputBlocks); naudiodon
 * itself still makes one Buffer per input chunk.
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
  const portAudio = loadNaudiodon();
  const off = METER_LAYOUT.offsets;
  const chunkMs = (config.block / config.sampleRate) * 1000;
  const lostAfterMs = Math.max(500, 8 * chunkMs);
  let streams: { input: AudioStream; output: AudioStream } | undefined;
  let lastChunk = performance.now();
  let lastOut: Buffer | undefined;
  let overflows = 0;
  let underflows = 0;
  let state = DeviceState.Starting;
  let names = { input: source.input, output: source.output };
  // The stream opens as many inputs as the highest one asked for; the bus takes the two chosen.
  const channels = config.channels ?? [1, 2];
  const inputChannels = Math.max(...channels);
  const [leftChannel, rightChannel] = [channels[0] - 1, channels[1] - 1];
  const blockBytes = config.block * 8;
  const outputBlocks = new OutputBlocks(config.block);
  const cushion = Buffer.alloc(blockBytes * kOutputCushionBlocks);
  let lastWrite = 0;
  let acceptedRun = 0;
  let outputUp = false;
  let overCushion = 0;

  const open = (): boolean => {
    try {
      const devices = portAudio.getDevices();
      const input = findDevice(devices, source.input, 'input');
      const output = findDevice(devices, source.output, 'output');
      if (Math.max(...channels) > input.maxInputChannels) {
        throw new Error(
          `"${input.name}" has ${input.maxInputChannels} inputs; --channels ${channels.join(',')} asks for more`,
        );
      }
      // highwaterMark one block: naudiodon reads as many bytes as the stream's high-water mark
      // asks for, 16 KiB (2048 stereo frames, 43 ms) by default; one block keeps the latency ours.
      const options = (id: number, count: number) => ({
        channelCount: count,
        sampleFormat: portAudio.SampleFormatFloat32,
        sampleRate: config.sampleRate,
        deviceId: id,
        closeOnError: false,
        framesPerBuffer: config.block,
        highwaterMark: config.block * 4 * count,
      });
      const inStream = new portAudio.AudioIO({ inOptions: options(input.id, inputChannels) });
      const outStream = new portAudio.AudioIO({ outOptions: options(output.id, 2) });
      inStream.on('data', (chunk: Buffer) => onChunk(chunk, outStream));
      const report = (error: Error) =>
        parentPort!.postMessage({ type: 'device-error', message: error.message });
      inStream.on('error', report);
      outStream.on('error', report);
      outStream.start();
      // Blocks of silence ahead of the first processed one: output is written as input
      // arrives, and this cushion absorbs the jitter between the two streams' callbacks.
      outStream.write(cushion);
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
    // Later than naudiodon's input queue (two chunks) and a burst (PulseAudio delivers two at a
    // time) can cover: the input overflowed while we were not reading it. (Measured gaps through
    // PulseAudio: 21 ms per pair of 512-frame chunks, 24 ms at most over 8 s.)
    if (
      state === DeviceState.Running &&
      now - lastChunk > 3.5 * Math.max(chunkMs, (frames / config.sampleRate) * 1000)
    )
      overflows++;
    lastChunk = now;
    if (state !== DeviceState.Running) {
      // The first chunk after (re)opening: the output starts over.
      lastWrite = acceptedRun = overCushion = 0;
      outputUp = false;
    }
    state = DeviceState.Running;
    for (let start = 0; start < frames; start += config.block) {
      const n = Math.min(config.block, frames - start);
      const l = n === config.block ? left : left.subarray(0, n);
      const r = n === config.block ? right : right.subarray(0, n);
      for (let i = 0; i < n; i++) {
        const base = (start + i) * inputChannels;
        l[i] = chunk.readFloatLE((base + leftChannel) * 4);
        r[i] = chunk.readFloatLE((base + rightChannel) * 4);
      }
      // Running once the output takes blocks too: until then the device is still coming up.
      processBlock(l, r, outputUp ? DeviceState.Running : DeviceState.Starting);
      const backlog = outStream.writableLength / blockBytes;
      let drop = false;
      if (!outputUp) {
        // Coming up: a PulseAudio output (through ALSA's pulse plugin) starts taking blocks ~4 s
        // after it opens, 2 s after its input delivers. Keep only the cushion and a burst queued;
        // without this the whole start-up stays queued for good (measured: 1.9 s of latency).
        drop = backlog > kOutputCushionBlocks + 2;
      } else if (backlog > kOutputBacklogBlocks) {
        drop = true; // the device stopped taking blocks: never let the latency run away
      } else if (backlog > kOutputCushionBlocks + 2) {
        // A hiccup left more queued than the cushion: the latency stays up (same clock on both
        // sides) unless a block goes. One block a second until it is back, not all at once.
        drop = ++overCushion >= kOutputTrimBlocks;
      } else {
        overCushion = 0;
      }
      if (drop) {
        // Each drop in steady state is a discontinuity: an output xrun. (The recorder already
        // has the block: the file stays whole.)
        if (outputUp) underflows++;
        acceptedRun = lastWrite = overCushion = 0;
      } else {
        acceptedRun++;
        if (acceptedRun >= kOutputSteadyBlocks) outputUp = true;
        const out = outputBlocks.interleave(l, r, n);
        // At the previous write the output had that block and the cushion queued; a write later
        // than that found it drained. (A gap, never a sum over time: clock drift cannot add up.)
        const written = performance.now();
        if (outputUp && lastWrite > 0 && written - lastWrite > (kOutputCushionBlocks + 1) * chunkMs)
          underflows++;
        lastWrite = written;
        lastOut = out;
        outStream.write(n === config.block ? out : out.subarray(0, n * 8));
      }
      frame[off['engine.inputOverflows']] = overflows;
      frame[off['engine.outputUnderflows']] = underflows;
    }
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
  parentPort!.postMessage({
    type: 'ready',
    latencySamples,
    ioLatencySamples: cushionedIoLatency(config.block),
    input: names.input,
    output: names.output,
    priority: threadPriority,
  });

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
      if (streams && state === DeviceState.Running)
        streams.input.quit(() => streams!.output.quit(() => (clearTimeout(timer), done())));
      return;
    }
    if (state === DeviceState.Running && now - lastChunk > lostAfterMs) {
      state = DeviceState.Lost;
      fadeOutLast();
      streams = undefined; // abandoned: see above
      frame[off['engine.deviceState']] = DeviceState.Lost;
      parentPort!.postMessage({
        type: 'device-error',
        message: `no audio from "${names.input}" for ${Math.round(now - lastChunk)} ms: device lost, reopening`,
      });
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
// Blocks written but not yet taken by naudiodon beyond which a running output drops blocks at
// once (~128 ms at 512 frames): scheduling hiccups on a loaded machine stay well under it.
// Between the cushion plus a burst (PulseAudio hands the input over two blocks at a time) and
// this, the excess is trimmed a block at a time.
const kOutputBacklogBlocks = 12;
// Blocks in a row over the cushion before one is trimmed (~1 s at 512 frames, 48 kHz).
const kOutputTrimBlocks = 94;
// OutputBlocks entries: the backlog, the block in flight and a spare, so no queued block is overwritten.
const kOutputPoolBlocks = kOutputBacklogBlocks + 3;
// Blocks taken in a row before the output counts as running (~0.5 s at 512 frames, 48 kHz).
const kOutputSteadyBlocks = 50;

/** The engine's own I/O buffering with an output device: the block in hand plus the cushion. */
function cushionedIoLatency(block: number): number {
  return block * (1 + kOutputCushionBlocks);
}

/**
 * Output blocks handed to naudiodon without allocating: a ring of interleaved buffers (naudiodon
 * copies a written Buffer when its write starts, so an entry is free again once the stream's
 * backlog is shorter than the ring).
 */
class OutputBlocks {
  private readonly ring: Buffer[];
  private next = 0;

  constructor(block: number) {
    this.ring = Array.from({ length: kOutputPoolBlocks }, () => Buffer.alloc(block * 8));
  }

  /** The next ring entry holding `frames` of left/right interleaved (the rest of it is stale). */
  interleave(left: Float32Array, right: Float32Array, frames: number): Buffer {
    const out = this.ring[this.next];
    this.next = (this.next + 1) % this.ring.length;
    for (let i = 0; i < frames; i++) {
      out.writeFloatLE(left[i], i * 8);
      out.writeFloatLE(right[i], i * 8 + 4);
    }
    return out;
  }
}

interface Monitor {
  stream: AudioStream;
  name: string;
}

function openMonitor(config: WorkerConfig, wanted: string): Monitor | undefined {
  try {
    const portAudio = loadNaudiodon();
    const device = findDevice(portAudio.getDevices(), wanted, 'output');
    const stream = new portAudio.AudioIO({
      outOptions: {
        channelCount: 2,
        sampleFormat: portAudio.SampleFormatFloat32,
        sampleRate: config.sampleRate,
        deviceId: device.id,
        closeOnError: false,
        framesPerBuffer: config.block,
      },
    });
    stream.on('error', (error: Error) =>
      parentPort!.postMessage({ type: 'device-error', message: error.message }),
    );
    stream.start();
    return { stream, name: device.name };
  } catch (error) {
    // No output: the demo still runs, on the worker's clock, to nowhere.
    parentPort!.postMessage({
      type: 'device-error',
      message: `no output for the demo: ${(error as Error).message}`,
    });
    return undefined;
  }
}

/**
 * The demo (or a file) paced by the worker's clock and also played on an output device. The loop
 * runs on the worker's event loop (naudiodon's writes complete there). The clock is nudged by
 * whole blocks to keep the device's backlog near the cushion, so in the long run the device's
 * clock paces the program without a drop or a repeat (a generated program can wait or hurry);
 * while the device takes nothing (starting up, gone) the clock runs on and blocks are dropped.
 */
function runMonitored(
  config: WorkerConfig,
  monitor: Monitor,
  source: Source,
  left: Float32Array,
  right: Float32Array,
  processBlock: (blockLeft: Float32Array, blockRight: Float32Array, state: DeviceState) => void,
  control: Int32Array,
  latencySamples: number,
  frame: Float32Array,
): void {
  const blockMs = (config.block / config.sampleRate) * 1000;
  const blockBytes = config.block * 8;
  const outputBlocks = new OutputBlocks(config.block);
  let lastTakenAt = -Infinity;
  const onTaken = () => void (lastTakenAt = performance.now());
  let clockStart = performance.now();
  let produced = 0;
  parentPort!.postMessage({
    type: 'ready',
    latencySamples,
    ioLatencySamples: cushionedIoLatency(config.block),
    output: monitor.name,
    priority: threadPriority,
  });

  // One interval for the whole run: a timer per tick would be garbage on the audio path.
  const ticker = setInterval(() => tick(), blockMs / 4);
  const tick = () => {
    if (Atomics.load(control, 0) !== 0) {
      clearInterval(ticker);
      frame[METER_LAYOUT.offsets['engine.deviceState']] = DeviceState.Stopped;
      const done = () => {
        parentPort!.postMessage({ type: 'stopped', blocks: produced });
        process.exit(0);
      };
      const timer = setTimeout(done, 500);
      monitor.stream.quit(() => (clearTimeout(timer), done()));
      return;
    }
    const now = performance.now();
    // Taking blocks in the last quarter second: the device is there and its clock can lead.
    const flowing = now - lastTakenAt < 250;
    while (produced < Math.floor((now - clockStart) / blockMs)) {
      const backlog = monitor.stream.writableLength / blockBytes;
      if (flowing && backlog > kOutputCushionBlocks + 1) {
        clockStart += blockMs; // the device is behind our clock: wait a block for it
        break;
      }
      source.fill(left, right);
      processBlock(left, right, DeviceState.Demo);
      produced++;
      if (backlog <= kOutputBacklogBlocks) {
        monitor.stream.write(outputBlocks.interleave(left, right, config.block), onTaken);
      }
    }
    // The device is ahead of our clock: one block early.
    if (flowing && monitor.stream.writableLength / blockBytes < kOutputCushionBlocks - 1)
      clockStart -= blockMs;
  };
}

/** naudiodon, loaded only here: its PortAudio context and crash handler belong to the audio worker. */
function loadNaudiodon(): Naudiodon {
  return createRequire(import.meta.url)('naudiodon') as Naudiodon;
}

type AudioStream = NodeJS.EventEmitter & {
  start(): void;
  quit(callback?: () => void): void;
  write(chunk: Buffer, callback?: () => void): boolean;
  readonly writableLength: number;
};

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
