/**
 * Writing processed blocks to a PortAudio output: how much may be queued, and the buffers the
 * blocks are written from.
 */

// Blocks of silence written ahead of the first processed one, and the backlog a running output
// is kept near.
export const kOutputCushionBlocks = 2;
// Blocks written but not yet taken by naudiodon beyond which a running output drops blocks at
// once (~128 ms at 512 frames): scheduling hiccups on a loaded machine stay well under it.
// Between the cushion plus a burst (PulseAudio hands the input over two blocks at a time) and
// this, the excess is trimmed a block at a time.
export const kOutputBacklogBlocks = 12;
// Blocks in a row over the cushion before one is trimmed (~1 s at 512 frames, 48 kHz).
export const kOutputTrimBlocks = 94;
// OutputBlocks entries: the backlog, the block in flight and a spare, so no queued block is overwritten.
const kOutputPoolBlocks = kOutputBacklogBlocks + 3;
// Blocks taken in a row before the output counts as running (~0.5 s at 512 frames, 48 kHz).
export const kOutputSteadyBlocks = 50;

/** The engine's own I/O buffering with an output device: the block in hand plus the cushion. */
export function cushionedIoLatency(block: number): number {
  return block * (1 + kOutputCushionBlocks);
}

/**
 * Output blocks handed to naudiodon without allocating: a ring of interleaved buffers (naudiodon
 * copies a written Buffer when its write starts, so an entry is free again once the stream's
 * backlog is shorter than the ring).
 */
export class OutputBlocks {
  private readonly ring: Buffer[];
  private next = 0;

  constructor(block: number) {
    this.ring = Array.from({ length: kOutputPoolBlocks }, () => Buffer.alloc(block * 8));
  }

  /** The next ring entry holding `frames` of left/right interleaved (the rest of it is stale). */
  interleave(left: Float32Array, right: Float32Array, frames: number): Buffer {
    const out = this.ring[this.next];
    this.next = (this.next + 1) % this.ring.length;
    for (let i = 0; i < frames; i++) {
      out.writeFloatLE(left[i], i * 8);
      out.writeFloatLE(right[i], i * 8 + 4);
    }
    return out;
  }
}
