/**
 * What the QC report of a delivered master shows, gathered from the files themselves: the master
 * read back and measured every 100 ms (momentary and short-term loudness, true peak by the 8x
 * judge), the input through the chain at the master's drive (gain reduction over time from the
 * chain's meters), and both spectra averaged over the whole file.
 */
import { playbackGain } from './playback.ts';
import { codecLabel } from './codec-check.ts';
import { LoudnessAnalyzer } from '../loudness.ts';
import type { MasterResult, RenderedFile } from '../master.ts';
import { SPECTRUM_BAND_CENTERS_HZ, meterSlice, meterValue } from '../meter-layout.ts';
import type { ParameterValues } from '../params.ts';
import { PRESETS } from '../presets.ts';
import { TOLERANCE_LU } from '../drive-search.ts';
import type { QcPlatform, QcReportData, TimeSeries } from '../report/qc-report.ts';
import { WavReader } from '../wav.ts';
import { StreamingJudge } from './codec-check.ts';
import { renderMeasured } from '../master.ts';
import { valuesAtDrive } from '../drive-search.ts';

export const SERIES_STEP_S = 0.1;

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

/** Power average of per-block band levels in dB; bands never above silence stay null. */
class SpectrumAverage {
  private readonly sums = new Float64Array(SPECTRUM_BAND_CENTERS_HZ.length);
  private blocks = 0;
  add(bandsDb: Float32Array): void {
    bandsDb.forEach((v, i) => {
      if (Number.isFinite(v)) this.sums[i] += 10 ** (v / 10);
    });
    this.blocks++;
  }
  result(): (number | null)[] {
    return Array.from(this.sums, (s) => (s > 0 && this.blocks ? 10 * Math.log10(s / this.blocks) : null));
  }
}

/** The master read back: loudness and true peak every 100 ms, and its spectrum. */
export function outputMeasures(file: string): {
  momentary: TimeSeries;
  shortTerm: TimeSeries;
  truePeak: TimeSeries;
  spectrumDb: (number | null)[];
  sampleRate: number;
  durationS: number;
} {
  // Read a step at a time: an hours-long master is never held whole.
  const reader = WavReader.open(file);
  const { sampleRate } = reader.info;
  const step = Math.round(SERIES_STEP_S * sampleRate);
  const analyzer = new LoudnessAnalyzer(sampleRate);
  const judge = new StreamingJudge(step, 0);
  const momentary: (number | null)[] = [];
  const shortTerm: (number | null)[] = [];
  const spectrum = new SpectrumAverage();
  let frames = 0;
  try {
    for (let block = reader.read(step); block.left.length; block = reader.read(step)) {
      analyzer.push(block.left, block.right);
      judge.push(block.left, block.right);
      frames += block.left.length;
      momentary.push(finiteOrNull(meterValue(analyzer.meters, 'input.momentaryLufs')));
      shortTerm.push(finiteOrNull(meterValue(analyzer.meters, 'input.shortTermLufs')));
      spectrum.add(meterSlice(analyzer.meters, 'input.spectrumDb'));
    }
  } finally {
    reader.close();
  }
  const truePeak = Array.from(judge.end().peaks, finiteOrNull);
  const series = (values: (number | null)[]) => ({ stepS: step / sampleRate, values });
  return {
    momentary: series(momentary),
    shortTerm: series(shortTerm),
    truePeak: series(truePeak),
    spectrumDb: spectrum.result(),
    sampleRate,
    durationS: frames / sampleRate,
  };
}

/**
 * The input through the chain with the master's settings, 100 ms at a time: the compressor's,
 * limiter's and clipper's reduction from the chain's meters, and the input's spectrum (the chain's
 * input tap). Without the codec-safe ceiling cuts, which move the limiter by tenths of a dB.
 */
