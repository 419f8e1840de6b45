/**
 * `rig start`: the real-time engine in its worker thread, running an audio interface, the
 * built-in demo program or a file (looping) through the chain, with meters in the terminal.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SurfaceManager } from '../../controller/src/index.ts';
import {
  DEFAULT_PORT,
  DashboardListenError,
  startRigDashboard,
  type DashboardServer,
  type RigDashboardOptions,
} from '../../dashboard/server/index.ts';
import {
  ChatterFilter,
  LiveAudio,
  LiveRecall,
  LoudnessAssist,
  ParameterStore,
  getPreset,
  listDevices,
  parseSampleFormat,
} from '../../engine/src/index.ts';
import { LiveRig } from './live-rig.ts';
import { StatusLine } from './status-line.ts';
import { knobBoxWatcher } from './surfaces.ts';
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
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      fresh: { type: 'boolean', default: false },
      serial: { type: 'string', multiple: true, default: [] },
      'no-serial-scan': { type: 'boolean', default: false },
    },
  });
  const duration = parseNumber('--duration', flags.duration);
  const sampleRate = parseNumber('--rate', flags.rate) ?? 48000;
  const block = parseNumber('--block', flags.block) ?? 512;
  if (!Number.isInteger(block) || block < 16 || block > 8192)
    throw new UsageError(`--block ${block}: use 16 to 8192 frames`);
  const setValues = parseSet(flags.set ?? []);
  const channels = (flags.channels ?? '1,2').split(',').map((c) => Number(c));
  if (channels.length !== 2 || !channels.every((c) => Number.isInteger(c) && c >= 1 && c <= 64)) {
    throw new UsageError(
      `--channels ${flags.channels}: name two interface inputs, e.g. --channels 1,2 or --channels 3,4`,
    );
  }
  const deviceMode = Boolean(
    (flags.input || (flags.output && flags.output !== 'none')) && !flags.demo && !flags['input-file'],
  );
  // The demo (or a file) also plays on an output: the one named, else the default one if the
  // machine has any (`--output none`: nowhere). Without a sound system it just runs silently.
  const monitor =
    deviceMode || flags.output === 'none'
      ? undefined
      : (flags.output ?? (process.env.RIG_ENGINE_CHILD ? undefined : defaultOutput()));
  // PortAudio and ALSA print from native code; when a device is used the engine runs in a child
  // process whose output passes through a filter, so the terminal shows the rig's lines only.
  if (!process.env.RIG_ENGINE_CHILD && (deviceMode || monitor)) {
    return runFiltered(
      deviceMode || flags.output
        ? args
        : [...args, ...(flags['input-file'] ? [] : ['--demo']), '--output', monitor!],
    );
  }
  const rig = new LiveRig();
  let failure: unknown;
  try {
    // Recall before the engine starts, so the chain opens with the last sound rather than ramping to it.
    const store = new ParameterStore();
    // The page may pick another target; a snapshot saved afterwards stores that one.
    let targetPreset: string | null = flags['target-preset'] ?? null;
    // A database that cannot be opened or is damaged costs recall, never the audio: this never throws.
    const recall = LiveRecall.open(store, {
      fresh: flags.fresh,
      targetPreset: () => targetPreset,
      mappings: () => rig.surfaces?.mappingsInUse() ?? [],
      log: (line) => console.log(`recall: ${line}`),
    });
    rig.recall = recall;
    store.setMany(setValues, 'cli'); // --set wins over the restored state
    const engine = new LiveAudio({
      sampleRate,
      block,
      // An interface when one is named; otherwise the embedded default, the demo program.
      source: flags['input-file']
        ? { kind: 'file', path: flags['input-file'] }
        : deviceMode
          ? { kind: 'device', input: flags.input ?? flags.output!, output: flags.output ?? flags.input! }
          : { kind: 'demo' },
      record: flags.record
        ? {
            file: flags.record,
            format: parseSampleFormat(flags['record-bits']),
            input: flags['record-input'],
          }
        : undefined,
      channels: channels as [number, number],
      monitor,
    });
    rig.engine = engine;
    engine.attach(store);
    await engine.start();

    let assist: LoudnessAssist | undefined;
    if (flags['target-preset']) {
      const preset = getPreset(flags['target-preset']);
      const [minGainDb, maxGainDb] = (flags['assist-range'] ?? '0,12')
        .split(',')
        .map((v) => parseNumber('--assist-range', v) as number);
      store.set('limiter.ceiling', preset.ceilingDbtp, 'assist');
      // Through the store, so every surface sees the drive move.
      assist = new LoudnessAssist(
        {
          readMeters: (f) => engine.readMeters(f),
          get: (id) => store.get(id),
          apply: (id, v) => void store.set(id, v, 'assist'),
        },
        { targetLufs: preset.targetLufs, minGainDb, maxGainDb },
      );
      rig.assist = assist;
      assist.start();
      console.log(
        `     loudness assist: ${preset.targetLufs} LUFS under ${preset.ceilingDbtp} dBTP, drive within ${minGainDb}..${maxGainDb} dB`,
      );
    }

    const played = engine.monitorOutput
      ? ` -> "${engine.monitorOutput}"`
      : monitor
        ? ' (no output: the device did not open)'
        : '';
    const source = engine.devices
      ? `"${engine.devices.input}" -> "${engine.devices.output}"`
      : `${flags['input-file'] ? `"${flags['input-file']}" (looping)` : 'the built-in demo program'}${played}`;
    console.log(
      `rig: ${source} through the chain in real time (${sampleRate / 1000} kHz, ${block}-frame blocks)`,
    );
    const ms = (samples: number) => `${((samples / sampleRate) * 1000).toFixed(1)} ms`;
    const io =
      engine.devices || engine.monitorOutput
        ? `engine I/O ${ms(engine.ioLatencySamples)} (block + output cushion; the driver's buffers come on top)`
        : `block ${ms(block)}`;
    console.log(
      `     latency: ${ms(engine.latencySamples + engine.ioLatencySamples)} = chain ${ms(engine.latencySamples)} + ${io}${flags.record ? `; recording to ${flags.record}` : ''}. Ctrl-C stops.`,
    );
    console.log(`     audio thread priority: ${engine.audioPriority}`);

    // Control surfaces: MIDI devices by their mapping's port pattern, knob boxes by handshake.
    const surfaceLog = (line: string) => console.log(`surfaces: ${line}`);
    const surfaces = new SurfaceManager({
      store,
      actions: recall.actions,
      serial: knobBoxWatcher(flags.serial ?? [], !flags['no-serial-scan'], surfaceLog),
      log: surfaceLog,
    });
    rig.surfaces = surfaces;
    surfaces.start();

    // In the process that owns the engine (the filtered child in device mode): meters come from its shared memory.
    const dashboard = await openDashboard({
      engine,
      store,
      device: source,
      host: flags.host,
      port: parseNumber('--port', flags.port),
      targetPreset: flags['target-preset'],
      recall: recall.manager && {
        manager: recall.manager,
        snapshotNames: () => recall.snapshotNames(),
      },
      recallStatus: () => recall.status(),
      resetMeters: () => engine.resetMeters(),
      surfaces: () => surfaces.status(),
      learn: surfaces.learn,
      onTarget: (next) => {
        targetPreset = next.preset;
        if (assist && next.lufs !== null) assist.retarget(next.lufs);
      },
    });
    rig.dashboard = dashboard;
    console.log(`dashboard: ${dashboard.url}`);
    surfaces.onLearned((learned) =>
      dashboard.broadcast({
        type: 'learned',
        id: learned.id,
        surface: learned.surface,
        control: learned.control,
      }),
    );

    rig.status = new StatusLine(engine, store, { block, sampleRate, record: flags.record });
    rig.status.start();
    await rig.stopRequested(duration);
  } catch (error) {
    failure = error;
  }
  // The one way out, whether the rig was stopped or failed while starting.
  await rig.close(failure === undefined ? 0 : 1).catch((error) => void (failure ??= error));
  if (failure !== undefined) throw failure;
  if (rig.engine?.recordError)
    throw new Error(`recording to ${flags.record} failed: ${rig.engine.recordError.message}`);
}

/**
 * The dashboard on the port asked for; without `--port`, on 8080 or, when that is taken, the next
 * free one: a rig that will not start because a browser tab holds a port would be worse.
 */
