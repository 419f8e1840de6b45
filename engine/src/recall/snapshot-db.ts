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
import { RecallDamageError, RecallDatabaseError, SnapshotExistsError } from './recall-errors.ts';
import type { Snapshot } from './snapshot.ts';
import { printableName } from './snapshot-name.ts';

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

export interface SnapshotRow {
  name: string;
  notes: string;
  created_at: string;
  values_json: string;
  target_preset: string | null;
  mappings_json: string;
}

interface LiveStateRow {
  values_json: string;
  target_preset: string | null;
  updated_at: string;
  recall_seq: number;
}

export interface LiveState {
  values: ParameterValues;
  targetPreset: string | null;
  updatedAt: string;
  recallSeq: number;
}

export interface DamagedSnapshot {
  name: string;
  problem: string;
}

export class SnapshotDatabase {
  readonly file: string;
  private readonly db: Database.Database;

  /**
   * `readonly`: open without writing anything, as SQLite itself does with a write-protected file;
   * every save then fails (and autosave says so).
   */
  constructor(file = defaultDatabaseFile(), { readonly = false }: { readonly?: boolean } = {}) {
    this.file = file;
    if (!readonly) fs.mkdirSync(path.dirname(file), { recursive: true });
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly, fileMustExist: readonly });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 2000');
    } catch (error) {
      db?.close();
      throw new RecallDatabaseError(file, 'open the recall database', error);
    }
    this.db = db;
    try {
      this.migrate();
    } catch (error) {
      this.db.close();
      throw error instanceof Error && error.message.startsWith(file)
        ? error
        : new RecallDatabaseError(file, 'open the recall database', error);
    }
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

  /** `replace: false` refuses (SnapshotExistsError) when the name is taken; otherwise it is replaced. */
  saveSnapshot(snapshot: Snapshot, { replace = true }: { replace?: boolean } = {}): void {
    const upsert = replace
      ? `ON CONFLICT(name) DO UPDATE SET notes = excluded.notes, created_at = excluded.created_at,
           values_json = excluded.values_json, target_preset = excluded.target_preset, mappings_json = excluded.mappings_json`
      : '';
    try {
      this.db
        .prepare(
          `INSERT INTO snapshots (name, notes, created_at, values_json, target_preset, mappings_json)
           VALUES (@name, @notes, @createdAt, @values, @targetPreset, @mappings) ${upsert}`,
        )
        .run({
          ...snapshot,
          values: JSON.stringify(snapshot.values),
          mappings: JSON.stringify(snapshot.mappings),
        });
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        let existing: Snapshot | undefined;
        try {
          existing = this.getSnapshot(snapshot.name);
        } catch {
          // A damaged row of that name is still a name taken.
        }
        throw new SnapshotExistsError(this.file, existing, snapshot.name);
      }
      throw new RecallDatabaseError(this.file, `save snapshot "${printableName(snapshot.name)}"`, error);
    }
  }

  /** Throws RecallDamageError when the row of that name holds what no rig wrote. */
  getSnapshot(name: string): Snapshot | undefined {
    const row = this.read(`read snapshot "${printableName(name)}"`, () =>
      this.db.prepare('SELECT * FROM snapshots WHERE name = ?').get(name),
    ) as SnapshotRow | undefined;
    if (!row) return undefined;
    const parsed = parseSnapshotRow(row);
    if ('problem' in parsed)
      throw new RecallDamageError(this.file, `snapshot "${printableName(name)}"`, parsed.problem);
    return parsed;
  }

  /** Every snapshot, newest first; a damaged row is left out and named in `damaged`. */
  readSnapshots(): { snapshots: Snapshot[]; damaged: DamagedSnapshot[] } {
    const rows = this.read('read the snapshots', () =>
      this.db.prepare('SELECT * FROM snapshots ORDER BY created_at DESC, name').all(),
    ) as SnapshotRow[];
    const snapshots: Snapshot[] = [];
    const damaged: DamagedSnapshot[] = [];
    for (const row of rows) {
      const parsed = parseSnapshotRow(row);
      if ('problem' in parsed) damaged.push({ name: String(row.name), problem: parsed.problem });
      else snapshots.push(parsed);
    }
    return { snapshots, damaged };
  }

  /** The readable snapshots, newest first (readSnapshots also names the damaged ones). */
  listSnapshots(): Snapshot[] {
    return this.readSnapshots().snapshots;
  }

  deleteSnapshot(name: string): boolean {
    try {
      return this.db.prepare('DELETE FROM snapshots WHERE name = ?').run(name).changes > 0;
    } catch (error) {
      throw new RecallDatabaseError(this.file, `delete snapshot "${printableName(name)}"`, error);
    }
  }

  writeLiveState(values: ParameterValues, targetPreset: string | null, bumpRecall = false): void {
    try {
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
    } catch (error) {
      throw new RecallDatabaseError(this.file, 'save the live state', error);
    }
  }

  /** Throws RecallDamageError when the row holds what no rig wrote. */
  readLiveState(): LiveState | undefined {
    const row = this.read('read the live state', () =>
      this.db.prepare('SELECT * FROM live_state WHERE id = 1').get(),
    ) as LiveStateRow | undefined;
    if (!row) return undefined;
    const values = parseValuesJson(row.values_json);
    if (typeof values === 'string') throw new RecallDamageError(this.file, 'the live state', values);
    return {
      values,
      targetPreset: row.target_preset,
      updatedAt: row.updated_at,
      recallSeq: row.recall_seq,
    };
  }

  /** How many recalls other processes have asked for: the one column a running rig polls. */
  readRecallSeq(): number {
    const row = this.read('read the live state', () =>
      this.db.prepare('SELECT recall_seq FROM live_state WHERE id = 1').get(),
    ) as { recall_seq: number } | undefined;
    return row?.recall_seq ?? 0;
  }

  writeSlot(slot: QuickSlot, values: ParameterValues): void {
    try {
      this.db
        .prepare(
          'INSERT INTO quick_slots (slot, values_json) VALUES (?, ?) ON CONFLICT(slot) DO UPDATE SET values_json = excluded.values_json',
        )
        .run(slot, JSON.stringify(values));
    } catch (error) {
      throw new RecallDatabaseError(this.file, `save quick slot ${slot}`, error);
    }
  }

  readSlot(slot: QuickSlot): ParameterValues | undefined {
    const row = this.read(`read quick slot ${slot}`, () =>
      this.db.prepare('SELECT values_json FROM quick_slots WHERE slot = ?').get(slot),
    ) as { values_json: string } | undefined;
    if (!row) return undefined;
    const values = parseValuesJson(row.values_json);
    if (typeof values === 'string') throw new RecallDamageError(this.file, `quick slot ${slot}`, values);
    return values;
  }

  /** Runs `write` as one commit (one fsync for many rows). */
  transaction(write: () => void): void {
    this.db.transaction(write)();
  }

  close(): void {
    this.db.close();
  }

  private read<T>(what: string, run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw new RecallDatabaseError(this.file, what, error);
    }
  }
}