export async function chainMeasures(
  input: string,
  values: ParameterValues,
  rendered: RenderedFile,
  sampleRate: number,
): Promise<{
  comp: TimeSeries;
  limiter: TimeSeries;
  clipper: TimeSeries;
  inputSpectrumDb: (number | null)[];
}> {
  const step = Math.round(SERIES_STEP_S * sampleRate);
  const comp: number[] = [];
  const limiter: number[] = [];
  const clipper: number[] = [];
  const spectrum = new SpectrumAverage();
  await renderMeasured(
    input,
    {
      ...values,
      'limiter.ceiling': rendered.ceilingDbtp,
      'limiter.gain': rendered.limiterGainDb,
      'input.trim': rendered.inputTrimDb,
    },
    step,
    (meters) => {
      // NaN until a stage has reduced anything: no reduction.
      comp.push(meterValue(meters, 'comp.grDb') || 0);
      limiter.push(meterValue(meters, 'limiter.grDb') || 0);
      clipper.push(meterValue(meters, 'clipper.grDb') || 0);
      spectrum.add(meterSlice(meters, 'input.spectrumDb'));
    },
  );
  const stepS = SERIES_STEP_S;
  return {
    comp: { stepS, values: comp },
    limiter: { stepS, values: limiter },
    clipper: { stepS, values: clipper },
    inputSpectrumDb: spectrum.result(),
  };
}

/** A row per chosen platform that normalises playback. */
export function platformRows(platforms: readonly string[], output: RenderedFile): QcPlatform[] {
  const integrated = output.report.integratedLufs;
  const peak = output.report.truePeakDbtp;
  if (integrated === null || peak === null) return [];
  return platforms.flatMap((name) => {
    const normalisation = PRESETS[name]?.normalisation;
    if (!normalisation) return [];
    const gainDb = playbackGain(normalisation, integrated, peak).gainDb ?? 0;
    return [
      {
        name,
        targetLufs: normalisation.playbackLufs,
        gainDb,
        turnedUp: gainDb > 0,
        peakAfterDbtp: peak + gainDb,
        ceilingDbtp: normalisation.upHeadroomDb !== undefined ? -normalisation.upHeadroomDb : 0,
      },
    ];
  });
}

export interface QcInputs {
  title: string;
  input: string;
  values: ParameterValues;
  result: MasterResult;
  platforms: readonly string[];
  settings: { key: string; value: string }[];
  notes: string[];
}

/** Everything the QC report of one delivered master shows. */
export async function gatherQcData(q: QcInputs): Promise<QcReportData> {
  const output = q.result.output;
  const measured = outputMeasures(output.file);
  const chain = await chainMeasures(q.input, q.values, output, measured.sampleRate);
  return {
    title: q.title,
    inputFile: q.input,
    outputFile: output.file,
    generatedAt: new Date().toISOString(),
    settings: q.settings,
    targetLufs: output.targetLufs,
    toleranceLu: TOLERANCE_LU,
    ceilingDbtp: output.ceilingDbtp,
    sampleRate: measured.sampleRate,
    durationS: measured.durationS,
    loudness: { input: q.result.input, output: output.report },
    codecs: (output.codecs ?? []).map((c) => ({
      codec: codecLabel(c),
      truePeakDbtp: finiteOrNull(c.truePeakDbtp),
      overs: c.overs,
      integratedLufs: c.integratedLufs,
    })),
    platforms: platformRows(q.platforms, output),
    series: {
      momentaryLufs: measured.momentary,
      shortTermLufs: measured.shortTerm,
      truePeakDbtp: measured.truePeak,
      gainReductionDb: { comp: chain.comp, limiter: chain.limiter, clipper: chain.clipper },
    },
    spectrum: {
      resolution: '1/6 octave',
      frequenciesHz: SPECTRUM_BAND_CENTERS_HZ,
      inputDb: chain.inputSpectrumDb,
      outputDb: measured.spectrumDb,
    },
    notes: q.notes,
  };
}
