/**
 * `rig surfaces`: which control surfaces are connected and which mapping each uses;
 * `rig learn PARAM`: binds the next control moved to a parameter, in the user's mapping folder.
 */
import { parseArgs } from 'node:util';
import { KnobBoxWatcher, SurfaceManager, findMapping, probeKnobBoxes } from '../../controller/src/index.ts';
import { ParameterStore, getSpec } from '../../engine/src/index.ts';
import { UsageError } from './common.ts';

/** The serial side of the surface manager, with its problems in the terminal (each once per streak). */
export function knobBoxWatcher(
  paths: readonly string[],
  scan: boolean,
  log: (line: string) => void,
): KnobBoxWatcher {
  const watcher = new KnobBoxWatcher({ paths, scan });
  watcher.on('rejected', (path, reason) => log(`${path}: not a knob box (${reason})`));
  watcher.on('error', (path, error) => log(`${path}: ${error.message}`));
  return watcher;
}

export async function commandSurfaces(args: string[]): Promise<void> {
  const { values: flags } = parseArgs({
    args,
    options: {
      serial: { type: 'string', multiple: true, default: [] },
      'no-serial-scan': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const manager = new SurfaceManager({ store: new ParameterStore(), serial: null });
  manager.start();
  manager.pollNow();
  const midi = manager.midiPorts();
  const serial = (await probeKnobBoxes({ paths: flags.serial, scan: !flags['no-serial-scan'] })).map(
    (probe) => ({
      ...probe,
      mapping: probe.identity
        ? (findMapping(manager.mappings, { kind: 'serial', deviceKind: probe.identity.kind })?.name ?? null)
        : null,
    }),
  );
  await manager.close();
  const report = {
    midi: { problem: manager.midiProblem, ports: midi },
    serial,
    mappings: manager.mappings.map((m) => ({ name: m.name, file: m.file ?? null, device: m.device })),
    mappingErrors: manager.mappingErrors.map((e) => e.message),
  };
  if (flags.json) return void console.log(JSON.stringify(report, null, 2));

  console.log('MIDI');
  if (report.midi.problem) console.log(`  ${report.midi.problem}`);
  else if (midi.length === 0) console.log('  no MIDI input ports');
  for (const port of midi)
    console.log(
      `  ${port.name.padEnd(40)} ${port.mapping ? `mapping "${port.mapping}"` : 'no mapping claims it (copy one into the user folder and set its portName)'}`,
    );
  console.log('Serial knob boxes');
  if (serial.length === 0) console.log('  none found (name a port with --serial PATH)');
  for (const probe of serial) {
    console.log(
      probe.identity
        ? `  ${probe.path.padEnd(40)} ${probe.identity.kind} #${probe.identity.serialNumber}, firmware ${probe.identity.firmwareVersion} (${probe.identity.knobs} knobs, ${probe.identity.buttons} buttons, ${probe.identity.encoders} encoders), mapping "${probe.mapping ?? 'none'}"`
        : `  ${probe.path.padEnd(40)} ${probe.problem}`,
    );
  }
  console.log(`Mappings: ${report.mappings.length} loaded`);
  for (const error of report.mappingErrors) console.log(`  rejected: ${error}`);
}

export async function commandLearn(args: string[]): Promise<void> {
  const { values: flags, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      serial: { type: 'string', multiple: true, default: [] },
      'no-serial-scan': { type: 'boolean', default: false },
      timeout: { type: 'string', default: '60' },
    },
  });
  if (positionals.length !== 1)
    throw new UsageError(
      'learn PARAMETER: name one parameter (see `rig params`), e.g. `rig learn comp.threshold`',
    );
  const paramId = positionals[0];
  try {
    getSpec(paramId);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const timeoutMs = Number(flags.timeout) * 1000;
  if (!(timeoutMs > 0)) throw new UsageError(`--timeout ${flags.timeout}: seconds, more than 0`);
  const log = (line: string) => console.log(line);
  const manager = new SurfaceManager({
    store: new ParameterStore(),
    serial: knobBoxWatcher(flags.serial ?? [], !flags['no-serial-scan'], log),
    log,
  });
  manager.start();
  const deadline = Date.now() + timeoutMs;
  try {
    // Devices take a moment to answer (a knob box's handshake, the MIDI port poll).
    while (!manager.status().some((s) => s.connected)) {
      if (Date.now() > deadline) throw new Error('no control surface connected (see `rig surfaces`)');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const learned = new Promise<string>((resolve) =>
      manager.onLearned((l) =>
        resolve(`${l.control} on ${l.surface} now turns ${l.id} (saved to ${l.file})`),
      ),
    );
    manager.learn.start(paramId);
    console.log(`move a control on a surface to bind it to ${paramId} (${getSpec(paramId).label})...`);
    const result = await Promise.race([
      learned,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`no control moved within ${flags.timeout} s`)),
          Math.max(0, deadline - Date.now()),
        ),
      ),
    ]);
    console.log(result);
  } finally {
    await manager.close();
  }
}
