/** The codec check's parts: the streaming judge, the excerpt of lowered regions, the streamed round trip. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkCodec,
  excerptSpans,
  recheckRegions,
  REGION_SECONDS,
  StreamingJudge,
} from '../../engine/src/delivery/codec-check.ts';
import { DemoProgram } from '../../engine/src/demo-program.ts';
import { codecRoundTrip } from '../../engine/src/io/codec-round-trip.ts';
import { createAudioSink } from '../../engine/src/io/formats.ts';
import { MasteringChain } from '../../engine/src/chain.ts';
import { addon } from '../../engine/src/native.ts';
import { interleave } from '../../engine/src/wav.ts';
import { seededRandom } from '../helpers/signals.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-codec-check-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const SR = 48000;

/** The demo program limited hard to a -1 dBTP ceiling: dense, near the ceiling, where codecs overshoot. */
async function denseMaster(
  seconds: number,
): Promise<{ file: string; left: Float32Array; right: Float32Array }> {
  const { left, right } = DemoProgram.render(SR, seconds, 3);
  const chain = new MasteringChain({
    sampleRate: SR,
    maxBlock: 4800,
    values: { 'limiter.gain': 12, 'limiter.ceiling': -1 },
  });
  for (let at = 0; at < left.length; at += 4800)
    chain.process(left.subarray(at, at + 4800), right.subarray(at, at + 4800));
  const file = path.join(dir, `dense-${seconds}.wav`);
  const sink = await createAudioSink(file, { sampleRate: SR, sampleFormat: 'float32' });
  await sink.write(interleave(left, right, 2));
  await sink.close();
  return { file, left, right };
}

describe('streaming judge', () => {
  it('counts in pieces, fed in blocks of any size, exactly what the judge counts on the whole', () => {
    const random = seededRandom(5);
    const n = 48_000;
    const left = new Float32Array(n).map(() => 0.95 * (2 * random() - 1));
    const right = new Float32Array(n).map((_, i) => 0.9 * Math.sin(i * 2.9));
    const judge = new StreamingJudge(2400, -1);
    for (let at = 0; at < n;) {
      const size = 1 + Math.floor(random() * 5000);
      judge.push(left.subarray(at, at + size), right.subarray(at, at + size));
      at += size;
    }
    const pieces = judge.end();
    expect(pieces.peaks.length).toBe(20);
    // The whole, with the 24 samples of silence the judge starts from in front.
    const padded = (x: Float32Array) => {
      const out = new Float32Array(n + 24);
      out.set(x, 24);
      return addon.countOvers(out, -1);
    };
    const [l, r] = [padded(left), padded(right)];
    expect(pieces.overs.reduce((a, b) => a + b, 0)).toBe(l.overs + r.overs);
    expect(Math.max(...pieces.peaks)).toBeCloseTo(Math.max(l.maxDbtp, r.maxDbtp), 6);
    expect(l.overs).toBeGreaterThan(1000);
  });
});

describe('excerpt spans', () => {
  it('widens each region by the context, clips at the ends and merges what meets', () => {
    expect(excerptSpans([9, 0, 3], 100, 50, 1000)).toEqual([
      { start: 0, end: 150 },
      { start: 250, end: 450 },
      { start: 850, end: 1000 },
    ]);
    expect(excerptSpans([2, 3], 100, 60, 1000)).toEqual([{ start: 140, end: 460 }]);
  });
});

describe('codec check', () => {
  it('streamed from the file, finds what the in-memory round trip and the whole judge find', async () => {
    const { file, left, right } = await denseMaster(4);
    const streamed = await checkCodec(file, { codec: 'opus', kbps: 96 }, -1);
    const decoded = await codecRoundTrip(left, right, SR, 'opus', 96);
    const whole = Math.max(
      addon.countOvers(decoded.left, -1).maxDbtp,
      addon.countOvers(decoded.right, -1).maxDbtp,
    );
    expect(streamed.delayFrames).toBe(decoded.delayFrames);
    expect(streamed.truePeakDbtp).toBeCloseTo(whole, 2);
    // A hard-limited master decodes over its ceiling: the check has something to find.
    expect(streamed.truePeakDbtp).toBeGreaterThan(-1);
    expect(streamed.regionPeaksDbtp.length).toBe(Math.ceil(4 / REGION_SECONDS));
    expect(Math.max(...streamed.regionPeaksDbtp)).toBeCloseTo(streamed.truePeakDbtp, 6);
  }, 30_000);

  it.each(['opus', 'mp3', 'vorbis'] as const)(
    '%s: regions judged again alone, in an excerpt, read as in the whole decode',
    async (codec) => {
      const { file } = await denseMaster(10);
      const kbps = codec === 'opus' ? 96 : 320;
      const whole = await checkCodec(file, { codec, kbps }, -1);
      const regions = [12, 13, 30];
      const again = await recheckRegions(file, whole, regions, -1);
      expect(again.regionsRechecked).toBe(3);
      for (const r of regions)
        expect(Math.abs(again.regionPeaksDbtp[r] - whole.regionPeaksDbtp[r]), `region ${r}`).toBeLessThan(
          0.1,
        );
      // Regions not judged again keep the whole check's figures.
      expect(again.regionPeaksDbtp[5]).toBe(whole.regionPeaksDbtp[5]);
    },
    30_000,
  );
});
