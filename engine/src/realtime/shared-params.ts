/**
 * Parameters crossing to the audio worker without locks: the main thread writes a value, then
 * bumps a sequence number; the worker, once per block, notices the new sequence and hands the
 * values that differ from what it last applied to the native chain (which glides to them).
 */
import { PARAMETERS, clampValue } from '../params.ts';

export class SharedParams {
  readonly buffer: SharedArrayBuffer;
  private readonly values: Float64Array;
  private readonly sequence: Int32Array;

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(8 * PARAMETERS.length + 8);
    this.values = new Float64Array(this.buffer, 0, PARAMETERS.length);
    this.sequence = new Int32Array(this.buffer, 8 * PARAMETERS.length, 1);
    if (!buffer) PARAMETERS.forEach((spec, i) => (this.values[i] = spec.default));
  }

  /** Main thread: one parameter by schema index (clamped), visible to the worker's next block. */
  write(index: number, value: number): number {
    const applied = clampValue(PARAMETERS[index], value);
    this.values[index] = applied;
    Atomics.add(this.sequence, 0, 1);
    return applied;
  }

  get sequenceNumber(): number {
    return Atomics.load(this.sequence, 0);
  }

  read(index: number): number {
    return this.values[index];
  }

  get count(): number {
    return this.values.length;
  }
}
