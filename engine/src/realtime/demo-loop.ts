/**
 * The loop without an audio interface: the generated demo program, or a file looping forever,
 * processed in real time on the worker's clock, and also played on an output device when one is
 * asked for.
 */
import { parentPort } from 'node:worker_threads';
import { DemoProgram } from '../demo-program.ts';
import { DeviceState } from '../meter-layout.ts';
import { WavReader } from '../wav.ts';
import { findDevice } from './devices.ts';
import {
  cushionedIoLatency,
  kOutputBacklogBlocks,
  kOutputCushionBlocks,
  OutputBlocks,
} from './output-blocks.ts';
import { loadNaudiodon, type AudioStream } from './port-audio.ts';
import { announceReady, stopRequested, stopWorker, type WorkerContext } from './worker-context.ts';

/** Where audio comes from: the generated demo, or a file looping forever. */
interface Source {
  fill(left: Float32Array, right: Float32Array): void;
}

interface Monitor {
  stream: AudioStream;
  name: string;
}

/** Plays the demo (or the file) until the main thread asks the worker to stop. */
export function runDemo(ctx: WorkerContext, file?: string): void {
  const { config } = ctx;
  const source: Source = file ? fileSource(file, config.sampleRate) : new DemoProgram(config.sampleRate);
  const monitor = config.monitor ? openMonitor(ctx, config.monitor) : undefined;
  if (monitor) runMonitored(ctx, monitor, source);
  else runClocked(ctx, source);
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

/** No output device: the worker's clock alone paces the program, to nowhere. */
function runClocked(ctx: WorkerContext, source: Source): void {
  const { config, left, right } = ctx;
  const blockSeconds = config.block / config.sampleRate;
  const sleepCell = new Int32Array(new SharedArrayBuffer(4));
  announceReady(ctx, config.block);
  const started = performance.now();
  while (!stopRequested(ctx)) {
    source.fill(left, right);
    ctx.processBlock(left, right, DeviceState.Demo);
    // Pace to the clock: sleep until this block's deadline (drift-free: measured from the start).
    const waitMs = started + ctx.blocks * blockSeconds * 1000 - performance.now();
    if (waitMs > 0) Atomics.wait(sleepCell, 0, 0, waitMs);
  }
  stopWorker(ctx);
}

function openMonitor(ctx: WorkerContext, wanted: string): Monitor | undefined {
  try {
    const portAudio = loadNaudiodon();
    const device = findDevice(portAudio.getDevices(), wanted, 'output');
    const stream = new portAudio.AudioIO({
      outOptions: {
        channelCount: 2,
        sampleFormat: portAudio.SampleFormatFloat32,
        sampleRate: ctx.config.sampleRate,
        deviceId: device.id,
        closeOnError: false,
        framesPerBuffer: ctx.config.block,
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
function runMonitored(ctx: WorkerContext, monitor: Monitor, source: Source): void {
  const { config, left, right } = ctx;
  const blockMs = (config.block / config.sampleRate) * 1000;
  const blockBytes = config.block * 8;
  const outputBlocks = new OutputBlocks(config.block);
  let lastTakenAt = -Infinity;
  const onTaken = () => void (lastTakenAt = performance.now());
  let clockStart = performance.now();
  let produced = 0;
  announceReady(ctx, cushionedIoLatency(config.block), { output: monitor.name });

  const tick = () => {
    if (stopRequested(ctx)) {
      clearInterval(ticker);
      stopWorker(ctx, [monitor.stream]);
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
      ctx.processBlock(left, right, DeviceState.Demo);
      produced++;
      if (backlog <= kOutputBacklogBlocks) {
        monitor.stream.write(outputBlocks.interleave(left, right, config.block), onTaken);
      }
    }
    // The device is ahead of our clock: one block early.
    if (flowing && monitor.stream.writableLength / blockBytes < kOutputCushionBlocks - 1)
      clockStart -= blockMs;
  };
  // One interval for the whole run: a timer per tick would be garbage on the audio path.
  const ticker = setInterval(tick, blockMs / 4);
}
