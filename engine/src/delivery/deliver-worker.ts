/**
 * A delivery worker: runs the tasks deliver.ts hands it (a track's delivery, an album drive's
 * measure, an analysis) with the same code the main thread would, one at a time, reporting
 * progress and the result or the error's message.
 */
import { parentPort } from 'node:worker_threads';
import { runTask, type PoolTask } from './deliver.ts';

const port = parentPort;
if (!port) throw new Error('deliver-worker.ts runs as a worker thread');
const running = new Map<number, AbortController>();

port.on('message', async (message: { id?: number; task?: PoolTask; abort?: number }) => {
  if (message.abort !== undefined) return running.get(message.abort)?.abort(new Error('stopped'));
  const { id, task } = message as { id: number; task: PoolTask };
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const result = await runTask(
      task,
      (label, done, total) => port.postMessage({ id, progress: [label, done, total] }),
      controller.signal,
    );
    port.postMessage({ id, result });
  } catch (error) {
    port.postMessage({ id, error: (error as Error)?.message ?? String(error) });
  } finally {
    running.delete(id);
  }
});
