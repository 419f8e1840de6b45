/**
 * What each platform's loudness normalisation does to a master when it plays it: the gain it
 * applies and where the master's true peak lands then. Pure, from the presets' `normalisation`
 * (presets.ts), so `rig master` and `rig deliver` print the same table.
 */
import { PRESETS, type DeliveryPreset, type Normalisation } from '../presets.ts';

export interface PlaybackGain {
  /** The gain the platform applies, dB (negative: turned down); null for a silent master. */
  gainDb: number | null;
  /** The master's true peak after that gain, dBTP; null when either is unknown. */
  truePeakAfterDbtp: number | null;
  /** Whether the platform would have turned it up further but its peaks did not allow it. */
  peakLimited: boolean;
}

export interface PlaybackRow extends PlaybackGain {
  platform: string;
  playbackLufs: number;
  turnsUp: boolean;
}

/**
 * The platform's gain for a master of `integratedLufs` peaking at `truePeakDbtp`: the distance to
 * its playback loudness; never up where it does not turn up; where it does, only as far as keeps
 * the peaks `upHeadroomDb` under 0 dBTP (Spotify's rule; a master already over that is not raised).
 */
export function playbackGain(
  normalisation: Normalisation,
  integratedLufs: number | null,
  truePeakDbtp: number | null,
): PlaybackGain {
  if (integratedLufs === null) return { gainDb: null, truePeakAfterDbtp: null, peakLimited: false };
  const wanted = normalisation.playbackLufs - integratedLufs;
  let gainDb = wanted;
  if (wanted > 0) {
    if (!normalisation.turnsUp) gainDb = 0;
    else if (truePeakDbtp !== null)
      gainDb = Math.min(wanted, Math.max(0, -(normalisation.upHeadroomDb ?? 0) - truePeakDbtp));
  }
  return {
    gainDb,
    truePeakAfterDbtp: truePeakDbtp === null ? null : truePeakDbtp + gainDb,
    peakLimited: normalisation.turnsUp && gainDb < wanted,
  };
}

/** Every preset that normalises playback, in the presets' order, with what it does to this master. */
export function playbackTable(
  master: { integratedLufs: number | null; truePeakDbtp: number | null },
  presets: Record<string, DeliveryPreset> = PRESETS,
): PlaybackRow[] {
  return Object.entries(presets).flatMap(([platform, preset]) => {
    const n = preset.normalisation;
    if (!n) return [];
    return [
      {
        platform,
        playbackLufs: n.playbackLufs,
        turnsUp: n.turnsUp,
        ...playbackGain(n, master.integratedLufs, master.truePeakDbtp),
      },
    ];
  });
}
