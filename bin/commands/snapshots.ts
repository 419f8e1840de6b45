/** `rig snapshots list|save|recall|export|import|diff|sheet`: recall from the command line. */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import {
  ParameterStore,
  RecallManager,
  SnapshotDatabase,
  diffSnapshots,
  parseExport,
  renderRecallSheet,
  sanitizeStoredValues,
  toExport,
  type Snapshot,
} from '../../engine/src/index.ts';
import { UsageError as SnapshotUsageError } from './common.ts';

const USAGE =
  'snapshots list | save NAME [--notes TEXT] | recall NAME | export NAME [-o FILE] | import FILE | diff A B | sheet NAME [-o FILE.html] | delete NAME';

function need(db: SnapshotDatabase, name: string | undefined): Snapshot {
  if (!name) throw new SnapshotUsageError(`missing snapshot name: ${USAGE}`);
  const snapshot = db.getSnapshot(name);
  if (!snapshot) {
    const names = db.listSnapshots().map((s) => s.name);
    throw new SnapshotUsageError(
      `no snapshot named "${name}"${names.length ? ` (have: ${names.join(', ')})` : ''}`,
    );
  }
  return snapshot;
}

/** The live state as the running rig (or the next start) sees it. */
function liveStore(db: SnapshotDatabase): ParameterStore {
  return new ParameterStore(sanitizeStoredValues(db.readLiveState()?.values ?? {}));
}

export function commandSnapshots(args: string[], out: (line: string) => void = console.log): void {
  const { values: flags, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      notes: { type: 'string', default: '' },
      output: { type: 'string', short: 'o' },
      json: { type: 'boolean', default: false },
    },
  });
  const [action, ...names] = positionals;
  const db = new SnapshotDatabase();
  try {
    switch (action) {
      case 'list': {
        const all = db.listSnapshots();
        if (flags.json) return out(JSON.stringify(all, null, 2));
        if (all.length === 0) return out(`no snapshots yet (${db.file})`);
        for (const s of all) out(`${s.name.padEnd(28)} ${s.createdAt}  ${s.notes.split('\n')[0]}`);
        return;
      }
      case 'save': {
        if (!names[0]) throw new SnapshotUsageError(`missing snapshot name: ${USAGE}`);
        const manager = new RecallManager(liveStore(db), db);
        const snapshot = manager.save(names[0], flags.notes);
        manager.close();
        return out(`saved "${snapshot.name}" (${Object.keys(snapshot.values).length} parameters)`);
      }
      case 'recall': {
        const snapshot = need(db, names[0]);
        // A running rig sees the recall sequence move and ramps to the snapshot; otherwise the next start restores it.
        db.writeLiveState(sanitizeStoredValues(snapshot.values), snapshot.targetPreset, true);
        return out(`recalled "${snapshot.name}"`);
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
        const snapshot = parseExport(text, names[0]);
        db.saveSnapshot(snapshot);
        return out(`imported "${snapshot.name}"`);
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
        return out(`deleted "${names[0]}"`);
      }
      default:
        throw new SnapshotUsageError(`usage: rig ${USAGE}`);
    }
  } finally {
    db.close();
  }
}
