/**
 * Recall in a running rig: autosave of the live state, restore on start, named snapshots, the
 * four quick slots, undo/redo, and recalls requested by another process (the command line).
 */
import { clampValue, getSpec, isParameterId, type ParameterValues } from '../params.ts';
import type { ParameterChange, ParameterStore } from '../parameter-store.ts';
import { RecallDatabaseError } from './recall-errors.ts';
import { QUICK_SLOTS, SnapshotDatabase, type QuickSlot } from './snapshot-db.ts';
import { checkSnapshotName } from './snapshot-name.ts';
import type { Snapshot } from './snapshot.ts';

export const RECALL_ORIGIN = 'recall';
const UNDO_ORIGIN = 'undo';

export interface RecallOptions {
  /** A change reaches the database at most this long after it was made. */
  autosaveMs?: number;
  /** How often to look for recalls made by another process. 0: never. */
  pollMs?: number;
  targetPreset?: () => string | null;
  mappings?: () => string[];
  /**
   * Told what goes wrong away from any caller (an autosave that fails and when it works again, a
   * poll that cannot read): once per problem, not once per attempt.
   */
  warn?: (line: string) => void;
}

interface UndoStep {
  changes: Array<{ id: string; from: number; to: number }>;
  origin: string;
  at: number;
}

// A knob turn is many changes; within this long, changes to one parameter from one origin are one undo step.
const UNDO_MERGE_MS = 1000;
const UNDO_DEPTH = 200;
// A failed autosave is tried again this often, so a disk that frees up (or is remounted) takes the
// live state again without a knob having to move.
const AUTOSAVE_RETRY_MS = 2000;

/** Values from our own database, made safe for this schema: unknown ids dropped, the rest clamped. */
export function sanitizeStoredValues(values: unknown): ParameterValues {
  const out: ParameterValues = {};
  if (typeof values !== 'object' || values === null) return out;
  for (const [id, value] of Object.entries(values)) {
    if (isParameterId(id) && typeof value === 'number' && Number.isFinite(value))
      out[id] = clampValue(getSpec(id), value);
  }
  return out;
}

/** A stored snapshot's values by name (`master --settings NAME`), or undefined when there is none. */
export function storedSnapshotValues(name: string, database?: SnapshotDatabase): ParameterValues | undefined {
  const db = database ?? new SnapshotDatabase();
  try {
    const snapshot = db.getSnapshot(name);
    return snapshot && sanitizeStoredValues(snapshot.values);
  } finally {
    if (!database) db.close();
  }
}

/** The one set of recall verbs every surface picks from (buttons, the page, the command line). */
export interface RecallActions {
  selectSlot(slot: QuickSlot): void;
  toggleAB(): void;
  undo(): void;
  redo(): void;
}

export class RecallManager implements RecallActions {
  private saveTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private undoStack: UndoStep[] = [];
  private redoStack: UndoStep[] = [];
  private grouping?: UndoStep;
  private seenRecallSeq = 0;
  private activeSlot: QuickSlot = 'A';
  private previousSlot: QuickSlot = 'B';
  private readonly autosaveMs: number;
  private autosaveFailure: string | null = null;
  private pollFailure: string | null = null;
  private closing = false;

  constructor(
    private readonly store: ParameterStore,
    private readonly db: SnapshotDatabase,
    private readonly options: RecallOptions = {},
  ) {
    this.autosaveMs = options.autosaveMs ?? 250;
    try {
      this.seenRecallSeq = db.readRecallSeq();
    } catch (error) {
      this.pollFailed(error);
    }
    this.unsubscribe = store.subscribe((change) => this.onChange(change));
    if (options.pollMs) this.pollTimer = setInterval(() => this.pollExternalRecall(), options.pollMs);
  }

  get slot(): QuickSlot {
    return this.activeSlot;
  }

  /** Why the live state is not being saved (the last autosave failed), or null while it is. */
  get autosaveError(): string | null {
    return this.autosaveFailure;
  }

  /**
   * Brings back the last autosaved sound (on start). Returns false when there is none; throws
   * (naming the database) when the stored state is damaged.
   */
  restore(): boolean {
    const live = this.db.readLiveState();
    if (!live) return false;
    this.apply(sanitizeStoredValues(live.values), RECALL_ORIGIN, false);
    return true;
  }

  save(name: string, notes = ''): Snapshot {
    const snapshot: Snapshot = {
      name: checkSnapshotName(name),
      notes,
      createdAt: new Date().toISOString(),
      values: this.store.snapshot(),
      targetPreset: this.options.targetPreset?.() ?? null,
      mappings: this.options.mappings?.() ?? [],
    };
    this.db.saveSnapshot(snapshot);
    return snapshot;
  }

  /** Recalls a snapshot by name: the chain ramps to it, surfaces follow and pick up. */
  recall(name: string): Snapshot {
    const snapshot = this.db.getSnapshot(name);
    if (!snapshot) throw new Error(`no snapshot named "${name}"`);
    this.apply(sanitizeStoredValues(snapshot.values), RECALL_ORIGIN, true);
    this.flush();
    return snapshot;
  }

