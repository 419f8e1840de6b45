/**
 * The codec check: a master through each codec its platforms stream in, decoded and read by the
 * independent 8x judge, because a listener hears the decode and lossy coding raises peaks (a
 * -1 dBTP master decoded at +1.4 dBTP from AAC 128k, measured). Each decode is measured whole
 * and per region, streaming, so a codec-safe master can lower its ceiling only where a decode went over.
 */
import type { AudioSource } from '../io/audio-stream.ts';
import { codecRoundTrip, streamCodecRoundTrip } from '../io/codec-round-trip.ts';
import { openAudioSource } from '../io/formats.ts';
import type { LossyFormat } from '../io/formats.ts';
import { LoudnessAnalyzer } from '../loudness.ts';
import { addon } from '../native.ts';
import type { StreamCodec } from '../presets.ts';

/** Regions the ceiling can be lowered in: short enough to leave most of a song alone. */
export const REGION_SECONDS = 0.2;
// The decode is judged in pieces of a quarter region, so that mapping them onto the master's
// regions after the codec's delay is known widens a region by at most a quarter on each side.
const PIECES_PER_REGION = 4;
// The judge's window (over-counter.h): each interpolated point needs the 24 samples before it.
const JUDGE_TAPS = 24;

export interface CodecResult {
  codec: StreamCodec['codec'];
  kbps: number;
  /** The decode's true peak (8x judge, both channels). */
  truePeakDbtp: number;
  /** Interpolated points of the decode over the ceiling (8x judge, both channels). */
  overs: number;
  integratedLufs: number | null;
  /** Per region of REGION_SECONDS of the master, the decode's true peak there in dBTP. */
  regionPeaksDbtp: Float32Array;
  /** Per region, the decode's points over the ceiling (each counted in one region). */
  regionOvers: Float32Array;
  /** The codec's delay, found and removed before the regions are read. */
  delayFrames: number;
  /**
   * Regions judged again, alone, after the whole file was (a codec-safe master lowered them at the
   * drive the whole check saw); 0 when every figure here comes from one decode of the whole file.
   * The loudness is the whole decode's.
   */
  regionsRechecked: number;
}

const maxOf = (values: Float32Array) => values.reduce((a, b) => Math.max(a, b), -Infinity);

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

/**
 * The 8x judge over a stream, a piece at a time: each piece is judged with the last samples of
 * the one before it in front, so the pieces together count exactly what the whole would.
 */
export class StreamingJudge {
  private readonly buffers: [Float32Array, Float32Array];
  private filled = 0;
  private readonly peaks: number[] = [];
  private readonly overs: number[] = [];

  constructor(
    private readonly pieceFrames: number,
    private readonly ceilingDbtp: number,
  ) {
    this.buffers = [new Float32Array(JUDGE_TAPS + pieceFrames), new Float32Array(JUDGE_TAPS + pieceFrames)];
  }

  push(left: Float32Array, right: Float32Array): void {
    for (let at = 0; at < left.length;) {
      const n = Math.min(this.pieceFrames - this.filled, left.length - at);
      this.buffers[0].set(left.subarray(at, at + n), JUDGE_TAPS + this.filled);
      this.buffers[1].set(right.subarray(at, at + n), JUDGE_TAPS + this.filled);
      this.filled += n;
      at += n;
      if (this.filled === this.pieceFrames) this.judgePiece();
    }
  }

  /** Per piece, the true peak in dBTP and the points over the ceiling (both channels). */
  end(): { peaks: Float32Array; overs: Float32Array } {
    if (this.filled > 0) this.judgePiece();
    return { peaks: Float32Array.from(this.peaks), overs: Float32Array.from(this.overs) };
  }

  private judgePiece(): void {
    let [peak, overs] = [-Infinity, 0];
    for (const buffer of this.buffers) {
      const count = addon.countOvers(buffer.subarray(0, JUDGE_TAPS + this.filled), this.ceilingDbtp);
      overs += count.overs;
      peak = Math.max(peak, count.maxDbtp);
      buffer.copyWithin(0, this.filled, this.filled + JUDGE_TAPS);
    }
    this.peaks.push(peak);
    this.overs.push(overs);
    this.filled = 0;
  }
}

/** A file read through once: its true peak by the 8x judge, its integrated loudness, its length. */
export async function measureFile(
  file: string,
): Promise<{ truePeakDbtp: number; integratedLufs: number | null; frames: number; sampleRate: number }> {
  const source = await openAudioSource(file);
  try {
    const { sampleRate } = source.info;
    const judge = new StreamingJudge(1 << 16, 0);
    const analyzer = new LoudnessAnalyzer(sampleRate);
    for (let block = await source.read(1 << 16); block; block = await source.read(1 << 16)) {
      judge.push(block.left, block.right);
      analyzer.push(block.left, block.right);
    }
    return {
      truePeakDbtp: maxOf(judge.end().peaks),
      integratedLufs: analyzer.report().integratedLufs,
      frames: source.position,
      sampleRate,
    };
  } finally {
    await source.close();
  }
}

