/** `rig master` and `rig analyze`: the chain over files. */
import { parseArgs } from 'node:util';
import {
  analyzeFile,
  analyzeInput,
  cdPath,
  checkMasterFiles,
  checkValue,
  formatReports,
  getPreset,
  getSpec,
  master,
  parseSampleFormat,
  renderToTarget,
  targetPath,
  type MasterOptions,
  type RenderedFile,
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
  };
  const outputs =
    targets.length === 1
      ? [options.output, ...(options.cd ? [cdPath(options.output)] : [])]
      : targets.map((target) => targetPath(options.output, target));
  // Written so far, for the message when a signal stops the rest.
  const written: string[] = [];
  try {
    await stoppableBySignals((signal) =>
      render({ ...options, signal }, targets, flags.json ?? false, written),
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

async function render(
  options: MasterOptions,
  targets: number[],
  json: boolean,
  written: string[],
): Promise<void> {
  if (targets.length === 1) {
    const result = await master(options);
    written.push(result.output.file, ...(result.cd ? [result.cd.file] : []));
    if (json) return void console.log(JSON.stringify(result, null, 2));
    const columns: Record<string, RenderedFile['report']> = {
      input: result.input,
      output: result.output.report,
    };
    if (result.cd) columns['cd master'] = result.cd.report;
    console.log(formatReports(columns));
    const trimmed =
      result.output.inputTrimDb !== (options.values['input.trim'] ?? getSpec('input.trim').default)
        ? `, input trim ${result.output.inputTrimDb.toFixed(2)} dB`
        : '';
    console.log(
      `\nwrote ${result.output.file} (limiter drive ${result.output.limiterGainDb.toFixed(2)} dB${trimmed}, ${result.output.passes} passes)`,
    );
    if (result.cd) console.log(`wrote ${result.cd.file} (16-bit 44.1 kHz, dithered)`);
    if (result.output.warning) console.warn(`warning: ${result.output.warning}`);
    return;
  }

  checkMasterFiles(
    options.input,
    targets.map((target) => targetPath(options.output, target)),
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
  if (json) return void console.log(JSON.stringify({ input, outputs: rendered }, null, 2));
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
  for (const r of rendered) if (r.warning) console.warn(`warning: ${r.file}: ${r.warning}`);
}

export function commandAnalyze(args: string[]): void {
  const { values: flags, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) throw new UsageError('analyze needs exactly one file: rig analyze IN.wav');
  const report = analyzeFile(positionals[0], flags.json ? undefined : progress());
  if (flags.json) console.log(JSON.stringify(report));
  else console.log(formatReports({ [positionals[0]]: report }));
}
