#!/usr/bin/env -S npx tsx
/**
 * The composition root and command line: `npm run rig -- <command> ...`.
 * Commands: master, analyze, params (start, devices, surfaces arrive with the live engine).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { master, renderToTarget, targetPath, analyzeFile, type MasterOptions, type RenderedFile } from '../engine/src/master.ts';
import { PARAMETERS, checkValue, formatValue, getSpec, parseValue, type ParameterValues } from '../engine/src/params.ts';
import { getPreset, PRESETS } from '../engine/src/presets.ts';
import { ProgressBar } from '../engine/src/progress.ts';
import { formatReports } from '../engine/src/report.ts';
import { PacedPlayer } from '../engine/src/paced-player.ts';
import { meterValue } from '../engine/src/meter-layout.ts';
import { parseSampleFormat } from '../engine/src/wav.ts';

class UsageError extends Error {}

const HELP = `rig: a live mastering rig

usage: npm run rig -- <command> [options]

  master IN.wav -o OUT.wav   master a file to a loudness target
      --preset NAME          ${Object.keys(PRESETS).join(' | ')} (target, ceiling, formats)
      --target LUFS          integrated loudness target (default -14)
      --targets L1,L2,...    one file per target (OUT.<target>LUFS.wav) and a level-matched comparison
      --ceiling DBTP         true-peak ceiling (default -1)
      --set ID=VALUE         set a chain parameter (repeatable); see \`rig params\`
      --settings FILE.json   chain parameters as { "id": value, ... }
      --bits 16|24|32|float  output format (default 24; 16 and 24 are TPDF-dithered)
      --noise-shaping        noise-shaped dither
      --cd                   also write OUT.cd.wav: 16-bit 44.1 kHz, resampled and dithered
      --json                 print the report as JSON
  analyze IN.wav [--json]    loudness (BS.1770-4 / EBU R128), true peak, LRA, PLR
  params [--json]            the chain's parameters, ranges and defaults
  start [--duration S] [--set ID=VALUE ...]
                             play the built-in demo program through the chain in real time
                             and show its meters (\`npm start\`)
`;

function parseSettingsFile(file: string): ParameterValues {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--settings ${file}: ${(error as Error).message}`);
  }
  // A recall export nests the values; a plain file is the values themselves.
  const values = (data as { values?: unknown })?.values ?? data;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new UsageError(`--settings ${file}: expected an object of { "parameter.id": value }`);
  }
  const out: ParameterValues = {};
  for (const [id, value] of Object.entries(values)) {
    try {
      const spec = getSpec(id);
      out[id] = typeof value === 'string' ? parseValue(spec, value) : checkValue(spec, Number(value));
    } catch (error) {
      throw new UsageError(`--settings ${file}: ${(error as Error).message}`);
    }
  }
  return out;
}

function parseSet(assignments: string[]): ParameterValues {
  const out: ParameterValues = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${assignment}: expected ID=VALUE, e.g. --set comp.ratio=2`);
    const id = assignment.slice(0, eq).trim();
    try {
      out[id] = parseValue(getSpec(id), assignment.slice(eq + 1));
    } catch (error) {
      throw new UsageError(`--set ${assignment}: ${(error as Error).message}`);
    }
  }
  return out;
}

function parseNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${flag} ${text}: not a number`);
  return value;
}

function progress(): MasterOptions['onProgress'] {
  let bar: ProgressBar | undefined;
  let current = '';
  return (label, done, total) => {
    if (label !== current) {
      bar?.done();
      bar = new ProgressBar(label, total);
      current = label;
    }
    bar?.update(done);
    if (done >= total) bar?.done();
  };
}

function commandMaster(args: string[]): void {
  const { values: flags, positionals } = parseArgs({
    args,
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
  if (positionals.length !== 1) throw new UsageError('master needs exactly one input file: rig master IN.wav -o OUT.wav');
  if (!flags.output) throw new UsageError('master needs an output file: -o OUT.wav');
  const preset = flags.preset ? getPreset(flags.preset) : undefined;
  const values = { ...(flags.settings ? parseSettingsFile(flags.settings) : {}), ...parseSet(flags.set ?? []) };
  const ceiling = parseNumber('--ceiling', flags.ceiling) ?? values['limiter.ceiling'] ?? preset?.ceilingDbtp ?? -1;
  checkValue(getSpec('limiter.ceiling'), ceiling);
  const targets = flags.targets
    ? flags.targets.split(',').map((t) => parseNumber('--targets', t) as number)
    : [parseNumber('--target', flags.target) ?? preset?.targetLufs ?? -14];
  for (const t of targets) if (t > 0 || t < -40) throw new UsageError(`target ${t} LUFS is outside -40..0 LUFS`);
  const options: MasterOptions = {
    input: positionals[0],
    output: flags.output,
    targetLufs: targets[0],
    ceilingDbtp: ceiling,
    values,
    format: parseSampleFormat(flags.bits ?? '24'),
    noiseShaping: flags['noise-shaping'],
    cd: flags.cd || Boolean(preset?.cd),
    onProgress: flags.json ? undefined : progress(),
  };

  if (targets.length === 1) {
    const result = master(options);
    if (flags.json) return void console.log(JSON.stringify(result, null, 2));
    const columns: Record<string, RenderedFile['report']> = { input: result.input, output: result.output.report };
    if (result.cd) columns['cd master'] = result.cd.report;
    console.log(formatReports(columns));
    console.log(`\nwrote ${result.output.file} (limiter drive ${result.output.limiterGainDb.toFixed(2)} dB, ${result.output.passes} passes)`);
    if (result.cd) console.log(`wrote ${result.cd.file} (16-bit 44.1 kHz, dithered)`);
    if (result.output.warning) console.warn(`warning: ${result.output.warning}`);
    return;
  }

  const input = analyzeFile(options.input, options.onProgress);
  if (input.integratedLufs === null) throw new UsageError(`${options.input}: the input is silent; there is no loudness to master to a target`);
  const rendered = targets.map((target) => renderToTarget({ ...options, targetLufs: target }, input, targetPath(options.output, target)));
  if (flags.json) return void console.log(JSON.stringify({ input, outputs: rendered }, null, 2));
  console.log(formatReports({ input, ...Object.fromEntries(rendered.map((r) => [`${r.targetLufs} LUFS`, r.report])) }));
  // Played back at the quietest master's loudness (as a normalising platform does), what is left of each one's peaks.
  const reference = Math.min(...rendered.map((r) => r.report.integratedLufs ?? Infinity));
  console.log(`\nlevel-matched at ${reference.toFixed(1)} LUFS (what a normalising player does):`);
  for (const r of rendered) {
    const trim = reference - (r.report.integratedLufs ?? reference);
    const peakAfter = (r.report.truePeakDbtp ?? -Infinity) + trim;
    console.log(`  ${r.file}: turned ${trim.toFixed(1)} dB, true peak then ${peakAfter.toFixed(1)} dBTP, PLR ${r.report.plr?.toFixed(1) ?? '—'} dB, LRA ${r.report.lra?.toFixed(1) ?? '—'} LU${r.warning ? `  (${r.warning})` : ''}`);
  }
}

function commandAnalyze(args: string[]): void {
  const { values: flags, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  if (positionals.length !== 1) throw new UsageError('analyze needs exactly one file: rig analyze IN.wav');
  const report = analyzeFile(positionals[0], flags.json ? undefined : progress());
  if (flags.json) console.log(JSON.stringify(report));
  else console.log(formatReports({ [positionals[0]]: report }));
}

function commandParams(args: string[]): void {
  const { values: flags } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  if (flags.json) return void console.log(JSON.stringify(PARAMETERS, null, 2));
  for (const p of PARAMETERS) {
    const range = p.choices ? p.choices.join(' | ') : p.steps ? p.steps.join(' / ') : `${p.min} .. ${p.max} ${p.unit}`;
    console.log(`${p.id.padEnd(22)} ${p.label.padEnd(30)} ${range.padEnd(36)} default ${formatValue(p, p.default)}`);
  }
}

function commandStart(args: string[]): void {
  const { values: flags } = parseArgs({
    args,
    options: { duration: { type: 'string' }, set: { type: 'string', multiple: true, default: [] }, demo: { type: 'boolean', default: true } },
  });
  const duration = parseNumber('--duration', flags.duration);
  const player = new PacedPlayer({ sampleRate: 48000, block: 512, values: parseSet(flags.set ?? []) });
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(1).padStart(6) : '    —');
  const line = () => {
    const m = player.chain.meters;
    return `${player.seconds.toFixed(0).padStart(5)} s  in ${fmt(meterValue(m, 'input.shortTermLufs'))} LUFS  out ${fmt(meterValue(m, 'output.shortTermLufs'))} LUFS` +
      `  (I ${fmt(meterValue(m, 'output.integratedLufs'))})  TP ${fmt(meterValue(m, 'output.truePeakMaxDbtp'))} dBTP` +
      `  GR comp ${fmt(meterValue(m, 'comp.grDb'))}  lim ${fmt(meterValue(m, 'limiter.grDb'))} dB`;
  };
  console.log(`rig: no audio interface engine yet; playing the built-in demo program through the chain (48 kHz, 512-frame blocks, latency ${player.chain.latencySamples} samples)`);
  console.log('     Ctrl-C stops.');
  player.start();
  const tty = process.stdout.isTTY;
  const status = setInterval(() => (tty ? process.stdout.write(`\r${line()} `) : console.log(line())), tty ? 250 : 1000);
  const stop = () => {
    clearInterval(status);
    player.close();
    if (tty) process.stdout.write('\n');
    console.log(line());
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (duration !== undefined) setTimeout(stop, duration * 1000);
}

const COMMANDS: Record<string, (args: string[]) => void> = { master: commandMaster, analyze: commandAnalyze, params: commandParams, start: commandStart };

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`rig: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  try {
    run(rest);
    return 0;
  } catch (error) {
    const message = (error as Error).message;
    process.stderr.write(`rig ${command}: ${message}\n`);
    return error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1;
  }
}

process.exitCode = main(process.argv.slice(2));