/**
 * Pieces of the decode onto the master's regions, `delayFrames` later: a region's peak is the
 * worst piece it touches; a piece's overs count in the region it starts in.
 */
function regionsOf(
  pieces: { peaks: Float32Array; overs: Float32Array },
  pieceFrames: number,
  regionFrames: number,
  delayFrames: number,
): { peaks: Float32Array; overs: Float32Array } {
  const count = Math.ceil((pieces.peaks.length * pieceFrames) / regionFrames);
  const peaks = new Float32Array(count).fill(-Infinity);
  const overs = new Float32Array(count);
  for (let r = 0; r < count; r++) {
    const first = Math.max(0, Math.floor((r * regionFrames + delayFrames) / pieceFrames));
    const last = Math.min(
      pieces.peaks.length - 1,
      Math.floor(((r + 1) * regionFrames + delayFrames - 1) / pieceFrames),
    );
    for (let p = first; p <= last; p++) peaks[r] = Math.max(peaks[r], pieces.peaks[p]);
  }
  pieces.overs.forEach((n, p) => {
    const r = Math.floor((p * pieceFrames - delayFrames) / regionFrames);
    overs[Math.min(count - 1, Math.max(0, r))] += n;
  });
  return { peaks, overs };
}

/** Encodes, decodes and judges the master file through one codec, streaming (never the whole file in memory). */
export async function checkCodec(
  file: string,
  codec: StreamCodec,
  ceilingDbtp: number,
): Promise<CodecResult> {
  const source = await openAudioSource(file);
  try {
    const { sampleRate } = source.info;
    const regionFrames = Math.round(REGION_SECONDS * sampleRate);
    const pieceFrames = Math.ceil(regionFrames / PIECES_PER_REGION);
    const judge = new StreamingJudge(pieceFrames, ceilingDbtp);
    const analyzer = new LoudnessAnalyzer(sampleRate);
    const stream = await streamCodecRoundTrip(
      source,
      FFMPEG_CODEC[codec.codec],
      codec.kbps,
      (left, right) => {
        judge.push(left, right);
        analyzer.push(left, right);
      },
    );
    const regions = regionsOf(judge.end(), pieceFrames, regionFrames, stream.delayFrames);
    return {
      codec: codec.codec,
      kbps: codec.kbps,
      truePeakDbtp: maxOf(regions.peaks),
      overs: regions.overs.reduce((a, b) => a + b, 0),
      integratedLufs: analyzer.report().integratedLufs,
      regionPeaksDbtp: regions.peaks,
      regionOvers: regions.overs,
      delayFrames: stream.delayFrames,
      regionsRechecked: 0,
    };
  } finally {
    await source.close();
  }
}

/** Every codec, two at a time (one ffmpeg pair per core while this thread judges). */
export async function checkCodecs(
  file: string,
  codecs: readonly StreamCodec[],
  ceilingDbtp: number,
): Promise<CodecResult[]> {
  return twoAtATime(distinctCodecs(codecs), (codec) => checkCodec(file, codec, ceilingDbtp));
}

async function twoAtATime<T, R>(items: readonly T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const at = next++;
      results[at] = await run(items[at]);
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

/**
 * Codecs whose decode anywhere can move when the master changes anywhere: ffmpeg's AAC encoder
 * steers its quantiser with a rate controller of long memory (its lambda follows the bits spent,
 * frame after frame), so a region 30 s from any change decoded 0.16 dB higher in the whole file
 * than in an excerpt (measured). LAME, libopus and libvorbis code each frame from local state:
 * their excerpts matched the whole decode to 0.01 dB on the same master.
 */
const GLOBALLY_COUPLED: ReadonlySet<StreamCodec['codec']> = new Set(['aac']);

/**
 * The check again after `regions` of the master changed and nothing else: the globally coupled
 * codecs through the whole file, the rest through just those regions (recheckRegions).
 */
export async function recheckChanged(
  file: string,
  previous: readonly CodecResult[],
  regions: readonly number[],
  ceilingDbtp: number,
): Promise<CodecResult[]> {
  return twoAtATime(previous, (result) =>
    GLOBALLY_COUPLED.has(result.codec)
      ? checkCodec(file, result, ceilingDbtp)
      : recheckRegions(file, result, regions, ceilingDbtp),
  );
}

// Each stretch of regions judged again is encoded with this much of the master on either side
// (judged no more), so the codec meets it as it does in the whole file: its frames, its
// look-ahead and its bit reservoir settle on the music before the regions that count.
const EXCERPT_CONTEXT_SECONDS = 1;

/** Regions' stretches of the master, each widened by the context, merged where they meet. */
export function excerptSpans(
  regions: readonly number[],
  regionFrames: number,
  contextFrames: number,
  totalFrames: number,
): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  for (const r of [...regions].sort((a, b) => a - b)) {
    const start = Math.max(0, r * regionFrames - contextFrames);
    const end = Math.min(totalFrames, (r + 1) * regionFrames + contextFrames);
    const previous = spans.at(-1);
    if (previous && start <= previous.end) previous.end = Math.max(previous.end, end);
    else spans.push({ start, end });
  }
  return spans;
}

