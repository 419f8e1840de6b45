/**
 * The recall database: snapshots, the autosaved live state and the quick slots, in one SQLite
 * file under the user's data folder. WAL with synchronous=FULL: a commit survives a killed
 * process and a power cut, and a reader never sees half a write.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ParameterValues } from '../params.ts';
import type { Snapshot } from './snapshot.ts';

export const QUICK_SLOTS = ['A', 'B', 'C', 'D'] as const;
export type QuickSlot = (typeof QUICK_SLOTS)[number];

/** `$RIG_DATA_DIR`, else `$XDG_DATA_HOME/rig`, else `~/.local/share/rig`. */
export function defaultDataDir(): string {
  if (process.env.RIG_DATA_DIR) return process.env.RIG_DATA_DIR;
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'rig');
}

// Each entry moves the schema one version up; user_version records how far a file has come.
const MIGRATIONS: string[] = [
  `CREATE TABLE snapshots (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     notes TEXT NOT NULL DEFAULT '',
     created_at TEXT NOT NULL,
     values_json TEXT NOT NULL,
     target_preset TEXT,
     mappings_json TEXT NOT NULL DEFAULT '[]'
   );
   CREATE TABLE live_state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     values_json TEXT NOT NULL,
     target_preset TEXT,
     updated_at TEXT NOT NULL,
     recall_seq INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE quick_slots (
     slot TEXT PRIMARY KEY CHECK (slot IN ('A', 'B', 'C', 'D')),
     values_json TEXT NOT NULL
   );`,
];

interface SnapshotRow {
  name: string;
  notes: string;
  created_at: string;
  values_json: string;
  target_preset: string | null;
  mappings_json: string;
}

export class SnapshotDatabase {
  readonly file: string;
  private readonly db: Database.Database;

  constructor(file = path.join(defaultDataDir(), 'recall.db')) {
    this.file = file;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 2000');
    this.migrate();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(
        `${this.file}: written by a newer rig (schema ${version}, this one knows ${MIGRATIONS.length})`,
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  integrityOk(): boolean {
    return this.db.pragma('integrity_check', { simple: true }) === 'ok';
  }

  saveSnapshot(snapshot: Snapshot): void {
    this.db
      .prepare(
        `INSERT INTO snapshots (name, notes, created_at, values_json, target_preset, mappings_json)
         VALUES (@name, @notes, @createdAt, @values, @targetPreset, @mappings)
         ON CONFLICT(name) DO UPDATE SET notes = excluded.notes, created_at = excluded.created_at,
           values_json = excluded.values_json, target_preset = excluded.target_preset, mappings_json = excluded.mappings_json`,
      )
      .run({
        ...snapshot,
        values: JSON.stringify(snapshot.values),
        mappings: JSON.stringify(snapshot.mappings),
      });
  }

  getSnapshot(name: string): Snapshot | undefined {
    const row = this.db.prepare('SELECT * FROM snapshots WHERE name = ?').get(name) as
      SnapshotRow | undefined;
    return row && fromRow(row);
  }

  listSnapshots(): Snapshot[] {
    return (
      this.db.prepare('SELECT * FROM snapshots ORDER BY created_at DESC, name').all() as SnapshotRow[]
    ).map(fromRow);
  }

  deleteSnapshot(name: string): boolean {
    return this.db.prepare('DELETE FROM snapshots WHERE name = ?').run(name).changes > 0;
  }

  writeLiveState(values: ParameterValues, targetPreset: string | null, bumpRecall = false): void {
    this.db
      .prepare(
        `INSERT INTO live_state (id, values_json, target_preset, updated_at, recall_seq) VALUES (1, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET values_json = excluded.values_json, target_preset = excluded.target_preset,
           updated_at = excluded.updated_at, recall_seq = live_state.recall_seq + ?`,
      )
      .run(
        JSON.stringify(values),
        targetPreset,
        new Date().toISOString(),
        bumpRecall ? 1 : 0,
        bumpRecall ? 1 : 0,
      );
  }

  readLiveState():
    | { values: ParameterValues; targetPreset: string | null; updatedAt: string; recallSeq: number }
    | undefined {
    const row = this.db.prepare('SELECT * FROM live_state WHERE id = 1').get() as
      | { values_json: string; target_preset: string | null; updated_at: string; recall_seq: number }
      | undefined;
    return (
      row && {
        values: JSON.parse(row.values_json),
        targetPreset: row.target_preset,
        updatedAt: row.updated_at,
        recallSeq: row.recall_seq,
      }
    );
  }

  writeSlot(slot: QuickSlot, values: ParameterValues): void {
    this.db
      .prepare(
        'INSERT INTO quick_slots (slot, values_json) VALUES (?, ?) ON CONFLICT(slot) DO UPDATE SET values_json = excluded.values_json',
      )
      .run(slot, JSON.stringify(values));
  }

  readSlot(slot: QuickSlot): ParameterValues | undefined {
    const row = this.db.prepare('SELECT values_json FROM quick_slots WHERE slot = ?').get(slot) as
      { values_json: string } | undefined;
    return row && JSON.parse(row.values_json);
  }

  close(): void {
    this.db.close();
  }
}

function fromRow(row: SnapshotRow): Snapshot {
  return {
    name: row.name,
    notes: row.notes,
    createdAt: row.created_at,
    values: JSON.parse(row.values_json),
    targetPreset: row.target_preset,
    mappings: JSON.parse(row.mappings_json),
  };
}
