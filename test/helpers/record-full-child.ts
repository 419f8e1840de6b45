/**
 * The engine recording onto a disk that fills up, in a process of its own (the parent runs it
 * under a file-size limit). Prints one JSON line: when the write failed, and whether the audio
 * kept going after it.
 */
import path from 'node:path';
import { meterValue } from '../../engine/src/meter-layout.ts';
import { LiveAudio } from '../../engine/src/realtime/live-audio.ts';

const dir = process.argv[2];
const engine = new LiveAudio({ record: { file: path.join(dir, 'full.wav'), format: 'float32' } });
await engine.start();
const blocks = () => meterValue(engine.readMeters(), 'engine.blocks');
let blocksAtError = -1;
for (let waited = 0; waited < 4000 && !engine.recordError; waited += 50)
  await new Promise((r) => setTimeout(r, 50));
blocksAtError = blocks();
await new Promise((r) => setTimeout(r, 1000));
const blocksAfter = blocks();
await engine.stop();
process.stdout.write(
  `RIG ${JSON.stringify({ error: engine.recordError?.message ?? null, blocksAtError, blocksAfter })}\n`,
);