  /** Switches quick slot: the current settings stay in the slot being left; an empty slot starts as a copy. */
  selectSlot(slot: QuickSlot): void {
    if (!QUICK_SLOTS.includes(slot)) throw new Error(`quick slot must be one of ${QUICK_SLOTS.join(', ')}`);
    this.db.writeSlot(this.activeSlot, this.store.snapshot());
    const stored = this.db.readSlot(slot);
    if (slot !== this.activeSlot) this.previousSlot = this.activeSlot;
    this.activeSlot = slot;
    if (stored) this.apply(sanitizeStoredValues(stored), RECALL_ORIGIN, true);
    else this.db.writeSlot(slot, this.store.snapshot());
    this.flush();
  }

  /** A/B: back to the slot used before this one (B from a fresh start on A). */
  toggleAB(): QuickSlot {
    this.selectSlot(this.previousSlot);
    return this.activeSlot;
  }

  undo(): boolean {
    const step = this.undoStack.pop();
    if (!step) return false;
    this.redoStack.push(step);
    this.apply(Object.fromEntries(step.changes.map((c) => [c.id, c.from])), UNDO_ORIGIN, false);
    return true;
  }

  redo(): boolean {
    const step = this.redoStack.pop();
    if (!step) return false;
    this.undoStack.push(step);
    this.apply(Object.fromEntries(step.changes.map((c) => [c.id, c.to])), UNDO_ORIGIN, false);
    return true;
  }

  /**
   * Writes the live state now (also what the autosave timer calls). Never throws: a failure is
   * `autosaveError`, told once through `warn`, and tried again until it works.
   */
  flush(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    try {
      this.db.writeLiveState(this.store.snapshot(), this.options.targetPreset?.() ?? null);
    } catch (error) {
      const problem = error instanceof RecallDatabaseError ? error.problem : (error as Error).message;
      const message = `autosave to ${this.db.file} failed (${problem}): the live state is not being saved`;
      if (message !== this.autosaveFailure) this.options.warn?.(message);
      this.autosaveFailure = message;
      if (!this.closing) this.saveTimer = setTimeout(() => this.flush(), AUTOSAVE_RETRY_MS);
      return;
    }
    if (this.autosaveFailure) {
      this.autosaveFailure = null;
      this.options.warn?.(`autosave to ${this.db.file} works again`);
    }
  }

  /** A recall made by another process (`rig snapshots recall`) shows up as a new recall sequence. */
  pollExternalRecall(): void {
    try {
      const seq = this.db.readRecallSeq();
      if (seq === this.seenRecallSeq) return;
      const live = this.db.readLiveState();
      this.seenRecallSeq = seq;
      this.pollFailure = null;
      if (live) this.apply(sanitizeStoredValues(live.values), RECALL_ORIGIN, true);
    } catch (error) {
      this.pollFailed(error);
    }
  }

  close(): void {
    this.closing = true;
    this.unsubscribe();
    clearInterval(this.pollTimer);
    if (this.saveTimer) this.flush();
  }

  private pollFailed(error: unknown): void {
    const message = `${(error as Error).message}; recalls from another terminal are not seen until it reads again`;
    if (message !== this.pollFailure) this.options.warn?.(message);
    this.pollFailure = message;
  }

  private apply(values: ParameterValues, origin: string, undoable: boolean): void {
    // One undo step for the whole recall, however many parameters it moves.
    this.grouping = undoable ? { changes: [], origin, at: Date.now() } : undefined;
    const suppress = !undoable;
    this.suppressUndo = suppress;
    try {
      this.store.setMany(values, origin);
    } finally {
      this.suppressUndo = false;
      if (this.grouping && this.grouping.changes.length > 0) this.pushUndo(this.grouping);
      this.grouping = undefined;
    }
  }
  private suppressUndo = false;

  private onChange(change: ParameterChange): void {
    if (!this.saveTimer) this.saveTimer = setTimeout(() => this.flush(), this.autosaveMs);
    if (this.suppressUndo) return;
    const entry = { id: change.id, from: change.previous, to: change.value };
    if (this.grouping) {
      this.grouping.changes.push(entry);
      return;
    }
    const last = this.undoStack[this.undoStack.length - 1];
    const now = Date.now();
    if (
      last &&
      last.origin === change.origin &&
      now - last.at < UNDO_MERGE_MS &&
      last.changes.length === 1 &&
      last.changes[0].id === change.id
    ) {
      last.changes[0].to = change.value;
      last.at = now;
      this.redoStack = [];
      return;
    }
    this.pushUndo({ changes: [entry], origin: change.origin, at: now });
  }

  private pushUndo(step: UndoStep): void {
    this.undoStack.push(step);
    if (this.undoStack.length > UNDO_DEPTH) this.undoStack.shift();
    this.redoStack = [];
  }
}
