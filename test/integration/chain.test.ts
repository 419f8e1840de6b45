/** The whole chain as one instrument: alignment, robustness, smoothing, level-matched bypass. */
import { describe, expect, it } from 'vitest';
import { MasteringChain } from '../../engine/src/chain.ts';
import { DemoProgram } from '../../engine/src/demo-program.ts';
import { measureLoudness } from '../../engine/src/loudness.ts';
import { METER_LAYOUT, meterValue } from '../../engine/src/meter-layout.ts';
import { PARAMETERS } from '../../engine/src/params.ts';
import { truePeakDbtp } from '../helpers/reference-true-peak.ts';
import { peak, render, rms, sine } from '../helpers/signals.ts';

const SR = 48000;

/** Energy above `cutoffHz` (a steep 4th-order high-pass from two RBJ biquads): clicks are broadband. */
function highBandRms(x: Float32Array, cutoffHz: number, start: number, end: number): number {
  const w = (2 * Math.PI * cutoffHz) / SR;
  const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  const b = [(1 + cos) / 2 / a0, -(1 + cos) / a0, (1 + cos) / 2 / a0];
  const a = [(-2 * cos) / a0, (1 - alpha) / a0];
  let y = Float64Array.from(x);
  for (let pass = 0; pass < 2; pass++) {
    const out = new Float64Array(y.length);
    let x1 = 0,
      x2 = 0,
      y1 = 0,
      y2 = 0;
    for (let i = 0; i < y.length; i++) {
      const v = b[0] * y[i] + b[1] * x1 + b[2] * x2 - a[0] * y1 - a[1] * y2;
      x2 = x1;
      x1 = y[i];
      y2 = y1;
      y1 = v;
      out[i] = v;
    }
    y = out;
  }
  let sum = 0;
  for (let i = start; i < end; i++) sum += y[i] * y[i];
  return Math.sqrt(sum / (end - start));
}

