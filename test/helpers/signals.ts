/** Test signals generated in the tests themselves, and small measurements on them. */
import { MasteringChain } from '../../engine/src/chain.ts';
import { PARAMETERS, type ParameterValues } from '../../engine/src/params.ts';

/** Deterministic PRNG (mulberry32) so a failing noise test fails the same way twice. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sine(
  frames: number,
  sampleRate: number,
  freqHz: number,
  amplitude = 1,
  phaseRad = 0,
): Float32Array {
  const out = new Float32Array(frames);
  const w = (2 * Math.PI * freqHz) / sampleRate;
  for (let i = 0; i < frames; i++) out[i] = amplitude * Math.sin(w * i + phaseRad);
  return out;
}

export function whiteNoise(frames: number, amplitude: number, seed = 1): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) out[i] = amplitude * (2 * random() - 1);
  return out;
}

export function dbfs(x: number): number {
  return 20 * Math.log10(x);
}

export function rms(x: Float32Array, start = 0, end = x.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += x[i] * x[i];
  return Math.sqrt(sum / Math.max(1, end - start));
}

export function peak(x: Float32Array, start = 0, end = x.length): number {
  let m = 0;
  for (let i = start; i < end; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

/** Amplitude of one frequency component (Goertzel, Hann-windowed, corrected for window gain). */
export function toneAmplitude(
  x: Float32Array,
  sampleRate: number,
  freqHz: number,
  start = 0,
  end = x.length,
): number {
  const n = end - start;
  const w = (2 * Math.PI * freqHz) / sampleRate;
  let re = 0;
  let im = 0;
  let windowSum = 0;
  for (let i = 0; i < n; i++) {
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    const v = x[start + i] * hann;
    re += v * Math.cos(w * i);
    im -= v * Math.sin(w * i);
    windowSum += hann;
  }
  return (2 * Math.hypot(re, im)) / windowSum;
}

/** Every stage bypassed except the ones named: isolates one processor inside the real chain. */
export function onlyStages(
  ...stages: Array<'eq' | 'comp' | 'image' | 'character' | 'limiter'>
): ParameterValues {
  const values: ParameterValues = {};
  for (const stage of ['eq', 'comp', 'image', 'character', 'limiter'] as const)
    values[`${stage}.bypass`] = stages.includes(stage) ? 0 : 1;
  // The chain-level DC blocker is a filter of its own (a 5 Hz high-pass): off, so a stage is
  // measured alone. Tests of the whole chain do not use this helper.
  values['input.dcBlock'] = 0;
  return values;
}

/** Samples the chain fades in after a reset (chain.cpp): a stream's first millisecond. */
export const startFadeSamples = (sampleRate = 48000) => Math.round(sampleRate / 1000);

/** Runs stereo signals through a fresh chain; returns the output shifted back by the chain's latency. */
export function render(
  left: Float32Array,
  right: Float32Array,
  values: ParameterValues,
  options: {
    sampleRate?: number;
    block?: number;
    onBlock?: (chain: MasteringChain, startFrame: number) => void;
  } = {},
): { left: Float32Array; right: Float32Array; chain: MasteringChain } {
  const sampleRate = options.sampleRate ?? 48000;
  const block = options.block ?? 512;
  const chain = new MasteringChain({ sampleRate, maxBlock: block, values });
  const latency = chain.latencySamples;
  const total = left.length + latency;
  const outL = new Float32Array(total);
  const outR = new Float32Array(total);
  outL.set(left);
  outR.set(right);
  for (let start = 0; start < total; start += block) {
    options.onBlock?.(chain, start);
    const end = Math.min(total, start + block);
    chain.process(outL.subarray(start, end), outR.subarray(start, end));
  }
  return { left: outL.subarray(latency), right: outR.subarray(latency), chain };
}

export const PARAMETER_COUNT = PARAMETERS.length;
