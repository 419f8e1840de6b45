/**
 * The limiter's quality goals (issue 11), on generated signals: pumping, distortion, loudness at
 * the ceiling, DC, a file that starts at full scale, click-free switching, and the property that
 * the gain is never above what a sample needs. Judged by engine/src/analysis/distortion.ts and the
 * independent 16x reference meter. Ceiling -1 dBTP throughout unless a test says otherwise.
 */
import { describe, expect, it } from 'vitest';
import {
  bandEnvelope,
  kickAndTone,
  pumpingMs,
  sine,
  smpteImd,
  smpteImdSignal,
  thdN,
} from '../../engine/src/analysis/distortion.ts';
import { DemoProgram } from '../../engine/src/demo-program.ts';
import { measureLoudness } from '../../engine/src/loudness.ts';
import { fadeOutFileEnd } from '../../engine/src/master.ts';
import type { ParameterValues } from '../../engine/src/params.ts';
import { truePeakDbtp } from '../helpers/reference-true-peak.ts';
import { onlyStages, render, seededRandom, whiteNoise } from '../helpers/signals.ts';

const SR = 48000;
const CEILING = -1;
// Float rounding of the output, nothing more (as in limiter.test.ts).
const FLOAT_SLACK_DB = 0.001;

function fadeOutLastMs(x: Float32Array): Float32Array {
  fadeOutFileEnd(x, new Float32Array(x.length), 0, x.length, SR);
  return x;
}

const stereoTruePeak = (out: { left: Float32Array; right: Float32Array }) =>
  Math.max(truePeakDbtp(out.left, SR), truePeakDbtp(out.right, SR));
const limiterAlone = (values: ParameterValues = {}): ParameterValues => ({
  ...onlyStages('limiter'),
  'limiter.ceiling': CEILING,
  ...values,
});

