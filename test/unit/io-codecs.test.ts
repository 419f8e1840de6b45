/** Delivery codecs through the ffmpeg bridge and back: aligned, close to the original, as loud. */
import { describe, expect, it } from 'vitest';
import { codecRoundTrip, findDelay } from '../../engine/src/io/codec-round-trip.ts';
import { measureLoudness } from '../../engine/src/loudness.ts';
import { seededRandom, whiteNoise } from '../helpers/signals.ts';

/**
 * Three seconds of something like a mix: two modulated tones, a high partial and noise through a
 * gentle low-pass (most energy under 5 kHz, some up to the codecs' cut-off, as in music).
 */
function programme(sampleRate: number): { left: Float32Array; right: Float32Array } {
  const frames = 3 * sampleRate;
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  const random = seededRandom(11);
  let [lp, rp] = [0, 0];
  for (let i = 0; i < frames; i++) {
    const t = i / sampleRate;
    lp += 0.3 * (2 * random() - 1 - lp);
    rp += 0.3 * (2 * random() - 1 - rp);
    left[i] =
      0.3 * Math.sin(2 * Math.PI * 220 * t) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 1.3 * t)) + 0.15 * lp;
    right[i] =
      0.25 * Math.sin(2 * Math.PI * 330 * t + 1) + 0.1 * rp + 0.05 * Math.sin(2 * Math.PI * 3000 * t);
  }
  return { left, right };
}

describe('codec round trips', () => {
  // Measured with this programme: correlation 0.995-0.998, loudness within 0.3 LU (MP3's
  // low-pass takes the most). A decode one sample off correlates 0.987 with the original, 1024
  // off 0.45, so 0.99 holds only when the alignment is exact; a level error or a lost channel
  // fails the loudness bound.
  it.each([
    ['mp3', 48000, 192],
    ['m4a', 48000, 192],
    ['opus', 48000, 128],
    ['vorbis', 48000, 192],
    ['m4a', 44100, 256],
    ['opus', 44100, 128],
  ] as const)(
    '%s at %i Hz, %i kb/s: lined up, correlated and as loud as the original',
    async (codec, rate, kbps) => {
      const { left, right } = programme(rate);
      const decoded = await codecRoundTrip(left, right, rate, codec, kbps);
      expect(decoded.left.length).toBe(left.length);
      // The containers record the encoder's priming (LAME tag, MP4 edit list, Ogg pre-skip) and
      // ffmpeg trims it; Opus at 44.1 kHz goes through the native resampler both ways, its latency removed.
      expect(decoded.delayFrames).toBe(0);
      expect(decoded.codedSampleRate).toBe(codec === 'opus' ? 48000 : rate);
      expect(decoded.correlation).toBeGreaterThan(0.99);
      const original = measureLoudness(left, right, rate).integratedLufs!;
      const after = measureLoudness(decoded.left, decoded.right, rate).integratedLufs!;
      expect(Math.abs(after - original)).toBeLessThan(0.5);
      // Roughly the bit rate asked for: 3 s at kbps (Vorbis and Opus are VBR around it).
      expect(decoded.encodedBytes).toBeGreaterThan((3 * kbps * 1000) / 8 / 2);
      expect(decoded.encodedBytes).toBeLessThan(((3 * kbps * 1000) / 8) * 1.5);
    },
  );

  it("finds raw ADTS AAC's 1024 priming samples, which no container records, and removes them", async () => {
    const { left, right } = programme(48000);
    const decoded = await codecRoundTrip(left, right, 48000, 'aac', 192);
    // ffmpeg's AAC encoder primes with one frame (initial_padding = 1024).
    expect(decoded.delayFrames).toBe(1024);
    expect(decoded.correlation).toBeGreaterThan(0.99);
    let [xy, xx, yy] = [0, 0, 0];
    for (let i = 48000; i < 96000; i++) {
      xy += left[i] * decoded.left[i];
      xx += left[i] ** 2;
      yy += decoded.left[i] ** 2;
    }
    expect(xy / Math.sqrt(xx * yy)).toBeGreaterThan(0.99);
  });
});

describe('delay detection', () => {
  it.each([0, 1, 777, -300, 4000])('finds a delay of %i frames in noise exactly', (delay) => {
    const reference = whiteNoise(50_000, 0.5, 3);
    const delayed = new Float32Array(50_000 + Math.max(0, delay));
    for (let i = 0; i < reference.length; i++)
      if (i + delay >= 0 && i + delay < delayed.length) delayed[i + delay] = reference[i];
    // Plus independent noise 20 dB down: a codec's error, roughly.
    const error = whiteNoise(delayed.length, 0.05, 4);
    for (let i = 0; i < delayed.length; i++) delayed[i] += error[i];
    const found = findDelay(reference, delayed, 8192);
    expect(found.delayFrames).toBe(delay);
    // 20 dB of signal to noise: 1 / sqrt(1 + 0.01) = 0.995.
    expect(found.correlation).toBeCloseTo(0.995, 2);
  });
});
