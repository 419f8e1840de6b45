/** `rig snapshots list|save|recall|export|import|diff|sheet`: recall from the command line. */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import {
  ParameterStore,
  RecallDamageError,
  RecallDatabaseError,
  RecallManager,
  SnapshotDatabase,
  SnapshotExistsError,
  checkSnapshotName,
  diffSnapshots,
  isCorruption,
  parseExport,
  printableName,
  renderRecallSheet,
  sanitizeStoredValues,
  toExport,
  type Snapshot,
} from '../../engine/src/index.ts';
import { UsageError as SnapshotUsageError } from './common.ts';

const USAGE =
  'snapshots list | save NAME [--notes TEXT] | recall NAME | export NAME [-o FILE] | import FILE [--replace | --as NAME] | diff A B | sheet NAME [-o FILE.html] | delete NAME';

function need(db: SnapshotDatabase, name: string | undefined): Snapshot {
  if (!name) throw new SnapshotUsageError(`missing snapshot name: ${USAGE}`);
  const snapshot = db.getSnapshot(name);
  if (!snapshot) {
    const names = db.listSnapshots().map((s) => `"${printableName(s.name)}"`);
    throw new SnapshotUsageError(
      `no snapshot named "${printableName(name)}"${names.length ? ` (have: ${names.join(', ')})` : ''}`,
    );
  }
  return snapshot;
}

/** The live state as the running rig (or the next start) sees it; a damaged one is the defaults, as the rig starts. */
function liveStore(db: SnapshotDatabase, warn: (line: string) => void): ParameterStore {
  try {
    return new ParameterStore(sanitizeStoredValues(db.readLiveState()?.values ?? {}));
  } catch (error) {
    if (!(error instanceof RecallDamageError)) throw error;
    warn(`${error.message}; the snapshot takes the defaults for it`);
    return new ParameterStore();
  }
}

export function commandSnapshots(
  args: string[],
  out: (line: string) => void = console.log,
  warn: (line: string) => void = (line) => console.warn(`rig snapshots: ${line}`),
): void {
  const { values: flags, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      notes: { type: 'string', default: '' },
      output: { type: 'string', short: 'o' },
      json: { type: 'boolean', default: false },
      replace: { type: 'boolean', default: false },
      as: { type: 'string' },
    },
  });
  const [action, ...names] = positionals;
  let db: SnapshotDatabase;
  try {
    db = new SnapshotDatabase();
  } catch (error) {
    throw withSalvageHint(error);
  }
  try {
    switch (action) {
      case 'list': {
        const { snapshots: all, damaged } = db.readSnapshots();
        // A damaged row costs that row: the others list, and the bad one is named.
        for (const { name, problem } of damaged)
          warn(
            `${new RecallDamageError(db.file, `snapshot "${printableName(name)}"`, problem).message}; skipped`,
          );
        if (flags.json) return out(JSON.stringify(all, null, 2));
        if (all.length === 0 && damaged.length === 0) return out(`no snapshots yet (${db.file})`);
        for (const s of all)
          out(`${printableName(s.name).padEnd(28)} ${s.createdAt}  ${printableName(s.notes.split('\n')[0])}`);
        for (const { name } of damaged)
          out(`${printableName(name).padEnd(28)} (damaged: cannot be recalled)`);
        return;
      }
      case 'save': {
        if (!names[0]) throw new SnapshotUsageError(`missing snapshot name: ${USAGE}`);
        const manager = new RecallManager(liveStore(db, warn), db);
        const snapshot = manager.save(names[0], flags.notes);
        manager.close();
        return out(`saved "${snapshot.name}" (${Object.keys(snapshot.values).length} parameters)`);
      }
      case 'recall': {
        const snapshot = need(db, names[0]);
        // A running rig sees the recall sequence move and ramps to the snapshot; otherwise the next start restores it.
        db.writeLiveState(sanitizeStoredValues(snapshot.values), snapshot.targetPreset, true);
        return out(`recalled "${printableName(snapshot.name)}"`);
      }
      case 'export': {
        const text = toExport(need(db, names[0]));
        if (flags.output) fs.writeFileSync(flags.output, text);
        else process.stdout.write(text);
        return;
      }
      case 'import': {
        if (!names[0]) throw new SnapshotUsageError(`missing file: ${USAGE}`);
        let text: string;
        try {
          text = fs.readFileSync(names[0], 'utf8');
        } catch (error) {
          throw new SnapshotUsageError(`${names[0]}: cannot read (${(error as NodeJS.ErrnoException).code})`);
        }
        if (flags.replace && flags.as !== undefined)
          throw new SnapshotUsageError(
            '--replace and --as: choose one (replace the snapshot, or import under a new name)',
          );
        const imported = parseExport(text, names[0]);
        const snapshot =
          flags.as === undefined
            ? imported
            : { ...imported, name: checkSnapshotName(flags.as, '--as: snapshot name') };
        // An import never replaces a snapshot silently: the one stored may be the only copy of a sound.
        let replaced: Snapshot | undefined;
        try {
          replaced = flags.replace ? db.getSnapshot(snapshot.name) : undefined;
        } catch (error) {
          if (!(error instanceof RecallDamageError)) throw error;
        }
        try {
          db.saveSnapshot(snapshot, { replace: flags.replace });
        } catch (error) {
          if (!(error instanceof SnapshotExistsError)) throw error;
          const saved = error.existing ? ` (saved ${error.existing.createdAt})` : '';
          throw new SnapshotUsageError(
            `${error.message}${saved}: use --replace to replace it, or --as NEWNAME to import ${names[0]} under another name`,
          );
        }
        if (flags.as !== undefined)
          return out(`imported "${imported.name}" from ${names[0]} as "${snapshot.name}"`);
        return out(
          replaced
            ? `imported "${snapshot.name}", replacing the one saved ${replaced.createdAt}`
            : `imported "${snapshot.name}"`,
        );
      }
      case 'diff': {
        const [a, b] = [need(db, names[0]), need(db, names[1])];
        const differences = diffSnapshots(a.values, b.values);
        if (flags.json) return out(JSON.stringify(differences, null, 2));
        if (differences.length === 0) return out(`"${a.name}" and "${b.name}" are identical`);
        for (const d of differences) out(`${d.id.padEnd(22)} ${d.from.padStart(12)}  ->  ${d.to}`);
        return;
      }
      case 'sheet': {
        const html = renderRecallSheet(need(db, names[0]));
        if (flags.output) {
          fs.writeFileSync(flags.output, html);
          return out(`wrote ${flags.output}`);
        }
        process.stdout.write(html);
        return;
      }
      case 'delete': {
        if (!db.deleteSnapshot(need(db, names[0]).name))
          throw new SnapshotUsageError(`no snapshot named "${names[0]}"`);
        return out(`deleted "${printableName(names[0])}"`);
      }
      default:
        throw new SnapshotUsageError(`usage: rig ${USAGE}`);
    }
  } catch (error) {
    throw withSalvageHint(error);
  } finally {
    db.close();
  }
}

/**
 * A damaged file is `rig start`'s to set aside (a command must not move the database from under
 * a running rig); this says so.
 */
function withSalvageHint(error: unknown): unknown {
  if (!(error instanceof RecallDatabaseError) || !isCorruption(error)) return error;
  return new Error(
    `${error.message}: \`rig start\` sets a damaged recall database aside and salvages what it can read`,
    { cause: error },
  );
}
