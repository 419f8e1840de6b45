/**
 * The loop with an audio interface: PortAudio input and output streams, the input's chunks
 * driving the chain.
 */
import { parentPort } from 'node:worker_threads';
import { DeviceState, METER_LAYOUT } from '../meter-layout.ts';
import { findDevice } from './devices.ts';
import {
  cushionedIoLatency,
  kOutputBacklogBlocks,
  kOutputCushionBlocks,
  kOutputSteadyBlocks,
  kOutputTrimBlocks,
  OutputBlocks,
} from './output-blocks.ts';
import { loadNaudiodon, type AudioStream } from './port-audio.ts';
import { announceReady, stopRequested, stopWorker, type WorkerContext } from './worker-context.ts';

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
export function runDevice(ctx: WorkerContext, source: { input: string; output: string }): void {
  const { config, left, right, frame } = ctx;
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
      ctx.processBlock(l, r, outputUp ? DeviceState.Running : DeviceState.Starting);
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
  announceReady(ctx, cushionedIoLatency(config.block), { input: names.input, output: names.output });

  let nextAttempt = 0;
  const watch = setInterval(() => {
    const now = performance.now();
    if (stopRequested(ctx)) {
      clearInterval(watch);
      // Only streams that deliver are quit: the others were abandoned or never came up (see above).
      stopWorker(ctx, streams && state === DeviceState.Running ? [streams.input, streams.output] : []);
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
