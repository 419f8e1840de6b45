/**
 * A damaged recall database costs recall, never the rig: a damaged file is set aside (never
 * deleted) and what can still be read is salvaged into a fresh one; a damaged row is skipped and
 * named; the page keeps working and is told what is wrong, and when autosave fails. Also the
 * command line's edges: a name clash on import, hostile names.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { commandSnapshots } from '../../bin/commands/snapshots.ts';
import type { ServerMessage, StatusMessage } from '../../dashboard/protocol.ts';
import { startRigDashboard, type DashboardServer } from '../../dashboard/server/index.ts';
import { ParameterStore } from '../../engine/src/parameter-store.ts';
import { LiveRecall } from '../../engine/src/recall/live-recall.ts';
import { openRecallDatabase } from '../../engine/src/recall/salvage.ts';
import { SnapshotDatabase } from '../../engine/src/recall/snapshot-db.ts';
import { toExport } from '../../engine/src/recall/snapshot.ts';

let dir: string;
let file: string;
const previousDataDir = process.env.RIG_DATA_DIR;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-recall-damage-'));
  file = path.join(dir, 'recall.db');
  process.env.RIG_DATA_DIR = dir;
});
afterEach(() => {
  process.env.RIG_DATA_DIR = previousDataDir;
  fs.rmSync(dir, { recursive: true, force: true });
});

const PAGE_BYTES = 4096;

/** 30 snapshots (each with notes long enough that they fill several pages), a live state, slot B. */
function fillDatabase(): void {
  const db = new SnapshotDatabase(file);
  for (let i = 0; i < 30; i++) {
    db.saveSnapshot({
      name: `take ${i}`,
      notes: `take ${i}: ${'n'.repeat(400)}`,
      createdAt: new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString(),
      values: { 'input.trim': -(i + 1) / 2, 'comp.ratio': 4 },
      targetPreset: null,
      mappings: [],
    });
  }
  db.writeLiveState({ 'input.trim': -7.5 }, null);
  db.writeSlot('B', { 'comp.ratio': 10 });
  db.close();
}

/** Pages holding rows of the snapshots table (its leaves), as SQLite's dbstat lists them. */
function snapshotLeafPages(): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return (
      db.prepare("SELECT pageno FROM dbstat WHERE name = 'snapshots' AND pagetype = 'leaf'").all() as Array<{
        pageno: number;
      }>
    ).map((row) => row.pageno);
  } finally {
    db.close();
  }
}

/** Overwrites bytes from `offset` (to the end by default) with noise a fixed seed repeats. */
function scribble(offset: number, length = fs.statSync(file).size - offset): Buffer {
  const noise = Buffer.alloc(length);
  let x = 0x2545f491;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    noise[i] = x & 0xff;
  }
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, noise, 0, length, offset);
  fs.closeSync(fd);
  return fs.readFileSync(file);
}

function setAside(): string[] {
  return fs.readdirSync(dir).filter((name) => name.startsWith('recall.db.damaged-'));
}

function rawUpdate(sql: string): void {
  const db = new Database(file);
  db.prepare(sql).run();
  db.close();
}