describe('mastering chain', () => {
  it('rejects an unknown parameter id instead of ignoring it', () => {
    const chain = new MasteringChain({ sampleRate: SR, maxBlock: 256 });
    expect(() => chain.set('limiter.celing', -1)).toThrow(/did you mean "limiter.ceiling"/);
  });

  it('reports one constant latency whatever is bypassed or set', () => {
    const base = new MasteringChain({ sampleRate: SR, maxBlock: 256 }).latencySamples;
    const bypassed = new MasteringChain({
      sampleRate: SR,
      maxBlock: 256,
      values: { 'eq.bypass': 1, 'comp.bypass': 1, 'character.bypass': 1, 'limiter.bypass': 1 },
    });
    const otherLookahead = new MasteringChain({
      sampleRate: SR,
      maxBlock: 256,
      values: { 'limiter.lookahead': 5 },
    });
    expect(bypassed.latencySamples).toBe(base);
    expect(otherLookahead.latencySamples).toBe(base);
  });

  it('aligns its output with its input once the reported latency is removed', () => {
    // A quiet click train: below every threshold, so the chain is linear and the clicks must land on their own samples.
    const left = new Float32Array(SR);
    for (let i = 1000; i < SR; i += 7919) left[i] = 0.05;
    const out = render(left, left.slice(), { 'character.bypass': 1 });
    for (let i = 1000; i < SR - 1000; i += 7919) {
      let best = i;
      for (let j = i - 50; j <= i + 50; j++) if (Math.abs(out.left[j]) > Math.abs(out.left[best])) best = j;
      expect(best).toBe(i);
    }
  });

  it('turns NaN and Inf into silence and recovers by itself', () => {
    const frames = SR * 2;
    const clean = sine(frames, SR, 440, 0.25);
    const dirty = clean.slice();
    for (let i = SR / 2; i < SR / 2 + 300; i++)
      dirty[i] = i % 3 === 0 ? NaN : i % 3 === 1 ? Infinity : -Infinity;
    const reference = render(clean, clean.slice(), {});
    const broken = render(dirty, dirty.slice(), {});
    expect(broken.left.every(Number.isFinite)).toBe(true);
    expect(broken.right.every(Number.isFinite)).toBe(true);
    expect(broken.chain.nonFiniteBlocks).toBeGreaterThan(0);
    // One second after the burst every stage has settled back to the clean run's level.
    const start = Math.round(1.6 * SR);
    expect(rms(broken.left, start, frames)).toBeCloseTo(rms(reference.left, start, frames), 3);
    const meters = broken.chain.meters;
    for (let i = 0; i < meters.length; i++)
      expect(Number.isNaN(meters[i]) && !isUndefinedMeter(i)).toBe(false);
  });

  it('ramps every continuous parameter without clicks', () => {
    // A 200 Hz tone; every jump of a continuous parameter from min to max must leave the band above
    // 8 kHz nearly empty. A click of even one sample step of 0.01 would put energy there at about -55 dB.
    const frames = SR;
    const continuous = PARAMETERS.filter((p) => !p.steps && !p.choices && !p.id.startsWith('character.'));
    const failures: string[] = [];
    for (const spec of continuous) {
      const left = sine(frames, SR, 200, 0.2);
      const out = render(
        left,
        sine(frames, SR, 200, 0.15, 0.5),
        { 'character.bypass': 1, [spec.id]: spec.min },
        {
          block: 256,
          onBlock: (chain, start) => {
            if (start === SR / 2) chain.set(spec.id, spec.max);
          },
        },
      );
      const window = [SR / 2 - 2048, SR / 2 + 4096] as const;
      const level = rms(out.left, ...window);
      const artefacts = highBandRms(out.left, 8000, ...window);
      const ratioDb = 20 * Math.log10(artefacts / Math.max(level, 1e-9));
      if (ratioDb > -70) failures.push(`${spec.id}: ${ratioDb.toFixed(1)} dB`);
    }
    expect(failures).toEqual([]);
  });

  it('plays the bypass at the processed loudness and still under the ceiling', () => {
    const { left, right } = DemoProgram.render(SR, 12);
    const values = { 'limiter.gain': 10, 'limiter.ceiling': -1 };
    const processed = render(left.slice(), right.slice(), values);
    // The engineer listens to the master for a while, then presses A/B: the match was learned meanwhile.
    const bypassed = render(left.slice(), right.slice(), values, {
      onBlock: (chain, start) => {
        if (start >= SR * 5 && chain.get('chain.bypass') === 0) chain.set('chain.bypass', 1);
      },
    });
    const from = SR * 6;
    const wet = measureLoudness(
      processed.left.subarray(from),
      processed.right.subarray(from),
      SR,
    ).integratedLufs!;
    const dry = measureLoudness(left.subarray(from), right.subarray(from), SR).integratedLufs!;
    const matched = measureLoudness(
      bypassed.left.subarray(from),
      bypassed.right.subarray(from),
      SR,
    ).integratedLufs!;
    expect(wet - dry).toBeGreaterThan(5); // the chain really is louder than its input here
    expect(Math.abs(matched - wet)).toBeLessThan(1); // A/B at equal loudness (short-term following: 1 LU)
    expect(truePeakDbtp(bypassed.left, SR)).toBeLessThanOrEqual(-1 + 0.01);
    expect(truePeakDbtp(bypassed.right, SR)).toBeLessThanOrEqual(-1 + 0.01);
  });

  it('meters the chain input and output in the declared frame layout', () => {
    const { left, right } = DemoProgram.render(SR, 5);
    const out = render(left, right, { 'limiter.gain': 6 });
    const frame = out.chain.meters;
    const inLufs = meterValue(frame, 'input.shortTermLufs');
    const outLufs = meterValue(frame, 'output.shortTermLufs');
    expect(inLufs).toBeGreaterThan(-30);
    expect(outLufs).toBeGreaterThan(inLufs + 3);
    expect(meterValue(frame, 'limiter.grMaxDb')).toBeGreaterThan(0.5);
    expect(meterValue(frame, 'output.truePeakMaxDbtp')).toBeLessThanOrEqual(-1 + 0.05);
    expect(peak(out.left)).toBeGreaterThan(0.5);
  });
});

/** NaN is a legal meter value only where the layout means "not defined yet". */
function isUndefinedMeter(index: number): boolean {
  for (const [name, offset] of Object.entries(METER_LAYOUT.offsets)) {
    if (index >= offset && index < offset + METER_LAYOUT.widths[name as keyof typeof METER_LAYOUT.widths]) {
      return /integratedLufs|lra|plr|engine\./.test(name);
    }
  }
  return false;
}
