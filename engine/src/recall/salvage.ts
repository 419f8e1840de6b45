/**
 * Opening the recall database for a running rig, and what happens when SQLite finds the file
 * damaged (a bad disk, a copy cut short, a stray write): the file is set aside, never deleted,
 * with its -wal and -shm; every row that can still be read (SQLite often reads most of a partly
 * damaged file) goes into a fresh database; the rig carries on with that one. Damage costs
 * recall, never the audio.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { ParameterValues } from '../params.ts';
import { printableName } from './snapshot-name.ts';
import type { Snapshot } from './snapshot.ts';
import { RecallDatabaseError, isCorruption } from './recall-errors.ts';
import {
  QUICK_SLOTS,
  SnapshotDatabase,
  defaultDatabaseFile,
  parseSnapshotRow,
  type QuickSlot,
  type SnapshotRow,
} from './snapshot-db.ts';

export interface OpenedRecall {
  db: SnapshotDatabase;
  /** What was found damaged and done about it, each naming the file; empty for a sound file. */
  problems: string[];
}

// When the end of a table cannot be found (the damage is on its rightmost pages), rowids this far
// past the last one read are tried one by one: far more snapshots than anyone keeps, and a miss
// costs microseconds.
const PROBE_PAST_LAST_ROWID = 10_000;
// A damaged leaf holds at most a hundred or so rows (a 4 KiB page); this many failed lookups in a
// row means the damage is above the leaves (the table's root) and no later rowid will read.
const GIVE_UP_AFTER_FAILED_LOOKUPS = 1000;

/**
 * Opens `file`, checking it first (PRAGMA integrity_check, read-only so a damaged file is not
 * written to). A damaged file is set aside and salvaged; anything else that stops the open (a
 * database from a newer rig, a folder the rig may not write) throws, naming the file, and the
 * file stays where it is.
 */
