/** Loads the C++ addon built by `npm install` (node-gyp) and types its surface. */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface NativeChainOptions {
  sampleRate: number;
  maxBlock: number;
  parameterIds: readonly string[];
  meterOffsets: Record<string, number>;
  spectrumBandsHz: readonly number[];
  meterFrame?: Float32Array;
}

export interface NativeChain {
  process(left: Float32Array, right: Float32Array): void;
  setParam(index: number, value: number): void;
  setParams(values: Float64Array): void;
  latency(): number;
  reset(): void;
  resetIntegrated(): void;
  setIntegrationPaused(paused: boolean): void;
  nonFiniteBlocks(): number;
}

export interface NativeAnalyzer {
  process(left: Float32Array, right: Float32Array): void;
  reset(): void;
  resetIntegrated(): void;
  setIntegrationPaused(paused: boolean): void;
  /** Samples the input guard repaired since reset()/resetIntegrated(), per channel [left, right]. */
  guardCounts(): { nonFinite: [number, number]; clamped: [number, number] };
}

export interface NativeResampler {
  process(interleaved: Float32Array): Float32Array;
  flush(): Float32Array;
  latencyInputFrames(): number;
}

export interface NativeDither {
  process(interleaved: Float32Array, out: Int32Array): void;
}

interface Addon {
  NativeChain: new (options: NativeChainOptions) => NativeChain;
  NativeAnalyzer: new (
    options: Omit<NativeChainOptions, 'parameterIds'> & {
      meterFrame: Float32Array;
      tap?: 'input' | 'output';
    },
  ) => NativeAnalyzer;
  NativeResampler: new (inputRate: number, outputRate: number, channels: number) => NativeResampler;
  NativeDither: new (bits: 16 | 24, channels: number, noiseShaping: boolean, seed: number) => NativeDither;
  /** 8x-oversampled count of interpolated points above a ceiling (benchmarks' independent judge). */
  countOvers: (channel: Float32Array, ceilingDb: number) => { overs: number; maxDbtp: number };
}

const addonPath = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../native/build/Release/rig_dsp.node',
);

function load(): Addon {
  try {
    return createRequire(import.meta.url)(addonPath) as Addon;
  } catch (error) {
    throw new Error(
      `the native DSP addon is not built (${addonPath}): run \`npm install\` (it builds with node-gyp and a C++17 compiler)\n${(error as Error).message}`,
    );
  }
}

let loaded: Addon | undefined;
const loadOnce = (): Addon => (loaded ??= load());

/**
 * The addon, loaded on first use rather than on import: the engine's index re-exports the chain,
 * and a command that never runs it (`rig --help`, `rig snapshots`) must keep working while the
 * addon is unbuilt or being rebuilt.
 */
export const addon: Addon = {
  get NativeChain() {
    return loadOnce().NativeChain;
  },
  get NativeAnalyzer() {
    return loadOnce().NativeAnalyzer;
  },
  get NativeResampler() {
    return loadOnce().NativeResampler;
  },
  get NativeDither() {
    return loadOnce().NativeDither;
  },
  get countOvers() {
    return loadOnce().countOvers;
  },
};
