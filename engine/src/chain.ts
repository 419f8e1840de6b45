/** The mastering chain as the rest of the rig sees it: schema-checked parameters, a meter frame. */
import { addon, type NativeChain } from './native.ts';
import {
  PARAMETERS,
  PARAMETER_IDS,
  clampValue,
  getSpec,
  parameterIndex,
  type ParameterValues,
} from './params.ts';
import { METER_FRAME_LENGTH, METER_LAYOUT, SPECTRUM_BAND_CENTERS_HZ } from './meter-layout.ts';

export interface ChainOptions {
  sampleRate: number;
  /** Largest block process() will be given, in frames. */
  maxBlock: number;
  /** Initial values; anything not named takes the schema default. */
  values?: ParameterValues;
  /** Where the meters go; one is made when not given. */
  meterFrame?: Float32Array;
}

export class MasteringChain {
  readonly sampleRate: number;
  readonly maxBlock: number;
  readonly meters: Float32Array;
  private readonly native: NativeChain;
  private readonly values = new Float64Array(PARAMETERS.length);

  constructor(options: ChainOptions) {
    this.sampleRate = options.sampleRate;
    this.maxBlock = options.maxBlock;
    this.meters = options.meterFrame ?? new Float32Array(METER_FRAME_LENGTH);
    this.native = new addon.NativeChain({
      sampleRate: options.sampleRate,
      maxBlock: options.maxBlock,
      parameterIds: PARAMETER_IDS,
      meterOffsets: METER_LAYOUT.offsets,
      spectrumBandsHz: SPECTRUM_BAND_CENTERS_HZ,
      meterFrame: this.meters,
    });
    PARAMETERS.forEach((spec, i) => (this.values[i] = spec.default));
    for (const [id, value] of Object.entries(options.values ?? {}))
      this.values[parameterIndex(id)] = clampValue(getSpec(id), value);
    this.native.setParams(this.values);
    // Initial values are the starting point, not a change: no ramps from the defaults.
    this.native.reset();
  }

  /** Sets one parameter (clamped to the schema); the chain ramps to it. Returns the value applied. */
  set(id: string, value: number): number {
    const index = parameterIndex(id);
    const applied = clampValue(PARAMETERS[index], value);
    this.values[index] = applied;
    this.native.setParam(index, applied);
    return applied;
  }

  /** By schema index, for the audio worker's per-block loop (the value is already clamped). */
  setByIndex(index: number, value: number): void {
    this.values[index] = value;
    this.native.setParam(index, value);
  }

  get(id: string): number {
    return this.values[parameterIndex(id)];
  }

  snapshot(): ParameterValues {
    return Object.fromEntries(PARAMETER_IDS.map((id, i) => [id, this.values[i]]));
  }

  /** Processes one block in place (left and right of equal length, at most maxBlock). */
  process(left: Float32Array, right: Float32Array): void {
    this.native.process(left, right);
  }

  /** Processes any length by splitting into maxBlock pieces. */
  processBuffer(left: Float32Array, right: Float32Array): void {
    for (let start = 0; start < left.length; start += this.maxBlock) {
      const end = Math.min(left.length, start + this.maxBlock);
      this.native.process(left.subarray(start, end), right.subarray(start, end));
    }
  }

  /** Total latency of the chain in samples; offline renders shift their output by this much. */
  get latencySamples(): number {
    return this.native.latency();
  }

  reset(): void {
    this.native.reset();
  }

  resetIntegrated(): void {
    this.native.resetIntegrated();
  }

  setIntegrationPaused(paused: boolean): void {
    this.native.setIntegrationPaused(paused);
  }

  get nonFiniteBlocks(): number {
    return this.native.nonFiniteBlocks();
  }
}
