/**
 * `rig start`: the real-time engine in its worker thread, playing the built-in demo program (or
 * a file, looping) through the chain, with meters in the terminal. Audio interfaces come next.
 */
import { parseArgs } from 'node:util';
import { meterValue } from '../../engine/src/meter-layout.ts';
import { ParameterStore } from '../../engine/src/parameter-store.ts';
import { RealtimeEngine } from '../../engine/src/realtime/engine.ts';
import { LoudnessAssist } from '../../engine/src/realtime/loudness-assist.ts';
import { getPreset } from '../../engine/src/presets.ts';
import { parseSampleFormat } from '../../engine/src/wav.ts';
import { UsageError, joinNegativeValues, parseNumber, parseSet } from './common.ts';

export async function commandStart(args: string[]): Promise<void> {
  const { values: flags } = parseArgs({
    args: joinNegativeValues(args),
    options: {
      duration: { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      demo: { type: 'boolean', default: false },
      'input-file': { type: 'string' },
      input: { type: 'string' },
      output: { type: 'string' },
      record: { type: 'string' },
      'record-input': { type: 'string' },
      channels: { type: 'string', default: '1,2' },
      'record-bits': { type: 'string', default: '24' },
      rate: { type: 'string' },
      block: { type: 'string' },
      'target-preset': { type: 'string' },
      'assist-range': { type: 'string', default: '0,12' },
    },
  });
  const duration = parseNumber('--duration', flags.duration);
  const sampleRate = parseNumber('--rate', flags.rate) ?? 48000;
  const block = parseNumber('--block', flags.block) ?? 512;
  if (!Number.isInteger(block) || block < 16 || block > 8192) throw new UsageError(`--block ${block}: use 16 to 8192 frames`);
  const store = new ParameterStore(parseSet(flags.set ?? []));
  const channels = (flags.channels ?? '1,2').split(',').map((c) => Number(c));
  if (channels.length !== 2 || !channels.every((c) => Number.isInteger(c) && c >= 1 && c <= 64)) {
    throw new UsageError(`--channels ${flags.channels}: name two interface inputs, e.g. --channels 1,2 or --channels 3,4`);
  }
  const engine = new RealtimeEngine({
    sampleRate,
    block,
    // An interface when one is named; otherwise the embedded default, the demo program.
    source: flags['input-file']
      ? { kind: 'file', path: flags['input-file'] }
      : (flags.input || flags.output) && !flags.demo
        ? { kind: 'device', input: flags.input ?? flags.output!, output: flags.output ?? flags.input! }
        : { kind: 'demo' },
    record: flags.record ? { file: flags.record, format: parseSampleFormat(flags['record-bits']), input: flags['record-input'] } : undefined,
    channels: channels as [number, number],
  });
  engine.attach(store);
  await engine.start();

  let assist: LoudnessAssist | undefined;
  if (flags['target-preset']) {
    const preset = getPreset(flags['target-preset']);
    const [minGainDb, maxGainDb] = (flags['assist-range'] ?? '0,12').split(',').map((v) => parseNumber('--assist-range', v) as number);
    store.set('limiter.ceiling', preset.ceilingDbtp, 'assist');
    // Through the store, so every surface sees the drive move.
    assist = new LoudnessAssist(
      { readMeters: (f) => engine.readMeters(f), get: (id) => store.get(id), apply: (id, v) => void store.set(id, v, 'assist') },
      { targetLufs: preset.targetLufs, minGainDb, maxGainDb },
    );
    assist.start();
    console.log(`     loudness assist: ${preset.targetLufs} LUFS under ${preset.ceilingDbtp} dBTP, drive within ${minGainDb}..${maxGainDb} dB`);
  }

  const source = engine.devices
    ? `"${engine.devices.input}" -> "${engine.devices.output}"`
    : flags['input-file'] ? `"${flags['input-file']}" (looping)` : 'the built-in demo program';
  console.log(`rig: ${source} through the chain in real time (${sampleRate / 1000} kHz, ${block}-frame blocks)`);
  console.log(`     latency: chain ${((engine.latencySamples / sampleRate) * 1000).toFixed(1)} ms + block ${((block / sampleRate) * 1000).toFixed(1)} ms${flags.record ? `; recording to ${flags.record}` : ''}. Ctrl-C stops.`);

  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(1).padStart(6) : '     —');
  const frame = new Float32Array(engine.readMeters().length);
  const line = () => {
    const m = engine.readMeters(frame);
    const seconds = (meterValue(m, 'engine.blocks') * block) / sampleRate;
    return `${fmt(seconds)} s  M in ${fmt(meterValue(m, 'input.momentaryLufs'))}  out ${fmt(meterValue(m, 'output.momentaryLufs'))} LUFS` +
      `  I ${fmt(meterValue(m, 'output.integratedLufs'))}  TP ${fmt(meterValue(m, 'output.truePeakMaxDbtp'))} dBTP` +
      `  S ${fmt(meterValue(m, 'output.shortTermLufs'))}  drive ${fmt(store.get('limiter.gain'))}  GR comp ${fmt(meterValue(m, 'comp.grDb'))} lim ${fmt(meterValue(m, 'limiter.grDb'))} dB  DSP ${(meterValue(m, 'engine.dspLoadMean') * 100).toFixed(1)} %`;
  };
  const tty = process.stdout.isTTY;
  const status = setInterval(() => (tty ? process.stdout.write(`\r${line()} `) : console.log(line())), tty ? 250 : 1000);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (duration !== undefined) setTimeout(stop, duration * 1000);
  });
  clearInterval(status);
  assist?.stop();
  if (tty) process.stdout.write('\n');
  console.log(line());
  await engine.stop();
  if (engine.recordError) throw new Error(`recording to ${flags.record} failed: ${engine.recordError.message}`);
}
