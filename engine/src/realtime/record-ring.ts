/**
 * A single-producer, single-consumer ring of interleaved stereo frames in shared memory: the
 * audio worker pushes each processed block (never waits, never allocates; when the ring is full
 * the block is counted as dropped), the main thread drains it to disk at its own pace.
 */
export class RecordRing {
  readonly buffer: SharedArrayBuffer;
  private readonly samples: Float32Array;
  private readonly indices: Int32Array; // [written frames, read frames, dropped frames] (wrapping counters)
  readonly capacityFrames: number;

  // Counters are int32 and wrap after ~12 hours at 48 kHz; a power-of-two capacity keeps the
  // masked slot arithmetic and the `| 0` differences right across the wrap.
  constructor(capacityFrames = 1 << 19, buffer?: SharedArrayBuffer) {
    if ((capacityFrames & (capacityFrames - 1)) !== 0)
      throw new RangeError('record ring capacity must be a power of two');
    this.capacityFrames = capacityFrames;
    this.buffer = buffer ?? new SharedArrayBuffer(8 * capacityFrames + 12);
    this.samples = new Float32Array(this.buffer, 0, 2 * capacityFrames);
    this.indices = new Int32Array(this.buffer, 8 * capacityFrames, 3);
  }

  /** Worker side. */
  push(left: Float32Array, right: Float32Array): void {
    const written = Atomics.load(this.indices, 0);
    const read = Atomics.load(this.indices, 1);
    const n = left.length;
    if (this.capacityFrames - ((written - read) | 0) < n) {
      Atomics.add(this.indices, 2, n);
      return;
    }
    for (let i = 0; i < n; i++) {
      const slot = ((written + i) & (this.capacityFrames - 1)) * 2;
      this.samples[slot] = left[i];
      this.samples[slot + 1] = right[i];
    }
    Atomics.store(this.indices, 0, (written + n) | 0);
  }

  /** Main-thread side: everything pushed since the last drain, interleaved. */
  drain(): Float32Array {
    const written = Atomics.load(this.indices, 0);
    const read = Atomics.load(this.indices, 1);
    const n = (written - read) | 0;
    const out = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const slot = ((read + i) & (this.capacityFrames - 1)) * 2;
      out[2 * i] = this.samples[slot];
      out[2 * i + 1] = this.samples[slot + 1];
    }
    Atomics.store(this.indices, 1, written);
    return out;
  }

  get droppedFrames(): number {
    return Atomics.load(this.indices, 2);
  }
}
