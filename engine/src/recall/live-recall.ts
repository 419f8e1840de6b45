/**
 * Recall as the live rig holds it: the database opened (a damaged file set aside and salvaged),
 * the last autosaved sound restored, autosave and the poll for recalls from another terminal
 * running until `close`, and everything that goes wrong on the way told once to the terminal and
 * kept for the page. A recall database that cannot be opened, or is damaged, costs recall, never
 * the audio: nothing here throws at the rig.
 */
import type { ParameterStore } from '../parameter-store.ts';
import { RecallManager, type RecallActions } from './recall.ts';
import { openRecallDatabase } from './salvage.ts';
import { RecallDamageError } from './recall-errors.ts';
import type { SnapshotDatabase } from './snapshot-db.ts';
import { printableName } from './snapshot-name.ts';

/** What the page shows about recall (dashboard/protocol.ts declares the same shape). */
export interface RecallStatus {
  /** Why the live state is not being autosaved (a full disk, a read-only database), or null while it is. */
  autosaveError: string | null;
  /** Damage found and what was done about it, each naming the file; empty when all is well. */
  problems: string[];
}

export interface LiveRecallOptions {
  /** Start from the defaults instead of the autosaved live state (`--fresh`). */
  fresh?: boolean;
  targetPreset?: () => string | null;
  mappings?: () => string[];
  /** The terminal: each problem once, as it is found. */
  log: (line: string) => void;
  autosaveMs?: number;
  pollMs?: number;
}

// A database damaged row by row could name hundreds; the page shows the first ones and a count.
const MAX_PROBLEMS = 20;

export class LiveRecall {
  /** Absent when no database could be opened (then `status` says why). */
  readonly manager?: RecallManager;
  readonly db?: SnapshotDatabase;
  private readonly problems: string[] = [];
  private problemsLeftOut = 0;
  private readonly told = new Set<string>();
  private names: string[] = [];

  /** Opens the recall database at `file` (the data folder's by default) for the running rig. */
  static open(store: ParameterStore, options: LiveRecallOptions & { file?: string }): LiveRecall {
    try {
      return new LiveRecall(store, openRecallDatabase(options.file), options);
    } catch (error) {
      const problem = `${(error as Error).message}; running without recall (nothing will be autosaved)`;
      return new LiveRecall(store, { problems: [problem] }, options);
    }
  }

  constructor(
    store: ParameterStore,
    opened: { db?: SnapshotDatabase; problems: string[] },
    private readonly options: LiveRecallOptions,
  ) {
    for (const problem of opened.problems) this.report(problem);
    if (!opened.db) return;
    const db = opened.db;
    this.db = db;
    this.manager = new RecallManager(store, db, {
      autosaveMs: options.autosaveMs ?? 250,
      pollMs: options.pollMs ?? 500,
      targetPreset: options.targetPreset,
      mappings: options.mappings,
      warn: (line) => options.log(line),
    });
    if (!options.fresh) {
      try {
        if (this.manager.restore()) options.log(`restored the last live state from ${db.file}`);
      } catch (error) {
        this.report(
          `${(error as Error).message}; not restored: the rig starts from the defaults, and the next autosave replaces it`,
        );
      }
    }
    // Read once now, so a damaged snapshot is named at start, not when someone opens the menu.
    this.snapshotNames();
  }

  status(): RecallStatus {
    const problems = this.problemsLeftOut
      ? [...this.problems, `and ${this.problemsLeftOut} more (see the terminal)`]
      : [...this.problems];
    return { autosaveError: this.manager?.autosaveError ?? null, problems };
  }

  /** The names of the snapshots that can be recalled; a damaged one is named once and left out. */
  snapshotNames(): string[] {
    const db = this.db;
    if (!db) return [];
    try {
      const { snapshots, damaged } = db.readSnapshots();
      for (const { name, problem } of damaged) {
        const what = `snapshot "${printableName(name)}"`;
        this.report(`${new RecallDamageError(db.file, what, problem).message}; skipped`);
      }
      this.names = snapshots.map((snapshot) => snapshot.name);
    } catch (error) {
      this.report(`${(error as Error).message}; the page lists the snapshots last read`);
    }
    return this.names;
  }

  /**
   * The recall verbs for control surfaces: a button press that fails (a read-only database, a
   * damaged quick slot) is told on the terminal instead of reaching the surface's event loop.
   */
  get actions(): RecallActions | undefined {
    const manager = this.manager;
    if (!manager) return undefined;
    const guarded = (what: string, run: () => void) => (): void => {
      try {
        run();
      } catch (error) {
        this.options.log(`${what}: ${(error as Error).message}`);
      }
    };
    return {
      selectSlot: (slot) => guarded(`quick slot ${slot}`, () => manager.selectSlot(slot))(),
      toggleAB: guarded('A/B', () => void manager.toggleAB()),
      undo: guarded('undo', () => void manager.undo()),
      redo: guarded('redo', () => void manager.redo()),
    };
  }

  close(): void {
    try {
      this.manager?.close();
    } finally {
      this.db?.close();
    }
  }

  private report(problem: string): void {
    if (this.told.has(problem)) return;
    this.told.add(problem);
    this.options.log(problem);
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(problem);
    else this.problemsLeftOut++;
  }
}
