/**
 * The engine on PulseAudio in a process of its own, for the device-loss test: a worker left
 * blocked in the audio driver must not be able to hang the test runner. Prints one JSON line per
 * checkpoint the parent asks for on stdin ("probe"), and exits after "stop".
 */
import readline from 'node:readline';
import { meterValue } from '../../engine/src/meter-layout.ts';
import { LiveAudio } from '../../engine/src/realtime/live-audio.ts';

const engine = new LiveAudio({ source: { kind: 'device', input: 'pulse', output: 'pulse' } });
await engine.start();
const probe = () => {
  const m = engine.readMeters();
  return {
    blocks: meterValue(m, 'engine.blocks'),
    state: meterValue(m, 'engine.deviceState'),
    errors: engine.deviceErrors,
  };
};
process.stdout.write(`RIG ${JSON.stringify({ ready: true, ...probe() })}\n`);
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line === 'probe') process.stdout.write(`RIG ${JSON.stringify(probe())}\n`);
  if (line === 'stop') {
    const started = Date.now();
    await engine.stop();
    process.stdout.write(`RIG ${JSON.stringify({ stoppedMs: Date.now() - started })}\n`);
    process.exit(0);
  }
}
