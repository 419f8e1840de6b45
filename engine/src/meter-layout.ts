/**
 * The meter frame: one fixed little-endian Float32 layout, declared here once.
 *
 * The native chain writes it once per block, the engine reads it, the dashboard receives it
 * as a binary WebSocket frame and the tests decode it, all through this declaration.
 * Loudness values are LUFS, peaks dBTP/dBFS, gain reduction dB (positive = reducing).
 * Conventions: -Infinity is digital silence; NaN is "not defined yet" (the integrated
 * loudness before any block passed the gate, an LRA before enough short-term blocks).
 */

/** 1/6-octave band centres from 20 Hz to ~20 kHz: fine enough to compare tonal balance with a reference. */
export const SPECTRUM_BAND_CENTERS_HZ: readonly number[] = Array.from(
  { length: 61 },
  (_, k) => 20 * Math.pow(2, k / 6),
);

/** Quantities measured on each tap (input and output of the chain), with their widths in floats. */
const TAP_FIELDS = [
  ['momentaryLufs', 1],
  ['shortTermLufs', 1],
  ['integratedLufs', 1],
  ['lra', 1],
  ['momentaryMaxLufs', 1],
  ['shortTermMaxLufs', 1],
  ['truePeakDbtp', 2], // per channel, this block
  ['truePeakMaxDbtp', 1], // both channels, since reset
  ['samplePeakDbfs', 2],
  ['samplePeakMaxDbfs', 1],
  ['rmsDbfs', 2], // 300 ms window, as a peak-programme meter's companion
  ['plr', 1], // true-peak max minus integrated
  ['correlation', 1], // -1..+1 over 300 ms
  ['spectrumDb', SPECTRUM_BAND_CENTERS_HZ.length],
] as const;

const DYNAMICS_FIELDS = [
  ['comp.grDb', 1],
  ['comp.grMaxDb', 1],
  ['limiter.grDb', 1],
  ['limiter.grMaxDb', 1],
  // The limiter's two stages (their sum is limiter.grDb) and the clipper's peak reduction.
  ['limiter.fastGrDb', 1],
  ['limiter.slowGrDb', 1],
  ['clipper.grDb', 1],
] as const;

/** Written by the real-time engine (not the native chain): health of the live audio path. */
const ENGINE_FIELDS = [
  ['engine.inputOverflows', 1],
  ['engine.outputUnderflows', 1],
  ['engine.dspLoadMean', 1],
  ['engine.dspLoadMax', 1],
  ['engine.chainLatencyMs', 1],
  ['engine.ioLatencyMs', 1],
  ['engine.deviceState', 1],
  ['engine.blocks', 1],
] as const;

/** What `engine.deviceState` holds. */
export enum DeviceState {
  /** Opening the device, at start or after a loss; the output is not taking blocks yet. */
  Starting = 0,
  Running = 1,
  /** The demo program or a file, paced by the engine's own clock. */
  Demo = 2,
  Lost = 3,
  Stopped = 4,
}

export type TapName = 'input' | 'output';
export type TapField = (typeof TAP_FIELDS)[number][0];
export type MeterField =
  `${TapName}.${TapField}` | (typeof DYNAMICS_FIELDS)[number][0] | (typeof ENGINE_FIELDS)[number][0];

function buildLayout(): {
  offsets: Record<MeterField, number>;
  widths: Record<MeterField, number>;
  length: number;
} {
  const offsets = {} as Record<MeterField, number>;
  const widths = {} as Record<MeterField, number>;
  let cursor = 0;
  const add = (name: MeterField, width: number) => {
    offsets[name] = cursor;
    widths[name] = width;
    cursor += width;
  };
  for (const tap of ['input', 'output'] as const)
    for (const [field, width] of TAP_FIELDS) add(`${tap}.${field}`, width);
  for (const [field, width] of DYNAMICS_FIELDS) add(field, width);
  for (const [field, width] of ENGINE_FIELDS) add(field, width);
  return { offsets, widths, length: cursor };
}

export const METER_LAYOUT = buildLayout();

/** Floats in one frame; the binary frame is METER_FRAME_LENGTH * 4 bytes. */
export const METER_FRAME_LENGTH = METER_LAYOUT.length;

export function meterValue(frame: Float32Array, field: MeterField, channel = 0): number {
  return frame[METER_LAYOUT.offsets[field] + channel];
}

export function meterSlice(frame: Float32Array, field: MeterField): Float32Array {
  const offset = METER_LAYOUT.offsets[field];
  return frame.subarray(offset, offset + METER_LAYOUT.widths[field]);
}