describe('a damaged recall database', () => {
  it('is set aside untouched and its readable snapshots are salvaged into a fresh one', () => {
    fillDatabase();
    const leaves = snapshotLeafPages();
    expect(leaves.length).toBeGreaterThanOrEqual(3);
    // A leaf in the middle: the rows before and after it are still reachable.
    const bad = leaves[1];
    const damagedBytes = scribble((bad - 1) * PAGE_BYTES, PAGE_BYTES);

    const { db, problems } = openRecallDatabase(file);
    try {
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(file);
      expect(problems[0]).toMatch(/is damaged/);
      const aside = setAside().filter((name) => !/-(wal|shm)$/.test(name));
      expect(aside).toHaveLength(1);
      expect(problems[0]).toContain(path.join(dir, aside[0]));
      // Kept exactly as found: the evidence, and whatever a specialist tool could still get out.
      expect(fs.readFileSync(path.join(dir, aside[0])).equals(damagedBytes)).toBe(true);

      expect(db.integrityOk()).toBe(true);
      const salvaged = db.listSnapshots();
      expect(salvaged.length).toBeGreaterThan(10);
      expect(salvaged.length).toBeLessThan(30);
      expect(problems[0]).toContain(`${salvaged.length} snapshots`);
      for (const snapshot of salvaged) {
        const i = Number(snapshot.name.split(' ')[1]);
        expect(snapshot.values).toEqual({ 'input.trim': -(i + 1) / 2, 'comp.ratio': 4 });
        expect(snapshot.notes).toBe(`take ${i}: ${'n'.repeat(400)}`);
      }
      // The rows on the far side of the bad page too, not only those before it.
      expect(salvaged.map((s) => s.name)).toContain('take 29');
      expect(db.readLiveState()!.values).toEqual({ 'input.trim': -7.5 });
      expect(db.readSlot('B')).toEqual({ 'comp.ratio': 10 });
    } finally {
      db.close();
    }
  });

  it('with random bytes after the first page (the header intact) opens fresh, the file kept aside', () => {
    fillDatabase();
    const damagedBytes = scribble(PAGE_BYTES);
    const { db, problems } = openRecallDatabase(file);
    try {
      expect(problems.join('\n')).toContain(file);
      expect(db.integrityOk()).toBe(true);
      db.saveSnapshot({
        name: 'after',
        notes: '',
        createdAt: new Date().toISOString(),
        values: {},
        targetPreset: null,
        mappings: [],
      });
      expect(db.listSnapshots().map((s) => s.name)).toContain('after');
    } finally {
      db.close();
    }
    const aside = setAside().find((name) => !/-(wal|shm)$/.test(name))!;
    expect(fs.readFileSync(path.join(dir, aside)).equals(damagedBytes)).toBe(true);
  });

  it('that is not a database at all is set aside with its -wal and -shm', () => {
    fs.writeFileSync(file, 'not a database, just a text file '.repeat(200));
    fs.writeFileSync(`${file}-wal`, 'stale wal');
    fs.writeFileSync(`${file}-shm`, 'stale shm');
    const { db, problems } = openRecallDatabase(file);
    db.close();
    expect(problems[0]).toMatch(/is damaged \(file is not a database\)/);
    const aside = setAside().sort();
    expect(aside).toHaveLength(3);
    expect(aside[1]).toMatch(/-shm$/);
    expect(aside[2]).toMatch(/-wal$/);
    expect(fs.readFileSync(path.join(dir, aside[2]), 'utf8')).toBe('stale wal');
  });

  it('written by a newer rig is not damage: it stays where it is and the reason names it', () => {
    fillDatabase();
    rawUpdate('PRAGMA user_version = 99');
    expect(() => openRecallDatabase(file)).toThrow(/recall\.db: written by a newer rig/);
    expect(setAside()).toEqual([]);
    expect(fs.existsSync(file)).toBe(true);
  });

  it('with a bad live state is kept; the rig starts from the defaults and says why, naming the file', () => {
    fillDatabase();
    rawUpdate("UPDATE live_state SET values_json = '{bad'");
    const log: string[] = [];
    const store = new ParameterStore();
    const recall = LiveRecall.open(store, { file, log: (line) => log.push(line) });
    try {
      expect(store.get('input.trim')).toBe(0);
      expect(log.join('\n')).toMatch(
        new RegExp(`${file}: the live state is damaged \\(values are not valid JSON.*not restored`),
      );
      expect(recall.status().problems.join('\n')).toContain(file);
      expect(recall.snapshotNames()).toHaveLength(30);
      expect(setAside()).toEqual([]);
    } finally {
      recall.close();
    }
  });
});

describe('the page with a damaged row and a failing autosave', () => {
  let dashboard: DashboardServer | undefined;
  let recall: LiveRecall | undefined;
  afterEach(async () => {
    await dashboard?.close();
    recall?.close();
    dashboard = recall = undefined;
  });

  async function statusOf(recallPart: LiveRecall, store: ParameterStore): Promise<StatusMessage> {
    dashboard = await startRigDashboard({
      engine: {
        readMeters: (into: Float32Array) => into.fill(NaN),
        sampleRate: 48000,
        block: 512,
        latencySamples: 0,
        ioLatencySamples: 512,
      },
      store,
      device: 'test',
      port: 0,
      recall: { manager: recallPart.manager!, snapshotNames: () => recallPart.snapshotNames() },
      recallStatus: () => recallPart.status(),
    });
    const socket = new WebSocket(`ws://127.0.0.1:${dashboard.port}/ws`, {
      origin: `http://127.0.0.1:${dashboard.port}`,
    });
    try {
      return await new Promise<StatusMessage>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no status')), 3000);
        socket.on('message', (data, binary) => {
          if (binary) return;
          const message = JSON.parse(data.toString()) as ServerMessage;
          if (message.type === 'hello') {
            clearTimeout(timer);
            resolve({ type: 'status', ...message.status });
          }
        });
      });
    } finally {
      socket.close();
    }
  }

  it('lists the good snapshots, names the bad one and shows the engine as it runs', async () => {
    fillDatabase();
    rawUpdate("UPDATE snapshots SET values_json = '{bad' WHERE name = 'take 7'");
    const store = new ParameterStore();
    const log: string[] = [];
    recall = LiveRecall.open(store, { file, log: (line) => log.push(line) });
    const status = await statusOf(recall, store);
    expect(status.engine.state).not.toBe('stopped');
    expect(status.engine.sampleRate).toBe(48000);
    expect(status.snapshots).toHaveLength(29);
    expect(status.snapshots).not.toContain('take 7');
    expect(status.recall?.problems.join('\n')).toMatch(/snapshot "take 7" is damaged/);
    expect(log.join('\n')).toMatch(new RegExp(`${file}: snapshot "take 7" is damaged.*skipped`));
  });

  it('says when autosave fails (a read-only database), on the page and the terminal', async () => {
    fillDatabase();
    const store = new ParameterStore();
    const log: string[] = [];
    recall = new LiveRecall(
      store,
      { db: new SnapshotDatabase(file, { readonly: true }), problems: [] },
      { log: (line) => log.push(line), autosaveMs: 10 },
    );
    store.set('input.trim', -4, 'dashboard:1');
    await new Promise((resolve) => setTimeout(resolve, 60));
    const status = await statusOf(recall, store);
    expect(status.recall?.autosaveError).toMatch(
      /autosave to .*recall\.db failed \(attempt to write a readonly database\)/,
    );
    expect(log.join('\n')).toContain(status.recall!.autosaveError!);
  });
});

