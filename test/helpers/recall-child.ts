/**
 * A rig-like process for the crash test: restores the live state, prints it, then changes two
 * parameters together in a tight stream (each step's pair derived from one counter) until killed.
 */
import { ParameterStore } from '../../engine/src/parameter-store.ts';
import { RecallManager } from '../../engine/src/recall/recall.ts';
import { SnapshotDatabase } from '../../engine/src/recall/snapshot-db.ts';

const db = new SnapshotDatabase();
const store = new ParameterStore();
const recall = new RecallManager(store, db, { autosaveMs: 100 });
recall.restore();
process.stdout.write(JSON.stringify({ restored: store.snapshot(), integrity: db.integrityOk() }) + '\n');

if (process.argv[2] === 'stream') {
  let step = 0;
  const tick = () => {
    step++;
    // input.trim walks 0.1 dB steps; output.trim mirrors it, so a torn state is detectable.
    const trim = -24 + ((step % 230) + 1) / 10; // -23.9 .. -1.0: never the default 0, so a lost autosave shows
    store.set('input.trim', trim, 'controller:test');
    store.set('output.trim', -Math.abs(trim) / 2, 'controller:test');
    process.stdout.write(`${Date.now()} ${trim.toFixed(1)}\n`);
    setTimeout(tick, 2);
  };
  tick();
} else {
  recall.close();
  db.close();
}