/**
 * Judges `regions` of the master again through one codec: their stretches (with context) are
 * joined into one short excerpt, encoded and decoded, and each region read at its place in it.
 * What a codec-safe master needs after lowering a few regions at an unchanged drive, instead of
 * encoding the whole file once more. Returns the updated result.
 */
export async function recheckRegions(
  file: string,
  previous: CodecResult,
  regions: readonly number[],
  ceilingDbtp: number,
): Promise<CodecResult> {
  if (!regions.length) return previous;
  const source = await openAudioSource(file);
  try {
    const { sampleRate } = source.info;
    const regionFrames = Math.round(REGION_SECONDS * sampleRate);
    const total = previous.regionPeaksDbtp.length * regionFrames;
    const spans = excerptSpans(
      regions,
      regionFrames,
      Math.round(EXCERPT_CONTEXT_SECONDS * sampleRate),
      total,
    );
    const excerpt = await readSpans(source, spans);
    const decoded = await codecRoundTrip(
      excerpt.left,
      excerpt.right,
      sampleRate,
      FFMPEG_CODEC[previous.codec],
      previous.kbps,
    );
    const peaks = previous.regionPeaksDbtp.slice();
    const overs = previous.regionOvers.slice();
    // Where each span starts in the excerpt.
    const offsets: number[] = [];
    spans.reduce((at, span) => (offsets.push(at), at + span.end - span.start), 0);
    for (const r of regions) {
      const s = spans.findIndex(
        (span) => r * regionFrames >= span.start && (r + 1) * regionFrames <= span.end,
      );
      const from = offsets[s] + r * regionFrames - spans[s].start;
      const to = Math.min(decoded.left.length, from + regionFrames);
      const judged = (x: Float32Array) =>
        addon.countOvers(x.subarray(Math.max(0, from - JUDGE_TAPS), to), ceilingDbtp);
      const [l, rr] = [judged(decoded.left), judged(decoded.right)];
      peaks[r] = Math.max(l.maxDbtp, rr.maxDbtp);
      overs[r] = l.overs + rr.overs;
    }
    return {
      ...previous,
      truePeakDbtp: maxOf(peaks),
      overs: overs.reduce((a, b) => a + b, 0),
      regionPeaksDbtp: peaks,
      regionOvers: overs,
      regionsRechecked: previous.regionsRechecked + regions.length,
    };
  } finally {
    await source.close();
  }
}

/** The frames of `spans` (in order, not overlapping), read through and joined. */
async function readSpans(
  source: AudioSource,
  spans: readonly { start: number; end: number }[],
): Promise<{ left: Float32Array; right: Float32Array }> {
  const length = spans.reduce((n, span) => n + span.end - span.start, 0);
  const left = new Float32Array(length);
  const right = new Float32Array(length);
  let at = 0;
  for (const span of spans) {
    while (source.position < span.end) {
      const position = source.position;
      const block = await source.read(Math.min(1 << 16, span.end - position));
      if (!block) return { left: left.subarray(0, at), right: right.subarray(0, at) };
      const skip = Math.max(0, span.start - position);
      if (skip >= block.left.length) continue;
      left.set(block.left.subarray(skip), at);
      right.set(block.right.subarray(skip), at);
      at += block.left.length - skip;
    }
  }
  return { left, right };
}

/**
 * Where the decodes went over: per region, how far the ceiling must come down (dB, >= 0) so that
 * the worst decode lands at it (the excess times `factor`, plus `marginDb` for the codec's own
 * variation). With `guardDb`, regions whose decode came within that of the ceiling come down by
 * as much as they came within it: the drive that wins back the cuts' loudness lifts them next.
 */
export function ceilingCuts(
  results: readonly CodecResult[],
  ceilingDbtp: number,
  marginDb: number,
  factor = 1,
  guardDb = 0,
): Float32Array {
  const regions = Math.max(0, ...results.map((r) => r.regionPeaksDbtp.length));
  const cuts = new Float32Array(regions);
  for (const result of results)
    result.regionPeaksDbtp.forEach((peak, r) => {
      const over = peak - ceilingDbtp;
      if (over > 0) cuts[r] = Math.max(cuts[r], over * factor + marginDb);
      else if (over > -guardDb) cuts[r] = Math.max(cuts[r], over + guardDb);
    });
  return cuts;
}
