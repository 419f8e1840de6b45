/**
 * Delivery targets engineers master to, one per platform or medium: the loudness to aim at, the
 * ceiling, the codecs the platform streams in (what listeners hear, so what the codec check
 * decodes) and what its loudness normalisation does on playback. Loudness in LUFS (integrated,
 * BS.1770), ceilings in dBTP. Browser-safe: the page's target selector lists these.
 *
 * Sources, as the platforms publish them (read 2026):
 * - Spotify for Artists, "Loudness normalization" and "Track not as loud as others?": playback at
 *   -14 LUFS (ITU 1770); louder tracks turned down; quieter ones turned up only as far as their
 *   peaks allow with 1 dB of headroom; masters above -14 LUFS should peak under -2 dBTP because
 *   encoding raises peaks. Streams Ogg Vorbis up to 320 kbps (Very high) and AAC 128/256 kbps on
 *   the web player.
 * - Apple, "Apple Digital Masters" and Sound Check: playback at -16 LUFS, both ways as far as the
 *   peaks allow; AAC 256 kbps; -1 dBTP recommended for the AAC encode.
 * - YouTube Help, audio on YouTube: playback at -14 LUFS, louder uploads turned down, quieter
 *   ones not turned up; streams Opus (about 160 kbps, itag 251) and AAC 128 kbps (itag 140).
 * - Tidal (normalisation per BS.1770 at -14 LUFS, never turned up, as Tidal told MeterPlugs in
 *   2016): FLAC lossless and AAC 320 kbps.
 * - SoundCloud Help, "Supported file types": streams MP3 128 kbps and Opus 64 kbps; no
 *   normalisation on playback, so -14 LUFS / -1 dBTP is the convention the issue asks for.
 * - Amazon Music, "Amazon Music HD": FLAC lossless for HD, up to 320 kbps for SD; playback
 *   normalised to -14 LUFS, turned down only.
 * - Club: loud masters for DJ use, -9 to -7 LUFS, -0.3 dBTP, no normalisation.
 * - CD (Red Book): 16-bit 44.1 kHz, dithered; -9 to -12 LUFS is common practice, sample peaks to
 *   0 dBFS (a true-peak ceiling of -0.1 dBTP keeps the dithered samples clear of clipping); no
 *   normalisation.
 */

/** A lossy codec a platform streams in, as ffmpeg names its encoder. */
export interface StreamCodec {
  codec: 'aac' | 'mp3' | 'opus' | 'vorbis';
  kbps: number;
}

/** What a platform's normalisation does when it plays a master. */
export interface Normalisation {
  /** The playback loudness it aims at. */
  playbackLufs: number;
  /** Whether a master quieter than that is turned up. */
  turnsUp: boolean;
  /** When turning up, how close to 0 dBTP the peaks may come (Spotify keeps 1 dB). */
  upHeadroomDb?: number;
}

export interface DeliveryPreset {
  targetLufs: number;
  /** Where the platform accepts a range (club, CD): the target sits inside it. */
  targetRange?: [number, number];
  ceilingDbtp: number;
  /** Also write a 16-bit, 44.1 kHz dithered master. */
  cd?: boolean;
  /** The codecs a codec check decodes through; empty where the medium is lossless. */
  codecs: StreamCodec[];
  /** Absent where nothing normalises playback (club, CD). */
  normalisation?: Normalisation;
  note: string;
}

export const PRESETS: Record<string, DeliveryPreset> = {
  spotify: {
    targetLufs: -14,
    ceilingDbtp: -1,
    codecs: [
      { codec: 'vorbis', kbps: 320 },
      { codec: 'vorbis', kbps: 160 },
      { codec: 'aac', kbps: 256 },
      { codec: 'aac', kbps: 128 },
    ],
    normalisation: { playbackLufs: -14, turnsUp: true, upHeadroomDb: 1 },
    note: 'Spotify plays at -14 LUFS (turns quieter masters up as far as -1 dBTP allows); Ogg Vorbis and AAC',
  },
  apple: {
    targetLufs: -16,
    ceilingDbtp: -1,
    codecs: [{ codec: 'aac', kbps: 256 }],
    normalisation: { playbackLufs: -16, turnsUp: true, upHeadroomDb: 0 },
    note: 'Apple Music Sound Check plays at -16 LUFS; AAC 256 kbps',
  },
  youtube: {
    targetLufs: -14,
    ceilingDbtp: -1,
    codecs: [
      { codec: 'opus', kbps: 160 },
      { codec: 'opus', kbps: 96 },
      { codec: 'aac', kbps: 128 },
    ],
    normalisation: { playbackLufs: -14, turnsUp: false },
    note: 'YouTube turns louder uploads down to -14 LUFS; Opus and AAC 128 kbps',
  },
  tidal: {
    targetLufs: -14,
    ceilingDbtp: -1,
    codecs: [{ codec: 'aac', kbps: 320 }],
    normalisation: { playbackLufs: -14, turnsUp: false },
    note: 'Tidal plays at -14 LUFS, never turns up; FLAC and AAC 320 kbps',
  },
  soundcloud: {
    targetLufs: -14,
    ceilingDbtp: -1,
    codecs: [
      { codec: 'mp3', kbps: 128 },
      { codec: 'opus', kbps: 64 },
    ],
    note: 'SoundCloud plays as uploaded; MP3 128 kbps and Opus 64 kbps',
  },
  amazon: {
    targetLufs: -14,
    ceilingDbtp: -1,
    codecs: [{ codec: 'mp3', kbps: 320 }],
    normalisation: { playbackLufs: -14, turnsUp: false },
    note: 'Amazon Music plays at -14 LUFS, turned down only; FLAC (HD) and up to 320 kbps (SD)',
  },
  club: {
    targetLufs: -8,
    targetRange: [-9, -7],
    ceilingDbtp: -0.3,
    codecs: [],
    note: 'loud master for DJ use, -9 to -7 LUFS; no platform normalisation',
  },
  cd: {
    targetLufs: -9,
    targetRange: [-12, -9],
    ceilingDbtp: -0.1,
    cd: true,
    codecs: [],
    note: 'CD master: 16-bit 44.1 kHz, dithered, -12 to -9 LUFS; no normalisation',
  },
};

/** Own keys only: `constructor` or `__proto__` is no preset. */
export function isPresetName(name: string): boolean {
  return Object.hasOwn(PRESETS, name);
}

export function getPreset(name: string): DeliveryPreset {
  if (!isPresetName(name))
    throw new RangeError(`unknown preset "${name}" (one of: ${Object.keys(PRESETS).join(', ')})`);
  return PRESETS[name];
}
