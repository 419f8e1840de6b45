/**
 * The codec check: a master through each codec its platforms stream in, decoded and read by the
 * independent 8x judge, because a listener hears the decode and lossy coding raises peaks (a
 * -1 dBTP master decoded at +1.4 dBTP from AAC 128k, measured). Each decode is measured whole
 * and per region, so a codec-safe master can lower its ceiling only where a decode went over.
 */
import { codecRoundTrip } from '../io/codec-round-trip.ts';
import type { LossyFormat } from '../io/formats.ts';
import { LoudnessAnalyzer } from '../loudness.ts';
import { addon } from '../native.ts';
import type { StreamCodec } from '../presets.ts';

/** Regions the ceiling can be lowered in: short enough to leave most of a song alone. */
export const REGION_SECONDS = 0.2;
// The judge interpolates only where its 24-tap window lies inside the array: a region is read
// with this much of its neighbours on each side, so its edges are judged as in the whole file.
const JUDGE_MARGIN = 24;

export interface CodecResult {
  codec: StreamCodec['codec'];
  kbps: number;
  /** The decode's true peak (8x judge, both channels). */
  truePeakDbtp: number;
  /** Interpolated points of the decode over the ceiling (8x judge, both channels). */
  overs: number;
  integratedLufs: number | null;
  /** Per region of REGION_SECONDS, the decode's true peak in dBTP. */
  regionPeaksDbtp: Float32Array;
  /** The codec's delay, found and removed before judging. */
  delayFrames: number;
}

const FFMPEG_CODEC: Record<StreamCodec['codec'], LossyFormat> = {
  aac: 'm4a',
  mp3: 'mp3',
  opus: 'opus',
  vorbis: 'vorbis',
};

export function codecLabel(codec: StreamCodec): string {
  const names = { aac: 'AAC', mp3: 'MP3', opus: 'Opus', vorbis: 'Vorbis' } as const;
  return `${names[codec.codec]} ${codec.kbps}k`;
}

/** The same codec at the same rate once, however many platforms stream in it. */
export function distinctCodecs(codecs: readonly StreamCodec[]): StreamCodec[] {
  const seen = new Map<string, StreamCodec>();
  for (const c of codecs) seen.set(`${c.codec}/${c.kbps}`, c);
  return [...seen.values()];
}

export function regionPeaksDbtp(left: Float32Array, right: Float32Array, sampleRate: number): Float32Array {
  const region = Math.round(REGION_SECONDS * sampleRate);
  const count = Math.ceil(left.length / region);
  const peaks = new Float32Array(count);
  for (let r = 0; r < count; r++) {
    const start = Math.max(0, r * region - JUDGE_MARGIN);
    const end = Math.min(left.length, (r + 1) * region + JUDGE_MARGIN);
    peaks[r] = Math.max(
      addon.countOvers(left.subarray(start, end), 0).maxDbtp,
      addon.countOvers(right.subarray(start, end), 0).maxDbtp,
    );
  }
  return peaks;
}

/** Encodes, decodes and judges the master through one codec. */
export async function checkCodec(
  left: Float32Array,
  right: Float32Array,
  sampleRate: number,
  codec: StreamCodec,
  ceilingDbtp: number,
): Promise<CodecResult> {
  const decoded = await codecRoundTrip(left, right, sampleRate, FFMPEG_CODEC[codec.codec], codec.kbps);
  const l = addon.countOvers(decoded.left, ceilingDbtp);
  const r = addon.countOvers(decoded.right, ceilingDbtp);
  const analyzer = new LoudnessAnalyzer(sampleRate);
  analyzer.push(decoded.left, decoded.right);
  return {
    codec: codec.codec,
    kbps: codec.kbps,
    truePeakDbtp: Math.max(l.maxDbtp, r.maxDbtp),
    overs: l.overs + r.overs,
    integratedLufs: analyzer.report().integratedLufs,
    regionPeaksDbtp: regionPeaksDbtp(decoded.left, decoded.right, sampleRate),
    delayFrames: decoded.delayFrames,
  };
}

/** Every codec, two at a time (one ffmpeg pair per core while this thread judges). */
export async function checkCodecs(
  left: Float32Array,
  right: Float32Array,
  sampleRate: number,
  codecs: readonly StreamCodec[],
  ceilingDbtp: number,
): Promise<CodecResult[]> {
  const list = distinctCodecs(codecs);
  const results: CodecResult[] = new Array(list.length);
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const at = next++;
      results[at] = await checkCodec(left, right, sampleRate, list[at], ceilingDbtp);
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

/**
 * Where the decodes went over: per region, how far the ceiling must come down (dB, >= 0) so that
 * the worst decode lands at it (times `factor`), with `marginDb` for the codec's own variation.
 */
export function ceilingCuts(
  results: readonly CodecResult[],
  ceilingDbtp: number,
  marginDb: number,
  factor = 1,
): Float32Array {
  const regions = Math.max(0, ...results.map((r) => r.regionPeaksDbtp.length));
  const cuts = new Float32Array(regions);
  for (const result of results)
    result.regionPeaksDbtp.forEach((peak, r) => {
      const over = peak - ceilingDbtp;
      if (over > 0) cuts[r] = Math.max(cuts[r], over * factor + marginDb);
    });
  return cuts;
}