/** `recall.db` in the data folder. */
export function defaultDatabaseFile(): string {
  return path.join(defaultDataDir(), 'recall.db');
}

/** The values object a row stores, or what is wrong with it. */
function parseValuesJson(text: string): ParameterValues | string {
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (error) {
    return `values are not valid JSON: ${(error as Error).message}`;
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values))
    return 'values are not a JSON object';
  return values as ParameterValues;
}

/** A snapshot as stored, or what is wrong with the row (its values or mappings are not what a rig writes). */
export function parseSnapshotRow(row: SnapshotRow): Snapshot | { problem: string } {
  if (typeof row.name !== 'string' || typeof row.notes !== 'string' || typeof row.created_at !== 'string')
    return { problem: 'name, notes or date are not text' };
  const values = parseValuesJson(row.values_json);
  if (typeof values === 'string') return { problem: values };
  let mappings: unknown;
  try {
    mappings = JSON.parse(row.mappings_json);
  } catch (error) {
    return { problem: `mappings are not valid JSON: ${(error as Error).message}` };
  }
  if (!Array.isArray(mappings) || !mappings.every((m) => typeof m === 'string'))
    return { problem: 'mappings are not a list of names' };
  return {
    name: row.name,
    notes: row.notes,
    createdAt: row.created_at,
    values,
    targetPreset: row.target_preset,
    mappings,
  };
}
