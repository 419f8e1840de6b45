/**
 * A delivery QC report's data, generated: a three-and-a-half-minute song's loudness, peaks and
 * gain reduction at the meters' 10 Hz, its spectra, three codecs (one clipping after decode) and
 * four platforms. Plain arithmetic, no native code, so the report's tests run without the addon.
 */
import { SPECTRUM_BAND_CENTERS_HZ } from '../../engine/src/meter-layout.ts';
import type { QcReportData } from '../../engine/src/report/qc-report.ts';

export const HOP_S = 0.1;
export const DURATION_S = 210;

// Sections of the song: [start s, short-term loudness LUFS]; null is silence (the end).
const ARRANGEMENT: Array<[number, number | null]> = [
  [0, -24],
  [12, -17],
  [45, -12.5],
  [75, -16],
  [105, -11.8],
  [140, -20],
  [160, -12],
  [195, -22],
  [204, null],
];

/** Deterministic wobble in -1..1: a few incommensurate sines, so no two seconds look alike. */
function wobble(t: number, seed: number): number {
  return (
    (Math.sin(t * 1.7 + seed) + Math.sin(t * 0.37 + 2 * seed) * 0.6 + Math.sin(t * 5.3 + 3 * seed) * 0.3) /
    1.9
  );
}

function sectionLevel(t: number): number | null {
  let level: number | null = null;
  for (const [start, lufs] of ARRANGEMENT) if (t >= start) level = lufs;
  return level;
}

function series(make: (t: number, level: number) => number): Array<number | null> {
  return Array.from({ length: Math.round(DURATION_S / HOP_S) }, (_, i) => {
    const t = i * HOP_S;
    const level = sectionLevel(t);
    return level === null ? null : make(t, level);
  });
}

export const HOSTILE_NAME = `"><script>alert('x')</script> & 'mix'.wav`;

export function syntheticQcData(overrides: Partial<QcReportData> = {}): QcReportData {
  const shortTerm = series((t, level) => level + 1.2 * wobble(t, 1));
  const momentary = series((t, level) => level + 3 * wobble(t * 3, 2) + 1.5 * wobble(t * 11, 5));
  // Peaks ride about 11 dB over the loudness, held by the limiter at -1.2 dBTP; one block
  // reaches -1.1, the output's true peak.
  const truePeak = series((t, level) => {
    if (Math.abs(t - 108.4) < 0.05) return -1.1;
    return Math.min(-1.2, level + 11 + 2 * wobble(t * 7, 3));
  });
  const limiter = series((t, level) => Math.max(0, (level + 13.5) * 1.4 + 0.8 * wobble(t * 9, 4)));
  const comp = series((t, level) => Math.max(0, (level + 20) * 0.35 + 0.5 * wobble(t * 2, 6)));
  const tilt = (hz: number, offsetDb: number, air: number) =>
    -18 -
    3.2 * Math.log2(hz / 100) +
    offsetDb +
    (hz < 40 ? -10 * Math.log2(40 / hz) : 0) +
    (hz > 8000 ? air : 0);
  const output = {
    integratedLufs: -13.8,
    shortTermMaxLufs: -10.2,
    momentaryMaxLufs: -8.1,
    lra: 6.4,
    truePeakDbtp: -1.1,
    plr: 12.7,
  };
  return {
    title: 'Delivery QC: Night Drive (master v3)',
    inputFile: 'night-drive-mix-v7.wav',
    outputFile: 'night-drive-master-v3.wav',
    generatedAt: '2025-03-14T16:20:00Z',
    settings: [
      { key: 'Preset', value: 'spotify' },
      { key: 'Chain', value: 'EQ → glue comp 2:1 → width 110% → limiter' },
      { key: 'Limiter ceiling', value: '−1.2 dBTP' },
      { key: 'Dither', value: 'TPDF, 16-bit delivery' },
    ],
    targetLufs: -14,
    toleranceLu: 1,
    ceilingDbtp: -1,
    sampleRate: 48000,
    durationS: DURATION_S,
    loudness: {
      input: {
        integratedLufs: -19.6,
        shortTermMaxLufs: -15.9,
        momentaryMaxLufs: -13.4,
        lra: 8.1,
        truePeakDbtp: -3.1,
        plr: 16.5,
      },
      output,
    },
    codecs: [
      { codec: 'AAC 256 kb/s', truePeakDbtp: -1.1, overs: 0, integratedLufs: -13.8 },
      { codec: 'MP3 320 kb/s', truePeakDbtp: -0.3, overs: 14, integratedLufs: -13.9 },
      { codec: 'Opus 160 kb/s', truePeakDbtp: -1.0, overs: 0, integratedLufs: -13.7 },
    ],
    platforms: [
      {
        name: 'Spotify',
        targetLufs: -14,
        gainDb: -0.2,
        turnedUp: false,
        peakAfterDbtp: -1.3,
        ceilingDbtp: -1,
      },
      {
        name: 'Apple Music',
        targetLufs: -16,
        gainDb: -2.2,
        turnedUp: false,
        peakAfterDbtp: -3.3,
        ceilingDbtp: -1,
      },
      {
        name: 'YouTube',
        targetLufs: -14,
        gainDb: -0.2,
        turnedUp: false,
        peakAfterDbtp: -1.3,
        ceilingDbtp: 0,
      },
      { name: 'Tidal', targetLufs: -14, gainDb: -0.2, turnedUp: false, peakAfterDbtp: -1.3, ceilingDbtp: 0 },
    ],
    series: {
      momentaryLufs: { stepS: HOP_S, values: momentary },
      shortTermLufs: { stepS: HOP_S, values: shortTerm },
      truePeakDbtp: { stepS: HOP_S, values: Float32Array.from(truePeak, (v) => v ?? -Infinity) },
      gainReductionDb: { comp: { stepS: HOP_S, values: comp }, limiter: { stepS: HOP_S, values: limiter } },
    },
    spectrum: {
      resolution: '1/6 octave',
      frequenciesHz: SPECTRUM_BAND_CENTERS_HZ,
      inputDb: SPECTRUM_BAND_CENTERS_HZ.map((hz) => tilt(hz, -5, -2) + 1.5 * wobble(hz / 300, 7)),
      outputDb: SPECTRUM_BAND_CENTERS_HZ.map((hz) => tilt(hz, 0, 1.5) + 1.2 * wobble(hz / 300, 7)),
    },
    ...overrides,
  };
}
