/**
 * Interleaved stereo through the native resampler a block at a time, for streams that never sit
 * whole in memory (a codec round trip, a listening copy at a codec's rate).
 */
import { addon, type NativeResampler } from '../native.ts';

/**
 * Interleaved stereo through the native resampler in blocks, its latency removed, as many frames
 * out in all as the input's length at the new rate.
 */
export class StreamResampler {
  private readonly resampler: NativeResampler;
  private toSkip: number;
  private inFrames = 0;
  private outFrames = 0;

  constructor(
    private readonly from: number,
    private readonly to: number,
  ) {
    this.resampler = new addon.NativeResampler(from, to, 2);
    // As master.ts's CD render: the latency in input frames, trimmed in output frames.
    this.toSkip = Math.round((this.resampler.latencyInputFrames() * to) / from);
  }

  push(interleaved: Float32Array): Float32Array {
    this.inFrames += interleaved.length / 2;
    return this.take(this.resampler.process(interleaved), Infinity);
  }

  /** The rest, up to the input's length at the new rate. */
  end(): Float32Array {
    const wanted = Math.round((this.inFrames * this.to) / this.from) - this.outFrames;
    return this.take(this.resampler.flush(), wanted);
  }

  private take(out: Float32Array, limit: number): Float32Array {
    const skip = Math.min(this.toSkip, out.length / 2);
    this.toSkip -= skip;
    const frames = Math.max(0, Math.min(out.length / 2 - skip, limit));
    this.outFrames += frames;
    return out.subarray(skip * 2, (skip + frames) * 2);
  }
}
