/** `rig deliver`: the files an engineer hands over for a set of platforms, each verified, with QC reports. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { deliver, type TrackDelivery } from '../../engine/src/delivery/deliver.ts';
import { isPresetName, PRESETS } from '../../engine/src/index.ts';
import { UsageError, joinNegativeValues, parseSet, parseSettingsFile, stoppableBySignals } from './common.ts';

export async function commandDeliver(args: string[]): Promise<void> {
  const { values: flags, positionals } = parseArgs({
    args: joinNegativeValues(args),
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      platforms: { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      settings: { type: 'string' },
      album: { type: 'boolean', default: false },
      flac: { type: 'boolean', default: false },
      'noise-shaping': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const usage = 'rig deliver IN.wav... -o DIR --platforms spotify,apple,cd';
  if (positionals.length === 0) throw new UsageError(`deliver needs one or more input files: ${usage}`);
  if (!flags.output) throw new UsageError(`deliver needs the folder to write into: ${usage}`);
  if (!flags.platforms)
    throw new UsageError(`deliver needs --platforms (${Object.keys(PRESETS).join(', ')})`);
  const platforms = [
    ...new Set(
      flags.platforms
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    ),
  ];
  for (const p of platforms)
    if (!isPresetName(p))
      throw new UsageError(
        `--platforms: unknown platform "${p}" (one of: ${Object.keys(PRESETS).join(', ')})`,
      );
  if (flags.album && positionals.length < 2)
    throw new UsageError('--album needs the album’s tracks: two or more input files');
  const values = {
    ...(flags.settings ? await parseSettingsFile(flags.settings) : {}),
    ...parseSet(flags.set ?? []),
  };
  const stages = new Map<string, string>();
  const result = await stoppableBySignals((signal) =>
    deliver({
      inputs: positionals,
      dir: flags.output as string,
      platforms,
      values,
      album: flags.album,
      flac: flags.flac,
      noiseShaping: flags['noise-shaping'],
      signal,
      // One line per track and stage: tracks run side by side, so no bar redrawn in place.
      onProgress: (input, label) => {
        if (flags.json || stages.get(input) === label) return;
        stages.set(input, label);
        process.stderr.write(`${path.basename(input)}: ${label}\n`);
      },
      onTrack: (track) => (flags.json ? undefined : printTrack(track)),
    }),
  );
  if (flags.json) return void console.log(JSON.stringify(result, null, 2));
  for (const album of result.album ?? [])
    console.log(
      `album: one drive ${album.driveDb.toFixed(2)} dB for every track, album at ${album.albumLufs.toFixed(1)} LUFS (target ${album.targetLufs}, ceiling ${album.ceilingDbtp} dBTP)`,
    );
}

function printTrack(track: TrackDelivery): void {
  console.log(`${track.input}:`);
  for (const file of track.files)
    console.log(`  wrote ${file.file}${file.verified ? ` (verified: ${file.verified})` : ''}`);
  for (const warning of track.warnings) console.warn(`  warning: ${warning}`);
}
