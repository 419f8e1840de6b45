/** Delivery targets engineers master to. Loudness in LUFS (integrated), ceilings in dBTP. */
export interface DeliveryPreset {
  targetLufs: number;
  ceilingDbtp: number;
  /** Also write a 16-bit, 44.1 kHz dithered master. */
  cd?: boolean;
  note: string;
}

export const PRESETS: Record<string, DeliveryPreset> = {
  spotify: {
    targetLufs: -14,
    ceilingDbtp: -1,
    note: 'Spotify normalises to -14 LUFS; -1 dBTP survives lossy encoding',
  },
  apple: { targetLufs: -16, ceilingDbtp: -1, note: 'Apple Music Sound Check plays at -16 LUFS' },
  youtube: { targetLufs: -14, ceilingDbtp: -1, note: 'YouTube turns louder uploads down to -14 LUFS' },
  club: { targetLufs: -8, ceilingDbtp: -0.3, note: 'loud master for DJ use; no platform normalisation' },
  cd: { targetLufs: -9, ceilingDbtp: -0.3, cd: true, note: 'CD master: 16-bit 44.1 kHz, dithered' },
};

export function getPreset(name: string): DeliveryPreset {
  const preset = PRESETS[name];
  if (!preset) throw new RangeError(`unknown preset "${name}" (one of: ${Object.keys(PRESETS).join(', ')})`);
  return preset;
}