describe('limiter quality', () => {
  it('pumps a steady tone under a kick for at most 50 ms per beat at +6 dB drive', () => {
    // Issue 11's figures on this signal: x42 dpl 56 ms, ffmpeg alimiter 52 ms, the old limiter
    // 481 ms. Today's limiter measures 48 ms: an exponential release alone (73 ms) crawled over
    // its last dB slower than the kick decays.
    const x = kickAndTone(SR, 4);
    const out = render(x, x.slice(), limiterAlone({ 'limiter.gain': 6 }));
    expect(pumpingMs(x, out.left, SR, 0, 6)).toBeLessThanOrEqual(50);
  });

  for (const [hz, goalDb] of [
    [50, -65],
    [100, -75],
    [1000, -120],
  ] as const) {
    it(`keeps THD+N of a full-scale ${hz} Hz sine driven +6 dB at or under ${goalDb} dB`, () => {
      // A steady sine needs a constant gain: anything the limiter adds is gain ripple at 2f and up.
      const x = sine(SR, 3, hz, 1);
      const out = render(x, x.slice(), limiterAlone({ 'limiter.gain': 6 }));
      // Steady state: the first second (the limiter catching the full-scale onset) is skipped.
      expect(thdN(out.left, SR, hz, { skipSeconds: 1 })).toBeLessThanOrEqual(goalDb);
    });
  }

  it('keeps SMPTE IMD driven +6 dB at or under -50 dB', () => {
    const x = smpteImdSignal(SR, 3, 1);
    const out = render(x, x.slice(), limiterAlone({ 'limiter.gain': 6 }));
    expect(smpteImd(out.left, SR, { skipSeconds: 1 })).toBeLessThanOrEqual(-50);
  });

  it('masters a dense program to -7 LUFS within 0.3 LU with its true peak at the ceiling and no over', () => {
    // The demo program plus a wide noise bed and a pad 20 dB down: dense, like a modern master.
    const seconds = 8;
    const { left, right } = DemoProgram.render(SR, seconds);
    const bedL = whiteNoise(left.length, 0.05, 11);
    const bedR = whiteNoise(left.length, 0.05, 12);
    const pad = sine(SR, seconds, 220, 0.1);
    const l = left.map((v, i) => v + bedL[i] + pad[i]);
    const r = right.map((v, i) => v + bedR[i] + 0.9 * pad[i]);
    // Secant search on the drive, as master.ts does (first guess from the input's loudness).
    const target = -7;
    let drive = target - measureLoudness(l, r, SR).integratedLufs!;
    const tried: Array<[number, number]> = [];
    let out = render(l, r, { 'limiter.gain': drive });
    for (let pass = 0; pass < 6; pass++) {
      const lufs = measureLoudness(out.left, out.right, SR).integratedLufs!;
      if (Math.abs(lufs - target) <= 0.1) break;
      tried.push([drive, lufs]);
      let next = drive + (target - lufs);
      if (tried.length >= 2) {
        const [[d0, l0], [d1, l1]] = tried.slice(-2);
        const slope = (l1 - l0) / (d1 - d0);
        if (slope > 0.05) next = d1 + (target - l1) / slope;
      }
      drive = Math.min(24, Math.max(-12, next));
      out = render(l, r, { 'limiter.gain': drive });
    }
    const lufs = measureLoudness(out.left, out.right, SR).integratedLufs!;
    const tp = stereoTruePeak(out);
    // 0.3 LU: the rig's promise for a mastered file; the true peak within 0.05 dB of the ceiling
    // (the limiter aims 0.02 dB under it, limiter.h's kSafetyDb).
    expect({
      lufs: Math.abs(lufs - target) <= 0.3 ? 'on target' : lufs,
      over: tp <= CEILING + FLOAT_SLACK_DB ? 'none' : tp,
    }).toEqual({ lufs: 'on target', over: 'none' });
    expect(tp).toBeGreaterThanOrEqual(CEILING - 0.05);
  });

  it("lets a high-frequency burst go after its own short half period, not a bass note's", () => {
    // The hold follows the peak's waveform: a 4 kHz burst is held for its 0.125 ms half period,
    // where a fixed 50 Hz hold kept every peak's requirement for 10 ms. A steady 50 Hz note still
    // sees a constant gain (its THD+N is tested above).
    const n = SR;
    const burstStart = SR / 2;
    const burstEnd = burstStart + SR / 50;
    const x = Float32Array.from({ length: n }, (_, i) => {
      const tone = 0.03 * Math.sin((2 * Math.PI * 500 * i) / SR);
      const burst = i >= burstStart && i < burstEnd ? Math.sin((2 * Math.PI * 4000 * i) / SR) : 0;
      return tone + burst;
    });
    const out = render(x, x.slice(), limiterAlone({ 'limiter.gain': 6 }));
    const envIn = bandEnvelope(x, SR, 500, 100);
    const envOut = bandEnvelope(out.left, SR, 500, 100);
    const withinOneDb = 10 ** (5 / 20);
    let back = burstEnd;
    while (back < n && envOut[back] / envIn[back] < withinOneDb) back++;
    // 31.1 ms from the burst's end to the tone back within 1 dB (most of it the release from 7 dB);
    // a fixed 50 Hz hold took 35.5 ms, the extra 4.4 ms being the hold beyond the lookahead.
    expect(((back - burstEnd) / SR) * 1000).toBeLessThanOrEqual(33);
  });

  it('keeps deep limiting under the ceiling across its periodic re-sums', () => {
    // The limiter re-sums its gain average every 65536 samples (1.4 s). Done before the write
    // position moved, it left the newest gain out of the sum and the oldest in, until the next
    // re-sum; where the gain had just fallen into deep reduction at that instant, the error (a
    // fixed amount of linear gain) was a large part of a small gain: up to 0.12 dB over on real
    // music at +14 dB, hidden under the old 0.1 dB margin. Noise bursts out of silence that start
    // just before each re-sum catch it.
    const random = seededRandom(0x5eed);
    // The onset reaches the limiter's newest gain some samples after it enters the chain (its
    // detector's delay, the bypassed stages' alignment): onsets over a range of leads cover it.
    const leads = [40, 100, 160, 220, 280, 340, 400, 460];
    const l = new Float32Array((leads.length + 1) * 65536);
    const r = new Float32Array(l.length);
    leads.forEach((lead, k) => {
      for (let i = (k + 1) * 65536 - lead; i < (k + 1) * 65536 + SR / 2; i++) {
        l[i] = 0.7 * (random() * 2 - 1);
        r[i] = 0.7 * (random() * 2 - 1);
      }
    });
    for (const drive of [14, 20]) {
      const tp = stereoTruePeak(render(l, r, limiterAlone({ 'limiter.gain': drive })));
      expect({ drive, over: tp <= CEILING + FLOAT_SLACK_DB ? 'none' : tp }).toEqual({ drive, over: 'none' });
    }
  });

  it('blocks a DC offset at the input by default, and passes it with input.dcBlock off', () => {
    const x = sine(SR, 3, 1000, 0.1);
    const withDc = x.map((v) => v - 0.2);
    const lastSecondMean = (y: Float32Array) => y.subarray(y.length - SR).reduce((s, v) => s + v, 0) / SR;
    const blocked = render(withDc, x.slice(), {});
    // 1e-4: the 5 Hz high-pass has settled to e^-40 of the step by the last second; what is left
    // is the sine's own mean over a whole number of periods (zero) and float rounding.
    expect(Math.abs(lastSecondMean(blocked.left))).toBeLessThan(1e-4);
    const passed = render(withDc, x.slice(), { 'input.dcBlock': 0 });
    // The offset goes through the chain at defaults, the compressor taking at most ~2 dB of it.
    expect(lastSecondMean(passed.left)).toBeLessThan(-0.1);
  });

  for (const [name, make] of [
    [
      'a 0 dBFS 1 kHz square',
      () =>
        Float32Array.from({ length: SR / 2 }, (_, i) =>
          Math.sin((2 * Math.PI * 1000 * (i + 0.5)) / SR) >= 0 ? 1 : -1,
        ),
    ],
    // Faded out over its last millisecond as master.ts fades every file's end: the cut at the
    // end is the file's own step, which this test is not about.
    ['a full-scale sine starting at its peak', () => fadeOutLastMs(sine(SR, 0.5, 1000, 1, Math.PI / 2))],
  ] as const) {
    it(`keeps ${name} from sample 0 under the ceiling at +12 dB drive, the first 100 samples included`, () => {
      const x = make();
      const out = render(x, x.slice(), { 'limiter.gain': 12 });
      // Trimmed by the latency as master does: output sample 0 is input sample 0, none dropped.
      expect(out.left.length).toBe(x.length);
      // The head is there, not muted (a fade-in would pass the ceiling trivially)...
      expect(Math.max(...out.left.subarray(0, 100).map(Math.abs))).toBeGreaterThan(0.1);
      // ...and the reference meter over the whole output covers samples 0..99 with their full
      // kernel context (a meter over a cut-out head would invent intersample values at the cut).
      expect(stereoTruePeak(out)).toBeLessThanOrEqual(CEILING + FLOAT_SLACK_DB);
    });
  }

  // 100 Hz, driven 6 dB into the ceiling: slow enough that a step in gain stands out against
  // the sine's own slope (a 0.1 dB jump at the crest is 0.9x the largest sample-to-sample step).
  const switching = [
    { name: 'limiter.style among its three values', id: 'limiter.style', values: [0, 1, 2] },
    { name: 'the clipper in and out (clipper.bypass)', id: 'clipper.bypass', values: [0, 1] },
  ];
  for (const { name, id, values } of switching) {
    it(`switches ${name} every 100 ms on a steady sine without a click`, () => {
      const x = sine(SR, 3, 100, 1);
      const base = { ...onlyStages('limiter'), 'limiter.gain': 6, 'limiter.ceiling': CEILING };
      // From the settled part to 100 ms before the end: the sine stops dead at the end of the
      // input, and the step the limiter's band-limiting makes of that is no switching click.
      const maxStep = (y: Float32Array) => {
        let m = 0;
        for (let i = SR / 2 + 1; i < y.length - SR / 10; i++) m = Math.max(m, Math.abs(y[i] - y[i - 1]));
        return m;
      };
      // Reference: the largest step of each setting held steady (a clipped sine is steeper).
      const reference = Math.max(
        ...values.map((v) => maxStep(render(x, x.slice(), { ...base, [id]: v }).left)),
      );
      const switched = render(x, x.slice(), base, {
        block: 480,
        onBlock: (chain, start) => {
          if (start % (SR / 10) === 0) chain.set(id, values[(start / (SR / 10)) % values.length]);
        },
      });
      // 5 %: a smooth crossfade between two steady states moves the slope only between their
      // two values; a click, a step of a hundredth of a dB or more at the crest, shows above it.
      expect(maxStep(switched.left)).toBeLessThanOrEqual(reference * 1.05);
    });
  }

  it('never applies more gain than a sample needs: 50 random signals stay under the ceiling', () => {
    const random = seededRandom(0x11);
    const worst: string[] = [];
    for (let n = 0; n < 50; n++) {
      const frames = SR / 4;
      const l = new Float32Array(frames);
      const r = new Float32Array(frames);
      const parts: string[] = [];
      const layers = 1 + Math.floor(random() * 3);
      for (let k = 0; k < layers; k++) {
        const kind = Math.floor(random() * 4);
        const amp = 0.1 + random();
        if (kind === 0) {
          const hz = 20 * 1000 ** random(); // 20 Hz .. 20 kHz, log-uniform
          const phase = random() * 2 * Math.PI;
          for (let i = 0; i < frames; i++) {
            l[i] += amp * Math.sin((2 * Math.PI * hz * i) / SR + phase);
            r[i] += amp * Math.sin((2 * Math.PI * hz * i) / SR + phase * random());
          }
          parts.push(`sine ${hz.toFixed(0)} Hz`);
        } else if (kind === 1) {
          const at = Math.floor(random() * frames * 0.8);
          const length = Math.floor(random() * SR * 0.05);
          for (let i = at; i < Math.min(frames, at + length); i++) {
            l[i] += amp * (2 * random() - 1);
            r[i] += amp * (2 * random() - 1);
          }
          parts.push('noise burst');
        } else if (kind === 2) {
          for (let j = 0; j < 5; j++) {
            const at = Math.floor(random() * frames);
            l[at] += amp * (random() < 0.5 ? -1 : 1);
            r[at] += amp * (random() < 0.5 ? -1 : 1);
          }
          parts.push('impulses');
        } else {
          for (let i = 0; i < frames; i++) {
            l[i] += Math.max(-amp, Math.min(amp, 3 * amp * (2 * random() - 1)));
            r[i] += Math.max(-amp, Math.min(amp, 3 * amp * (2 * random() - 1)));
          }
          parts.push('clipped noise');
        }
      }
      const drive = 24 * random();
      const lookahead = 0.5 * 10 ** random();
      const style = Math.floor(random() * 3);
      const out = render(
        l,
        r,
        limiterAlone({ 'limiter.gain': drive, 'limiter.lookahead': lookahead, 'limiter.style': style }),
      );
      const over = stereoTruePeak(out) - CEILING;
      if (over > FLOAT_SLACK_DB)
        worst.push(
          `#${n} ${parts.join(' + ')}, drive ${drive.toFixed(1)}, lookahead ${lookahead.toFixed(2)} ms, style ${style}: +${over.toFixed(3)} dB`,
        );
    }
    expect(worst).toEqual([]);
  });
});
