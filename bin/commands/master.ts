/** `rig master` and `rig analyze`: the chain over files. */
import { parseArgs } from 'node:util';
import {
  analyzeFile,
  analyzeInput,
  cdPath,
  checkMasterFiles,
  checkValue,
  codecLabel,
  ffmpegAvailable,
  formatReports,
  getPreset,
  getSpec,
  master,
  parseSampleFormat,
  playbackTable,
  renderToTarget,
  targetPath,
  type MasterOptions,
  type RenderedFile,
  type StreamCodec,
} from '../../engine/src/index.ts';
import {
  InterruptedError,
  UsageError,
  joinNegativeValues,
  parseNumber,
  parseSet,
  parseSettingsFile,
  progress,
  stoppableBySignals,
} from './common.ts';

export async function commandMaster(args: string[]): Promise<void> {
  const { values: flags, positionals } = parseArgs({
    args: joinNegativeValues(args),
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      preset: { type: 'string' },
      target: { type: 'string' },
      targets: { type: 'string' },
      ceiling: { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      settings: { type: 'string' },
      bits: { type: 'string' },
      'noise-shaping': { type: 'boolean', default: false },
      cd: { type: 'boolean', default: false },
      'codec-check': { type: 'string' },
      'codec-safe': { type: 'boolean' },
      'no-codec-safe': { type: 'boolean' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1)
    throw new UsageError('master needs exactly one input file: rig master IN.wav -o OUT.wav');
  if (!flags.output) throw new UsageError('master needs an output file: -o OUT.wav');
  const preset = flags.preset ? getPreset(flags.preset) : undefined;
  const values = {
    ...(flags.settings ? await parseSettingsFile(flags.settings) : {}),
    ...parseSet(flags.set ?? []),
  };
  const ceiling =
    parseNumber('--ceiling', flags.ceiling) ?? values['limiter.ceiling'] ?? preset?.ceilingDbtp ?? -1;
  checkValue(getSpec('limiter.ceiling'), ceiling);
  const targets = flags.targets
    ? flags.targets.split(',').map((t) => parseNumber('--targets', t) as number)
    : [parseNumber('--target', flags.target) ?? preset?.targetLufs ?? -14];
  for (const t of targets)
    if (t > 0 || t < -40) throw new UsageError(`target ${t} LUFS is outside -40..0 LUFS`);
  const codecs = codecsFor(flags['codec-check'], flags['codec-safe'], flags['no-codec-safe'], preset?.codecs);
  const bar = flags.json ? undefined : progress();
  const options: MasterOptions = {
    input: positionals[0],
    output: flags.output,
    targetLufs: targets[0],
    ceilingDbtp: ceiling,
    values,
    format: parseSampleFormat(flags.bits ?? '24'),
    noiseShaping: flags['noise-shaping'],
    cd: flags.cd || Boolean(preset?.cd),
    onProgress: bar,
    ...codecs,
  };
  // The playback table is for masters made for platforms: to a preset, or to several targets.
  const playback = Boolean(preset) || targets.length > 1;
  const outputs =
    targets.length === 1
      ? [options.output, ...(options.cd ? [cdPath(options.output)] : [])]
      : targets.map((target) => targetPath(options.output, target));
  // Written so far, for the message when a signal stops the rest.
  const written: string[] = [];
  try {
    await stoppableBySignals((signal) =>
      render({ ...options, signal }, targets, flags.json ?? false, playback, written),
    );
  } catch (error) {
    bar?.clear();
    if (error instanceof InterruptedError) {
      const rest = outputs.filter((f) => !written.includes(f));
      error.message = `${error.message}: ${written.length ? `wrote ${written.join(', ')}; ` : ''}${rest.join(', ')} left as ${rest.length > 1 ? 'they were' : 'it was'}, no partial file left behind`;
    }
    throw error;
  }
}

// What each codec takes, in kb/s: the encoders' own ranges (LAME's MPEG-1 layer III rates up to
// 320, libopus 6..510, libvorbis about 45..500 at 44.1/48 kHz, ffmpeg's AAC up to 512 for stereo).
const CODEC_KBPS: Record<StreamCodec['codec'], [number, number]> = {
  aac: [16, 512],
  mp3: [8, 320],
  opus: [6, 510],
  vorbis: [45, 500],
};

/** `aac:256,mp3:320,...` as codecs, each name and rate checked. */
export function parseCodecList(text: string): StreamCodec[] {
  const names = Object.keys(CODEC_KBPS).join(', ');
  const list = text.split(',').map((item) => item.trim());
  if (list.some((item) => item === ''))
    throw new UsageError(
      `--codec-check "${text}": an empty entry; give CODEC:KBPS pairs, e.g. aac:256,opus:160`,
    );
  return list.map((item) => {
    const match = /^([a-z0-9]+):(\d+)$/i.exec(item);
    if (!match)
      throw new UsageError(`--codec-check: "${item}" is not CODEC:KBPS (e.g. aac:256; codecs: ${names})`);
    const codec = match[1].toLowerCase();
    if (!Object.hasOwn(CODEC_KBPS, codec))
      throw new UsageError(`--codec-check: unknown codec "${match[1]}" (one of: ${names})`);
    const kbps = Number(match[2]);
    const [min, max] = CODEC_KBPS[codec as StreamCodec['codec']];
    if (kbps < min || kbps > max)
      throw new UsageError(`--codec-check: ${codec} at ${kbps} kb/s is outside ${min}..${max} kb/s`);
    return { codec: codec as StreamCodec['codec'], kbps };
  });
}

const FFMPEG_MISSING = 'codec check skipped: ffmpeg is not installed (apt-get install ffmpeg)';

/**
 * The codec check asked for: `--codec-check LIST`, else the preset's codecs; codec-safe on by
 * default whenever there are codecs to check, off with --no-codec-safe. Without ffmpeg the check is
 * skipped, said once, and the master made anyway.
 */
function codecsFor(
  list: string | undefined,
  safe: boolean | undefined,
  notSafe: boolean | undefined,
  presetCodecs: readonly StreamCodec[] | undefined,
): Pick<MasterOptions, 'codecs' | 'codecSafe'> {
  if (safe && notSafe) throw new UsageError('--codec-safe and --no-codec-safe contradict each other');
  const codecs = list !== undefined ? parseCodecList(list) : presetCodecs;
  if (!codecs?.length) {
    if (safe)
      throw new UsageError('--codec-safe needs codecs to check: --codec-check LIST, or a streaming --preset');
    return {};
  }
  if (!ffmpegAvailable()) {
    console.warn(FFMPEG_MISSING);
    return {};
  }
  return { codecs, codecSafe: !notSafe };
}

/** --json: the result as is, less each decode's per-region peaks (thousands of numbers per codec). */
const toJson = (value: unknown) =>
  JSON.stringify(value, (key, v) => (key === 'regionPeaksDbtp' || key === 'regionOvers' ? undefined : v), 2);

const db = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined || !Number.isFinite(value)
    ? '—'
    : `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;

/** Each decode of the codec check against the ceiling, and what codec-safe cost. */
function formatCodecTable(file: RenderedFile): string[] {
  if (!file.codecs?.length) return [];
  const lines = [
    `\ncodec check of ${file.file} (ceiling ${file.ceilingDbtp.toFixed(1)} dBTP):`,
    `  ${'codec'.padEnd(12)}${'true peak'.padStart(12)}${'overs'.padStart(8)}${'loudness'.padStart(13)}`,
  ];
  for (const c of file.codecs) {
    const pass = c.truePeakDbtp <= file.ceilingDbtp;
    lines.push(
      `  ${codecLabel(c).padEnd(12)}${`${db(c.truePeakDbtp, 2)} dBTP`.padStart(12)}${String(c.overs).padStart(8)}${`${db(c.integratedLufs)} LUFS`.padStart(13)}  ${pass ? 'pass' : 'FAIL'}`,
    );
  }
  const s = file.codecSafety;
  if (s)
    lines.push(
      `  codec-safe: ${s.rerenders + 1} renders, ${s.regionsLowered} regions of 200 ms lowered (deepest cut ${s.deepestCutDb.toFixed(2)} dB)${s.regionsRechecked ? `, ${s.regionsRechecked} judged again alone` : ''}, drive ${db(s.driveBeforeDb, 2)} -> ${db(s.driveAfterDb, 2)} dB, loudness ${db(s.lufsBefore)} -> ${db(s.lufsAfter)} LUFS${s.safe ? '' : '; still over the ceiling, see the warning'}`,
    );
  return lines;
}

function codecWarnings(file: RenderedFile): string[] {
  if (!file.codecs?.some((c) => c.truePeakDbtp > file.ceilingDbtp)) return [];
  const over = file.codecs
    .filter((c) => c.truePeakDbtp > file.ceilingDbtp)
    .map(codecLabel)
    .join(', ');
  return file.codecSafety
    ? [
        `warning: ${file.file}: ${over} still decode over the ceiling after ${file.codecSafety.rerenders} re-renders; lower --ceiling`,
      ]
    : [
        `warning: ${file.file}: ${over} decode over the ceiling; --codec-safe lowers the ceiling where they do`,
      ];
}

/** What each normalising platform does to these masters on playback, side by side. */
function formatPlayback(masters: RenderedFile[]): string[] {
  const tables = masters.map((m) => playbackTable(m.report));
  if (!tables[0]?.length) return [];
  const lines = ['\nplayback on the platforms (gain applied, true peak after):'];
  const heads = masters.map((m) => (masters.length > 1 ? `${m.targetLufs} LUFS master` : 'this master'));
  lines.push(
    `  ${'platform'.padEnd(12)}${'plays at'.padStart(10)}${heads.map((h) => h.padStart(26)).join('')}`,
  );
  tables[0].forEach((row, i) => {
    const cells = tables.map((t) => {
      const r = t[i];
      return `${db(r.gainDb)} dB, ${db(r.truePeakAfterDbtp)} dBTP${r.peakLimited ? '*' : ' '}`.padStart(26);
    });
    lines.push(`  ${row.platform.padEnd(12)}${`${row.playbackLufs} LUFS`.padStart(10)}${cells.join('')}`);
  });
  if (tables.some((t) => t.some((r) => r.peakLimited)))
    lines.push('  * turned up less than to the playback loudness: the peaks allow no more');
  return lines;
}

async function render(
  options: MasterOptions,
  targets: number[],
  json: boolean,
  playback: boolean,
  written: string[],
): Promise<void> {
  if (targets.length === 1) {
    const result = await master(options);
    written.push(result.output.file, ...(result.cd ? [result.cd.file] : []));
    if (json)
      return void console.log(
        toJson(playback ? { ...result, playback: playbackTable(result.output.report) } : result),
      );
    const columns: Record<string, RenderedFile['report']> = {
      input: result.input,
      output: result.output.report,
    };
    if (result.cd) columns['cd master'] = result.cd.report;
    console.log(formatReports(columns));
    for (const line of formatCodecTable(result.output)) console.log(line);
    if (playback) for (const line of formatPlayback([result.output])) console.log(line);
    const trimmed =
      result.output.inputTrimDb !== (options.values['input.trim'] ?? getSpec('input.trim').default)
        ? `, input trim ${result.output.inputTrimDb.toFixed(2)} dB`
        : '';
    console.log(
      `\nwrote ${result.output.file} (limiter drive ${result.output.limiterGainDb.toFixed(2)} dB${trimmed}, ${result.output.passes} passes)`,
    );
    if (result.cd) console.log(`wrote ${result.cd.file} (16-bit 44.1 kHz, dithered)`);
    if (result.output.warning) console.warn(`warning: ${result.output.warning}`);
    for (const line of codecWarnings(result.output)) console.warn(line);
    return;
  }

  checkMasterFiles(
    options.input,
    targets.map((target) => targetPath(options.output, target)),
    options.format,
  );
  const input = await analyzeInput(options);
  if (input.integratedLufs === null)
    throw new UsageError(`${options.input}: the input is silent; there is no loudness to master to a target`);
  const rendered: RenderedFile[] = [];
  for (const target of targets) {
    const file = targetPath(options.output, target);
    rendered.push(await renderToTarget({ ...options, targetLufs: target }, input, file));
    written.push(file);
  }
  if (json)
    return void console.log(
      toJson({
        input,
        outputs: rendered,
        ...(playback
          ? { playback: rendered.map((r) => ({ file: r.file, platforms: playbackTable(r.report) })) }
          : {}),
      }),
    );
  console.log(
    formatReports({ input, ...Object.fromEntries(rendered.map((r) => [`${r.targetLufs} LUFS`, r.report])) }),
  );
  // Played back at the quietest master's loudness (as a normalising platform does), what is left of each one's peaks.
  const reference = Math.min(...rendered.map((r) => r.report.integratedLufs ?? Infinity));
  console.log(`\nlevel-matched at ${reference.toFixed(1)} LUFS (what a normalising player does):`);
  for (const r of rendered) {
    const trim = reference - (r.report.integratedLufs ?? reference);
    const peakAfter = (r.report.truePeakDbtp ?? -Infinity) + trim;
    console.log(
      `  ${r.file}: turned ${trim.toFixed(1)} dB, true peak then ${peakAfter.toFixed(1)} dBTP, PLR ${r.report.plr?.toFixed(1) ?? '—'} dB, LRA ${r.report.lra?.toFixed(1) ?? '—'} LU${r.warning ? '  (target not reached, see below)' : ''}`,
    );
  }
  for (const r of rendered) for (const line of formatCodecTable(r)) console.log(line);
  if (playback) for (const line of formatPlayback(rendered)) console.log(line);
  for (const r of rendered) if (r.warning) console.warn(`warning: ${r.file}: ${r.warning}`);
  for (const r of rendered) for (const line of codecWarnings(r)) console.warn(line);
}

export async function commandAnalyze(args: string[]): Promise<void> {
  const { values: flags, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) throw new UsageError('analyze needs exactly one file: rig analyze IN.wav');
  const bar = flags.json ? undefined : progress();
  const report = await analyzeFile(positionals[0], bar);
  bar?.clear();
  if (flags.json) console.log(JSON.stringify(report));
  else console.log(formatReports({ [positionals[0]]: report }));
}