async function openDashboard(options: RigDashboardOptions): Promise<DashboardServer> {
  if (options.port !== undefined) return startRigDashboard(options);
  for (let port = DEFAULT_PORT; port < DEFAULT_PORT + 10; port++) {
    try {
      return await startRigDashboard({ ...options, port });
    } catch (error) {
      if (!(error instanceof DashboardListenError) || !/in use/.test(error.message)) throw error;
    }
  }
  return startRigDashboard({ ...options, port: 0 });
}

/** The output a demo plays on by default: PortAudio's "default" device, else the first output; none without a sound system. */
function defaultOutput(): string | undefined {
  try {
    const outputs = listDevices().filter((d) => d.maxOutputChannels >= 2);
    return (outputs.find((d) => d.name === 'default') ?? outputs[0])?.name;
  } catch {
    return undefined;
  }
}

/**
 * Runs `rig start` again in a child process (same arguments, RIG_ENGINE_CHILD set) and passes its
 * output through the chatter filter. The parent only filters and forwards signals.
 */
async function runFiltered(args: string[]): Promise<void> {
  const rig = fileURLToPath(new URL('../rig.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), rig, 'start', ...args], {
    stdio: ['inherit', 'pipe', 'pipe'],
    env: { ...process.env, RIG_ENGINE_CHILD: '1', RIG_STATUS_TTY: process.stdout.isTTY ? '1' : '0' },
  });
  const out = new ChatterFilter();
  const err = new ChatterFilter({ dropBlankLines: true });
  child.stdout.setEncoding('utf8').on('data', (text: string) => process.stdout.write(out.push(text)));
  child.stderr.setEncoding('utf8').on('data', (text: string) => process.stderr.write(err.push(text)));
  // Ctrl-C reaches the child from the terminal too; a signal sent to this process alone is passed on.
  const forward = (signal: NodeJS.Signals) => () => child.exitCode === null && child.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  const code = await new Promise<number>((resolve) =>
    child.once('close', (exit, signal) => resolve(exit ?? (signal ? 128 : 1))),
  );
  process.stdout.write(out.flush());
  process.stderr.write(err.flush());
  const underflows = out.outputUnderflows + err.outputUnderflows;
  const overflows = out.inputOverflows + err.inputOverflows;
  if (underflows || overflows) {
    console.log(
      `      PortAudio's own status flags: ${underflows} output underflow and ${overflows} input overflow reports (start-up priming counts one)`,
    );
  }
  if (code !== 0) process.exit(code);
}
