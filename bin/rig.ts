#!/usr/bin/env -S npx tsx
/**
 * The composition root and command line: `npm run rig -- <command> ...`.
 * Each command's module loads only when that command runs, so one part's missing dependency
 * (a native module, a device library) never stops the others.
 */
import { PRESETS } from '../engine/src/index.ts';
import { UsageError } from './commands/common.ts';

const HELP = `rig: a live mastering rig

usage: npm run rig -- <command> [options]

  master IN.wav -o OUT.wav   master a file to a loudness target
      --preset NAME          ${Object.keys(PRESETS).join(' | ')} (target, ceiling, formats)
      --target LUFS          integrated loudness target (default -14)
      --targets L1,L2,...    one file per target (OUT.<target>LUFS.wav) and a level-matched comparison
      --ceiling DBTP         true-peak ceiling (default -1)
      --set ID=VALUE         set a chain parameter (repeatable); see \`rig params\`
      --settings FILE|NAME   chain parameters from a JSON file { "id": value, ... } or a stored snapshot
      --bits 16|24|32|float  output format (default 24; 16 and 24 are TPDF-dithered)
      --noise-shaping        noise-shaped dither
      --cd                   also write OUT.cd.wav: 16-bit 44.1 kHz, resampled and dithered
      --json                 print the report as JSON
  deliver IN.wav... -o DIR --platforms P1,P2,...
                             the delivery set per input: the 24-bit master per distinct target
                             (codec-safe for the platforms' codecs), the CD master (cd), FLAC
                             (tidal, amazon, --flac), MP3 320k and AAC 256k listening copies,
                             each verified, and NAME.qc.html + NAME.qc.json
      --album                one drive for every track: the album's relative levels kept
      --set ID=VALUE, --settings FILE|NAME, --noise-shaping, --json   as for master
  analyze IN.wav [--json]    loudness (BS.1770-4 / EBU R128), true peak, LRA, PLR
  params [--json]            the chain's parameters, ranges and defaults
  devices [--json]           audio interfaces (PortAudio) with channels and sample rates
  surfaces [--serial PATH] [--json]
                             control surfaces: MIDI ports and the mapping claiming each, serial
                             knob boxes (found by handshake), mapping files rejected and why
  learn PARAM [--serial PATH] [--timeout S]
                             binds the next control moved on a surface to PARAM (user mapping)
  snapshots list | save NAME [--notes T] | recall NAME | export NAME [-o F]
            | import F [--replace | --as NAME] | diff A B | sheet NAME [-o F.html] | delete NAME
                             recall: named snapshots of every parameter (SQLite, $XDG_DATA_HOME/rig)
  start [--input DEV --output DEV | --demo | --input-file F.wav] [--record OUT.wav] [--duration S] [--set ID=VALUE ...]
        [--channels 1,2] [--record-input RAW.wav] [--rate HZ] [--block FRAMES]
        [--target-preset NAME [--assist-range MIN,MAX]] [--serial PATH ...] [--no-serial-scan]
        [--port N] [--host ADDR] [--fresh]
                             the real-time engine (a worker thread): an interface's input through
                             the chain to its output; with no interface named, the demo program
                             (or --input-file, looping) played on the default output
                             (--demo --output DEV: on DEV; --output none: nowhere);
                             meters in the terminal and the dashboard on http://127.0.0.1:8080/
                             (--port, --host: remote pages need the printed token); control
                             surfaces; the last live state restored (--fresh: defaults)
                             (\`npm start\`)
`;

type Command = (args: string[]) => void | Promise<void>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  master: async () => (await import('./commands/master.ts')).commandMaster,
  analyze: async () => (await import('./commands/master.ts')).commandAnalyze,
  deliver: async () => (await import('./commands/deliver.ts')).commandDeliver,
  params: async () => (await import('./commands/params.ts')).commandParams,
  start: async () => (await import('./commands/start.ts')).commandStart,
  snapshots: async () => (await import('./commands/snapshots.ts')).commandSnapshots,
  devices: async () => (await import('./commands/devices.ts')).commandDevices,
  surfaces: async () => (await import('./commands/surfaces.ts')).commandSurfaces,
  learn: async () => (await import('./commands/surfaces.ts')).commandLearn,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return command ? 0 : 2;
  }
  const load = COMMANDS[command];
  if (!load) {
    process.stderr.write(`rig: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  try {
    await (
      await load()
    )(rest);
    return 0;
  } catch (error) {
    process.stderr.write(`rig ${command}: ${(error as Error).message}\n`);
    // A command stopped by a signal says which exit code tells it (130 for Ctrl-C, 143 for SIGTERM).
    const exitCode = (error as { exitCode?: unknown }).exitCode;
    if (typeof exitCode === 'number') return exitCode;
    const code = (error as { code?: string }).code;
    return error instanceof UsageError ||
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
      ? 2
      : 1;
  }
}

// Exit explicitly: an audio worker stuck in a dead driver must not keep the process alive.
process.exit(await main(process.argv.slice(2)));
