/** The distortion and dynamics measures, on signals whose answer is known analytically. */
import { describe, expect, it } from 'vitest';
import {
  KICK_PERIOD_S,
  PUMP_TONE_HZ,
  PUMP_TONE_PEAK,
  kickAndTone,
  pumpingMs,
  sine,
  smpteImd,
  smpteImdSignal,
  thdN,
} from '../../engine/src/analysis/distortion.ts';

const SR = 48000;

describe('THD+N', () => {
  it('gives the THD of a sine with a known 2nd harmonic', () => {
    for (const [hz, harmonicDb] of [
      [50, -40],
      [1000, -60],
      [997, -100],
    ] as const) {
      const h = 10 ** (harmonicDb / 20);
      const x = Float32Array.from(
        sine(SR, 2, hz, 0.5),
        (v, i) => v + 0.5 * h * Math.sin((2 * Math.PI * 2 * hz * i) / SR + 0.3),
      );
      // 0.05 dB: float32 rounding of the test signal sits 50+ dB under the harmonic.
      expect(thdN(x, SR, hz)).toBeCloseTo(harmonicDb, 1);
    }
  });

  it('resolves -130 dB on a float sine', () => {
    // A float32 sine's own rounding is about -150 dB; the measure must not add its own floor.
    expect(thdN(sine(SR, 2, 1000, 1), SR, 1000)).toBeLessThan(-130);
    expect(thdN(sine(SR, 2, 50, 1), SR, 50)).toBeLessThan(-130);
  });

  it('ignores DC and counts white noise at its RMS', () => {
    let seed = 7;
    const noise = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * Math.sqrt(12); // unit RMS
    const noiseRms = 1e-3;
    const x = Float32Array.from(sine(SR, 2, 1000, Math.SQRT2), (v) => v + 0.1 + noiseRms * noise());
    // Fundamental RMS 1, noise RMS 1e-3: -60 dB. 0.1 dB: 72 000 noise samples estimate the RMS to 0.3 %.
    expect(Math.abs(thdN(x, SR, 1000) + 60)).toBeLessThan(0.1);
  });
});

describe('SMPTE IMD', () => {
  it('gives the modulation depth of an AM-modulated 7 kHz carrier', () => {
    for (const depthDb of [-20, -50, -80]) {
      const m = 10 ** (depthDb / 20);
      const x = Float32Array.from(
        smpteImdSignal(SR, 2, 1),
        (v, i) =>
          v + 0.2 * m * Math.cos((2 * Math.PI * 60 * i) / SR) * Math.sin((2 * Math.PI * 7000 * i) / SR),
      );
      // 0.1 dB: the +-500 Hz demodulation band's Butterworth is flat to 0.0001 dB at 60 Hz.
      expect(Math.abs(smpteImd(x, SR) - depthDb)).toBeLessThan(0.1);
    }
  });

  it('sums the 120 Hz sideband power with the 60 Hz one', () => {
    const m = 0.01;
    const x = Float32Array.from(
      smpteImdSignal(SR, 2, 1),
      (v, i) =>
        v +
        0.2 *
          m *
          (Math.cos((2 * Math.PI * 60 * i) / SR) + Math.sin((2 * Math.PI * 120 * i) / SR)) *
          Math.sin((2 * Math.PI * 7000 * i) / SR),
    );
    expect(smpteImd(x, SR)).toBeCloseTo(20 * Math.log10(m * Math.SQRT2), 1);
  });

  it('reads a clean pair at its float floor', () => {
    // The 60 Hz tone, 12 dB above the carrier, is rejected by the 8th-order demodulation filter.
    expect(smpteImd(smpteImdSignal(SR, 2, 1), SR)).toBeLessThan(-110);
  });
});

describe('pumping', () => {
  const tone = (seconds: number) => sine(SR, seconds, PUMP_TONE_HZ, PUMP_TONE_PEAK);

  it('measures a known gain dip of known length', () => {
    for (const dipMs of [10, 50, 300]) {
      const x = tone(4);
      const period = KICK_PERIOD_S * SR;
      const dip = (dipMs / 1000) * SR;
      const gain = 2; // +6 dB drive
      const y = Float32Array.from(x, (v, i) => v * gain * (i % period < dip ? 0.5 : 1));
      // 2 ms: the envelope filter smears each gain step over ~2 ms, and the -1 dB crossing of the
      // recovery lands later than that of the fall (78 % against 22 % of the -6 dB step): a
      // bias of +1.4 ms, measured, whatever the dip's length.
      expect(Math.abs(pumpingMs(x, y, SR, 0, 6) - dipMs)).toBeLessThan(2);
    }
  });

  it('lines up a delayed output by its latency and reads no dip as none', () => {
    const x = kickAndTone(SR, 3);
    const latency = 123;
    const y = new Float32Array(x.length + latency);
    y.set(x, latency);
    expect(pumpingMs(x, y, SR, latency)).toBe(0);
  });

  it('ignores a dip shallower than 1 dB', () => {
    const x = tone(3);
    const y = Float32Array.from(
      x,
      (v, i) => v * (i % (KICK_PERIOD_S * SR) < 0.2 * SR ? 10 ** (-0.8 / 20) : 1),
    );
    expect(pumpingMs(x, y, SR)).toBe(0);
  });
});
