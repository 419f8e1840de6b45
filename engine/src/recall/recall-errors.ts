/**
 * What goes wrong with the recall database, each error naming the file: SQLite refusing an
 * operation (a damaged page, a read-only or full disk), a row holding what no rig wrote, a name
 * already taken.
 */
import type { Snapshot } from './snapshot.ts';
import { printableName } from './snapshot-name.ts';

/** SQLite refused an operation (a damaged page, a read-only or full disk); names the file and what was tried. */
export class RecallDatabaseError extends Error {
  /** SQLite's own code, e.g. SQLITE_CORRUPT, SQLITE_READONLY, SQLITE_FULL. */
  readonly code: string | undefined;
  /** SQLite's own words, without the file. */
  readonly problem: string;
  constructor(file: string, what: string, cause: unknown) {
    const problem = cause instanceof Error ? cause.message : String(cause);
    super(`${file}: cannot ${what} (${problem})`, { cause });
    this.name = 'RecallDatabaseError';
    this.code = (cause as { code?: string }).code;
    this.problem = problem;
  }
}

/** A row that reads but holds what no rig wrote (bad JSON): that row is lost, the rest is fine. */
export class RecallDamageError extends Error {
  constructor(file: string, what: string, problem: string) {
    super(`${file}: ${what} is damaged (${problem})`);
    this.name = 'RecallDamageError';
  }
}

/** `saveSnapshot(..., { replace: false })` met a snapshot of that name. */
export class SnapshotExistsError extends Error {
  constructor(
    file: string,
    readonly existing: Snapshot | undefined,
    name: string,
  ) {
    super(`a snapshot named "${printableName(name)}" already exists in ${file}`);
    this.name = 'SnapshotExistsError';
  }
}

/** Damage SQLite itself reports: the file, not a row, is bad. */
export function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code);
}