export function openRecallDatabase(file = defaultDatabaseFile(), now = new Date()): OpenedRecall {
  let damage = fs.existsSync(file) ? findDamage(file) : undefined;
  if (damage === undefined) {
    try {
      return { db: new SnapshotDatabase(file), problems: [] };
    } catch (error) {
      if (!(error instanceof RecallDatabaseError) || !isCorruption(error)) throw error;
      damage = error.problem;
    }
  }

  const salvaged = salvage(file);
  const aside = setAside(file, now);
  const problems = [
    `${file} is damaged (${damage}); set aside as ${aside}, and the rig goes on with a fresh database holding what could be read from it: ${describe(salvaged)}`,
    ...salvaged.skipped.map((skipped) => `${aside}: ${skipped}; not salvaged`),
  ];
  let db: SnapshotDatabase;
  try {
    db = new SnapshotDatabase(file);
    db.transaction(() => {
      for (const snapshot of salvaged.snapshots) db.saveSnapshot(snapshot);
      if (salvaged.live) db.writeLiveState(salvaged.live.values, salvaged.live.targetPreset);
      for (const [slot, values] of salvaged.slots) db.writeSlot(slot, values);
    });
  } catch (error) {
    throw new Error(`${problems[0]}; but the fresh one failed too: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { db, problems };
}

/** What is wrong with the file in SQLite's words, or undefined when it checks out (or cannot be read at all). */
function findDamage(file: string): string | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    const found = rows.map((row) => row.integrity_check).filter((line) => line !== 'ok');
    if (found.length === 0) return undefined;
    // The first few lines say enough; a badly damaged file lists hundreds.
    const lines = found
      .join('\n')
      .split('\n')
      .filter((line) => line && !line.startsWith('***'));
    return `integrity check: ${lines.slice(0, 3).join('; ')}${lines.length > 3 ? `; and ${lines.length - 3} more` : ''}`;
  } catch (error) {
    // Not damage (e.g. permissions): the normal open reports it.
    return isCorruption(error) ? (error as Error).message : undefined;
  } finally {
    db?.close();
  }
}

interface Salvaged {
  snapshots: Snapshot[];
  live?: { values: ParameterValues; targetPreset: string | null };
  slots: Array<[QuickSlot, ParameterValues]>;
  /** Rows that were read but hold what no rig wrote, each named. */
  skipped: string[];
}

/** Every row the damaged file still gives up, read-only. */
function salvage(file: string): Salvaged {
  const salvaged: Salvaged = { snapshots: [], slots: [], skipped: [] };
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch {
    return salvaged;
  }
  try {
    for (const row of readableRows<SnapshotRow>(db, 'snapshots')) {
      const parsed = parseSnapshotRow(row);
      if ('problem' in parsed)
        salvaged.skipped.push(`snapshot "${printableName(String(row.name))}" is damaged (${parsed.problem})`);
      else salvaged.snapshots.push(parsed);
    }
    const live = readableRows<{ values_json: string; target_preset: string | null }>(db, 'live_state')[0];
    const liveValues = live && parseObject(live.values_json);
    if (liveValues) salvaged.live = { values: liveValues, targetPreset: live.target_preset };
    else if (live) salvaged.skipped.push('the live state is damaged (values are not a JSON object)');
    for (const row of readableRows<{ slot: string; values_json: string }>(db, 'quick_slots')) {
      const values = parseObject(row.values_json);
      if (values && (QUICK_SLOTS as readonly string[]).includes(row.slot))
        salvaged.slots.push([row.slot as QuickSlot, values]);
    }
  } finally {
    db.close();
  }
  return salvaged;
}

/**
 * The rows of `table` that can be read: a scan in rowid order up to the first damaged page, then
 * each rowid after it on its own (a lookup descends the tree past a damaged leaf to the next one).
 */
function readableRows<Row>(db: Database.Database, table: string): Row[] {
  const rows = new Map<number, Row>();
  let last = 0;
  try {
    const scan = db.prepare(`SELECT rowid AS rowid_, * FROM ${table} ORDER BY rowid`);
    for (const row of scan.iterate() as Iterable<Row & { rowid_: number }>) {
      rows.set(row.rowid_, row);
      last = row.rowid_;
    }
    return [...rows.values()];
  } catch {
    // Damaged on the way (or the table cannot be found at all): look up the rest one by one.
  }
  let end = last + PROBE_PAST_LAST_ROWID;
  try {
    const max = (db.prepare(`SELECT max(rowid) AS max FROM ${table}`).get() as { max: number | null }).max;
    if (max !== null) end = Math.min(Math.max(max, last), last + PROBE_PAST_LAST_ROWID);
  } catch {
    // The rightmost pages are damaged too: probe the whole stretch.
  }
  let lookup: Database.Statement;
  try {
    lookup = db.prepare(`SELECT rowid AS rowid_, * FROM ${table} WHERE rowid = ?`);
  } catch {
    return [...rows.values()];
  }
  let failedInARow = 0;
  for (let rowid = last + 1; rowid <= end && failedInARow < GIVE_UP_AFTER_FAILED_LOOKUPS; rowid++) {
    try {
      const row = lookup.get(rowid) as Row | undefined;
      if (row) rows.set(rowid, row);
      failedInARow = 0;
    } catch {
      // On a damaged page: that row is lost.
      failedInARow++;
    }
  }
  return [...rows.values()];
}

function parseObject(text: unknown): ParameterValues | undefined {
  try {
    const value = JSON.parse(String(text));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Renames the file and its -wal and -shm to `<file>.damaged-<UTC time>`; returns the new name. */
function setAside(file: string, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
  let aside = `${file}.damaged-${stamp}`;
  for (let n = 2; fs.existsSync(aside); n++) aside = `${file}.damaged-${stamp}-${n}`;
  fs.renameSync(file, aside);
  // The fresh database must not pick up the damaged one's journal: they go with it.
  for (const suffix of ['-wal', '-shm']) {
    if (fs.existsSync(file + suffix)) fs.renameSync(file + suffix, aside + suffix);
  }
  return aside;
}

function describe({ snapshots, live, slots }: Salvaged): string {
  if (snapshots.length === 0 && !live && slots.length === 0) return 'nothing could be read';
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  return [
    count(snapshots.length, 'snapshot'),
    live ? 'the live state' : 'no live state',
    count(slots.length, 'quick slot'),
  ].join(', ');
}
