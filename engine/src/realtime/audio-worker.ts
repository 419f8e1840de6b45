/**
 * The real-time loop: a worker thread that runs nothing but the chain. Each block: pick up
 * parameter changes from shared memory, fill the block from the source, process it in place
 * (the native chain writes the meters straight into shared memory), publish health, hand the
 * block to the recorder ring, and wait for the next block's deadline. Everything is allocated
 * before the loop starts.
 *
 * This file is the worker's entry (audio-worker-boot.mjs loads it): it raises the thread's
 * priority, builds the WorkerContext and hands it to the loop for the source, the interface
 * (device-loop.ts) or the demo or a file (demo-loop.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { runDemo } from './demo-loop.ts';
import { runDevice } from './device-loop.ts';
import { createWorkerContext, type WorkerConfig } from './worker-context.ts';

// Ahead of ordinary desktop work, short of the audio server's own real-time threads.
const kAudioNice = -11;

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

function run(config: WorkerConfig): void {
  const priority = config.raisePriority !== false ? raiseThreadPriority() : 'normal';
  const ctx = createWorkerContext(config, priority);
  const { source } = config;
  if (source.kind === 'device') runDevice(ctx, source);
  else runDemo(ctx, source.kind === 'file' ? source.path : undefined);
}

try {
  run(workerData as WorkerConfig);
} catch (error) {
  parentPort!.postMessage({ type: 'error', message: (error as Error).message });
}