describe('rig snapshots', () => {
  function run(...args: string[]): { out: string[]; warnings: string[] } {
    const out: string[] = [];
    const warnings: string[] = [];
    commandSnapshots(
      args,
      (line) => out.push(line),
      (line) => warnings.push(line),
    );
    return { out, warnings };
  }

  function exportFile(name: string, notes: string): string {
    const target = path.join(dir, `${notes}.json`);
    fs.writeFileSync(
      target,
      toExport({
        name,
        notes,
        createdAt: new Date().toISOString(),
        values: { 'comp.ratio': 10 },
        targetPreset: null,
        mappings: [],
      }),
    );
    return target;
  }

  it('lists the others when one row is bad JSON, naming the bad one and the file', () => {
    fillDatabase();
    rawUpdate("UPDATE snapshots SET values_json = '{bad' WHERE name = 'take 7'");
    const { out, warnings } = run('list');
    expect(out.filter((line) => line.startsWith('take ') && !line.includes('damaged'))).toHaveLength(29);
    expect(out.filter((line) => line.includes('damaged'))).toEqual([expect.stringMatching(/^take 7 /)]);
    expect(warnings.join('\n')).toMatch(new RegExp(`${file}: snapshot "take 7" is damaged`));
    expect(run('list', '--json').out.length).toBe(1);
    expect(JSON.parse(run('list', '--json').out[0])).toHaveLength(29);
  });

  it('refuses an import whose name exists unless --replace, and imports under another name with --as', () => {
    fillDatabase();
    const incoming = exportFile('take 3', 'incoming');
    expect(() => run('import', incoming)).toThrow(
      /a snapshot named "take 3" already exists in .*recall\.db.*--replace.*--as/,
    );
    const db = new SnapshotDatabase(file);
    expect(db.getSnapshot('take 3')!.notes).toMatch(/^take 3: n/);
    db.close();

    expect(run('import', incoming, '--as', 'take 3 (theirs)').out).toEqual([
      `imported "take 3" from ${incoming} as "take 3 (theirs)"`,
    ]);
    expect(run('import', incoming, '--replace').out[0]).toMatch(/imported "take 3", replacing the one saved/);
    const after = new SnapshotDatabase(file);
    expect(after.getSnapshot('take 3')!.notes).toBe('incoming');
    expect(after.getSnapshot('take 3 (theirs)')!.values['comp.ratio']).toBe(10);
    after.close();
    expect(() => run('import', incoming, '--as', 'bad\u001b[2J')).toThrow(/--as: snapshot name .*control/);
  });

  it('refuses hostile names and prints one stored before names were checked escaped', () => {
    fillDatabase();
    for (const name of ['\u001b[2Jgone', 'two\nlines', 'nul\u0000']) {
      expect(() => run('import', exportFile(name, 'hostile'))).toThrow(/"name" .*control characters/);
    }
    expect(() => run('save', 'x\u001b[2J')).toThrow(/snapshot name .*control characters/);
    rawUpdate("UPDATE snapshots SET name = 'old' || char(27) || '[2J' WHERE name = 'take 0'");
    const listed = run('list').out.join('\n');
    expect(listed).not.toContain('\u001b');
    expect(listed).toContain('old\\u001b[2J');
  });
});
