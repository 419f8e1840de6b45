/**
 * The meter frame shared with the audio worker, guarded by a sequence lock: the worker makes
 * the sequence odd while the native chain writes the frame and even when done; a reader copies
 * the frame and keeps the copy only if the sequence was even and unchanged around it.
 */
import { METER_FRAME_LENGTH } from '../meter-layout.ts';

export class SharedMeters {
  readonly buffer: SharedArrayBuffer;
  /** The live frame: the worker's chain writes straight into it. */
  readonly frame: Float32Array;
  private readonly sequence: Int32Array;

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(4 * METER_FRAME_LENGTH + 8);
    this.frame = new Float32Array(this.buffer, 0, METER_FRAME_LENGTH);
    this.sequence = new Int32Array(this.buffer, 4 * METER_FRAME_LENGTH, 1);
    if (!buffer) this.frame.fill(NaN);
  }

  /** Worker: around each write of the frame. */
  beginWrite(): void {
    Atomics.add(this.sequence, 0, 1);
  }
  endWrite(): void {
    Atomics.add(this.sequence, 0, 1);
  }

  /** Main thread: a consistent copy of the latest frame (retries a few times, then takes what is there). */
  read(into: Float32Array = new Float32Array(METER_FRAME_LENGTH)): Float32Array {
    for (let attempt = 0; attempt < 4; attempt++) {
      const before = Atomics.load(this.sequence, 0);
      into.set(this.frame);
      if (before % 2 === 0 && Atomics.load(this.sequence, 0) === before) return into;
    }
    return into;
  }
}
