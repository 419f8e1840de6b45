/**
 * An independent true-peak meter for the tests: 16x oversampling with a long windowed-sinc
 * kernel in double precision, written separately from the native detectors so it can judge them.
 * Only neighbourhoods that could hold the maximum are interpolated: an intersample peak of a
 * band-limited signal sits within a few samples of samples at least half its height.
 */
const TAPS_PER_SIDE = 32;

function kaiser(x: number, beta: number): number {
  const i0 = (v: number) => {
    let sum = 1;
    let term = 1;
    for (let k = 1; k < 60; k++) {
      term *= (v / (2 * k)) ** 2;
      sum += term;
    }
    return sum;
  };
  const r = 1 - x * x;
  return r <= 0 ? 0 : i0(beta * Math.sqrt(r)) / i0(beta);
}

function kernelTable(oversampling: number): Float64Array[] {
  const phases: Float64Array[] = [];
  for (let p = 0; p < oversampling; p++) {
    const frac = p / oversampling;
    const taps = new Float64Array(2 * TAPS_PER_SIDE);
    for (let k = 0; k < 2 * TAPS_PER_SIDE; k++) {
      const t = k - TAPS_PER_SIDE + 1 - frac; // distance from the interpolated point to sample n+k-TAPS+1
      const sinc = t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t);
      taps[k] = sinc * kaiser(t / (TAPS_PER_SIDE + 1), 9);
    }
    phases.push(taps);
  }
  return phases;
}

const tables = new Map<number, Float64Array[]>();

/** Largest |value| of the 16x-interpolated signal, in dBTP. */
export function truePeakDbtp(channel: Float32Array, _sampleRate: number, oversampling = 16): number {
  const phases = tables.get(oversampling) ?? kernelTable(oversampling);
  tables.set(oversampling, phases);
  let samplePeak = 0;
  for (const v of channel) samplePeak = Math.max(samplePeak, Math.abs(v));
  if (samplePeak === 0) return -Infinity;
  const threshold = samplePeak * 0.5;
  let peak = samplePeak;
  const n = channel.length;
  for (let i = 0; i + 1 < n; i++) {
    if (Math.max(Math.abs(channel[i]), Math.abs(channel[i + 1])) < threshold) continue;
    // Points between sample i and i+1: kernel taps centred there.
    for (let p = 1; p < oversampling; p++) {
      const taps = phases[p];
      let acc = 0;
      for (let k = 0; k < 2 * TAPS_PER_SIDE; k++) {
        const index = i + k - TAPS_PER_SIDE + 1;
        if (index >= 0 && index < n) acc += taps[k] * channel[index];
      }
      peak = Math.max(peak, Math.abs(acc));
    }
  }
  return 20 * Math.log10(peak);
}
