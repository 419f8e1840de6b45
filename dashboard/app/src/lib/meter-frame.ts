/**
 * One binary meter frame read through the layout the server announced in its hello, so a page
 * and a rig of different versions read each field where it really is (or NaN when it is not).
 */
import type { MeterField, TapField, TapName } from '../../../../engine/src/browser-safe.ts';

export interface MeterLayoutMessage {
  offsets: Record<string, number>;
  widths: Record<string, number>;
  length: number;
}

export class MeterFrame {
  constructor(
    readonly values: Float32Array,
    readonly layout: MeterLayoutMessage,
  ) {}

  get(field: MeterField, channel = 0): number {
    const offset = this.layout.offsets[field];
    return offset === undefined ? NaN : this.values[offset + channel];
  }

  tap(tap: TapName, field: TapField, channel = 0): number {
    return this.get(`${tap}.${field}`, channel);
  }

  slice(field: MeterField): Float32Array {
    const offset = this.layout.offsets[field];
    if (offset === undefined) return new Float32Array(0);
    return this.values.subarray(offset, offset + this.layout.widths[field]);
  }
}
