/** The platforms' playback gain: turned down always, up only where the platform does and its peaks allow. */
import { describe, expect, it } from 'vitest';
import { playbackGain, playbackTable } from '../../engine/src/delivery/playback.ts';
import { PRESETS } from '../../engine/src/presets.ts';

describe('playbackGain', () => {
  it('turns a loud master down by its distance to the playback loudness, peaks with it', () => {
    const gain = playbackGain({ playbackLufs: -14, turnsUp: false }, -9, -1);
    expect(gain).toEqual({ gainDb: -5, truePeakAfterDbtp: -6, peakLimited: false });
  });

  it('never turns a quiet master up where the platform does not', () => {
    expect(playbackGain({ playbackLufs: -14, turnsUp: false }, -18, -3).gainDb).toBe(0);
  });

  it('turns up only as far as keeps the peaks the headroom under 0 dBTP', () => {
    // -18 LUFS peaking at -4 dBTP: 4 dB wanted, 3 dB allowed under Spotify's -1 dBTP.
    const limited = playbackGain({ playbackLufs: -14, turnsUp: true, upHeadroomDb: 1 }, -18, -4);
    expect(limited.gainDb).toBeCloseTo(3, 12);
    expect(limited.truePeakAfterDbtp).toBeCloseTo(-1, 12);
    expect(limited.peakLimited).toBe(true);
    // Peaks low enough: the whole way.
    expect(playbackGain({ playbackLufs: -16, turnsUp: true, upHeadroomDb: 0 }, -18, -6)).toEqual({
      gainDb: 2,
      truePeakAfterDbtp: -4,
      peakLimited: false,
    });
    // Peaks already over the limit: not raised at all, and never lowered for it.
    expect(playbackGain({ playbackLufs: -14, turnsUp: true, upHeadroomDb: 1 }, -18, -0.5).gainDb).toBe(0);
  });

  it('gives no gain for a silent master', () => {
    expect(playbackGain({ playbackLufs: -14, turnsUp: true }, null, null).gainDb).toBeNull();
  });
});

describe('playbackTable', () => {
  it('lists every preset that normalises playback, and only those', () => {
    const rows = playbackTable({ integratedLufs: -9, truePeakDbtp: -1 });
    expect(rows.map((r) => r.platform)).toEqual(
      Object.entries(PRESETS)
        .filter(([, p]) => p.normalisation)
        .map(([name]) => name),
    );
    expect(rows.map((r) => r.platform)).not.toContain('club');
    const apple = rows.find((r) => r.platform === 'apple')!;
    expect(apple).toMatchObject({ playbackLufs: -16, gainDb: -7, truePeakAfterDbtp: -8 });
  });
});
