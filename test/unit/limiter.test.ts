/** The true-peak limiter, alone in the chain, judged by the independent 16x reference meter. */
import { describe, expect, it } from 'vitest';
import { DemoProgram } from '../../engine/src/demo-program.ts';
import { meterValue } from '../../engine/src/meter-layout.ts';
import { truePeakDbtp } from '../helpers/reference-true-peak.ts';
import { onlyStages, render, rms, sine, whiteNoise } from '../helpers/signals.ts';

const SR = 48000;

const torture: Record<string, () => [Float32Array, Float32Array]> = {
  // Every sample at 0.707 of the peak: the classic intersample over.
  'fs/4 sine at 45 degrees': () => {
    const x = Float32Array.from({ length: SR / 2 }, (_, i) => Math.sin((Math.PI / 2) * i + Math.PI / 4));
    return [x, x.slice()];
  },
  'square wave 997 Hz': () => {
    const x = Float32Array.from({ length: SR / 2 }, (_, i) =>
      Math.sin((2 * Math.PI * 997 * i) / SR) >= 0 ? 1 : -1,
    );
    return [x, x.slice()];
  },
  'square wave 5 kHz': () => {
    const x = Float32Array.from({ length: SR / 2 }, (_, i) =>
      Math.sin((2 * Math.PI * 5003 * i) / SR) >= 0 ? 1 : -1,
    );
    return [x, x.map((v) => -v)];
  },
  'clipped white noise': () => [
    whiteNoise(SR / 2, 3, 7).map((v) => Math.max(-1, Math.min(1, v))),
    whiteNoise(SR / 2, 3, 8).map((v) => Math.max(-1, Math.min(1, v))),
  ],
  'sine sweep 20 Hz - 20 kHz': () => {
    const x = Float32Array.from({ length: SR }, (_, i) =>
      Math.sin(2 * Math.PI * (20 * (i / SR) + ((20000 - 20) / 2) * (i / SR) ** 2)),
    );
    return [x, x.slice()];
  },
  'music-like program': () => {
    const { left, right } = DemoProgram.render(SR, 4);
    return [left, right];
  },
};

describe('true-peak limiter', () => {
  for (const [name, make] of Object.entries(torture)) {
    it(`keeps ${name} under the ceiling at any drive and lookahead`, () => {
      const worst: string[] = [];
      for (const ceiling of [-1, -0.1]) {
        for (const lookahead of [0.5, 5]) {
          for (const drive of [0, 12, 24]) {
            const [l, r] = make();
            const out = render(l, r, {
              ...onlyStages('limiter'),
              'limiter.ceiling': ceiling,
              'limiter.lookahead': lookahead,
              'limiter.gain': drive,
            });
            const over = Math.max(truePeakDbtp(out.left, SR), truePeakDbtp(out.right, SR)) - ceiling;
            // 0.001 dB: float rounding of the output, nothing more.
            if (over > 0.001)
              worst.push(
                `ceiling ${ceiling}, lookahead ${lookahead}, drive ${drive}: +${over.toFixed(3)} dB`,
              );
          }
        }
      }
      expect(worst).toEqual([]);
    });
  }

  it('leaves a signal under the ceiling untouched but for its delay', () => {
    const x = sine(SR, SR, 1000, 0.3);
    // The DC blocker's phase shift at 1 kHz (0.3 degrees) is not the limiter's: off here.
    const out = render(x, x.slice(), { ...onlyStages('limiter'), 'input.dcBlock': 0 });
    const error = out.left.map((v, i) => v - x[i]);
    // The band-limiting filter's passband ripple is ~0.001 dB: the residual sits 60+ dB down.
    expect(20 * Math.log10(rms(error, 4800, SR - 4800) / rms(x))).toBeLessThan(-60);
    expect(meterValue(out.chain.meters, 'limiter.grMaxDb')).toBe(0);
  });

  it('stays under a ceiling that moves while it plays', () => {
    const { left, right } = DemoProgram.render(SR, 4);
    const out = render(
      left,
      right,
      { ...onlyStages('limiter'), 'limiter.gain': 12, 'limiter.ceiling': 0 },
      {
        onBlock: (chain, start) => {
          if (start >= SR && start < SR + 512) chain.set('limiter.ceiling', -3);
        },
      },
    );
    // After the 20 ms glide the new ceiling holds.
    const after = Math.round(1.1 * SR);
    expect(truePeakDbtp(out.left.subarray(after), SR)).toBeLessThanOrEqual(-3 + 0.001);
    expect(truePeakDbtp(out.left.subarray(0, SR - 100), SR)).toBeLessThanOrEqual(0.001);
  });

  it('reports its gain reduction', () => {
    const x = sine(SR, SR, 1000, 1);
    let reading = NaN;
    render(
      x,
      x.slice(),
      { ...onlyStages('limiter'), 'limiter.ceiling': -3 },
      {
        onBlock: (chain, start) => {
          if (start >= SR / 2 && Number.isNaN(reading)) reading = meterValue(chain.meters, 'limiter.grDb');
        },
      },
    );
    // A 0 dBFS sine into a -3 dBTP ceiling (aimed 0.1 dB lower): about 3.1 dB of reduction.
    expect(reading).toBeGreaterThan(3.0);
    expect(reading).toBeLessThan(3.3);
  });

  it('releases faster after a transient than after sustained limiting when auto release is on', () => {
    const recoveryMs = (burstSeconds: number) => {
      const n = SR * 3;
      const x = new Float32Array(n);
      const burstEnd = SR / 2 + Math.round(burstSeconds * SR);
      for (let i = 0; i < n; i++)
        x[i] = (i >= SR / 2 && i < burstEnd ? 1 : 0.1) * Math.sin((2 * Math.PI * 200 * i) / SR);
      const out = render(x, x.slice(), {
        ...onlyStages('limiter'),
        'limiter.ceiling': -12,
        'limiter.release': 200,
        'limiter.autoRelease': 1,
      });
      // Time after the burst until the quiet tone is back within 1 dB of its level.
      for (let i = burstEnd; i < n - 480; i += 48) {
        if (rms(out.left, i, i + 480) > 0.1 * Math.SQRT1_2 * 10 ** (-1 / 20))
          return ((i - burstEnd) / SR) * 1000;
      }
      return Infinity;
    };
    expect(recoveryMs(0.02)).toBeLessThan(recoveryMs(1.5));
  });
});
