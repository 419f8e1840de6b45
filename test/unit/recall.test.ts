import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PARAMETERS, positionToValue } from '../../engine/src/params.ts';
import { ParameterStore } from '../../engine/src/parameter-store.ts';
import { RecallManager } from '../../engine/src/recall/recall.ts';
import { renderRecallSheet } from '../../engine/src/recall/recall-sheet.ts';
import { SnapshotDatabase } from '../../engine/src/recall/snapshot-db.ts';
import { printableName, snapshotNameProblem } from '../../engine/src/recall/snapshot-name.ts';
import { diffSnapshots, parseExport, toExport, type Snapshot } from '../../engine/src/recall/snapshot.ts';

let dir: string;
let db: SnapshotDatabase;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-recall-'));
  db = new SnapshotDatabase(path.join(dir, 'recall.db'));
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Every parameter moved off its default to an awkward value (a log-taper fraction, an odd step). */
function awkwardValues(): Record<string, number> {
  return Object.fromEntries(
    PARAMETERS.map((p, i) => [p.id, positionToValue(p, ((i * 0.618034) % 1) * 0.98 + 0.01)]),
  );
}

describe('recall', () => {
  it('round-trips every parameter exactly, steps included, through the database and JSON', () => {
    const store = new ParameterStore();
    const recall = new RecallManager(store, db);
    const values = awkwardValues();
    store.setMany(values, 'cli');
    recall.save('album master', 'for the vinyl cut');
    store.setMany(Object.fromEntries(PARAMETERS.map((p) => [p.id, p.default])), 'cli');
    recall.recall('album master');
    expect(store.snapshot()).toEqual(values);

    const exported = toExport(db.getSnapshot('album master')!);
    const imported = parseExport(exported, 'album.json');
    expect(imported.values).toEqual(values);
    expect(imported.notes).toBe('for the vinyl cut');
    recall.close();
  });

  it('restores the autosaved live state after a restart', async () => {
    const store = new ParameterStore();
    const recall = new RecallManager(store, db, { autosaveMs: 20 });
    store.set('limiter.ceiling', -0.3, 'dashboard:1');
    await new Promise((r) => setTimeout(r, 60));
    const next = new ParameterStore();
    expect(new RecallManager(next, db).restore()).toBe(true);
    expect(next.get('limiter.ceiling')).toBe(-0.3);
    recall.close();
  });

  it('undoes a knob turn as one step and a recall as one step', () => {
    const store = new ParameterStore();
    const recall = new RecallManager(store, db);
    for (let v = -12; v <= -6; v += 0.5) store.set('comp.threshold', v, 'controller:knob');
    store.set('comp.ratio', 4, 'controller:knob');
    recall.undo();
    expect(store.get('comp.ratio')).toBe(2);
    recall.undo();
    expect(store.get('comp.threshold')).toBe(-12);
    recall.redo();
    expect(store.get('comp.threshold')).toBe(-6);

    recall.save('loud');
    store.set('comp.threshold', -30, 'cli');
    store.set('limiter.gain', 9, 'cli');
    recall.recall('loud');
    recall.undo();
    expect([store.get('comp.threshold'), store.get('limiter.gain')]).toEqual([-30, 9]);
    recall.close();
  });

  it('keeps four quick slots for A/B/C/D comparisons', () => {
    const store = new ParameterStore();
    const recall = new RecallManager(store, db);
    store.set('character.drive', 3, 'cli');
    recall.selectSlot('B'); // B starts as a copy of A
    store.set('character.drive', 9, 'cli');
    recall.selectSlot('A');
    expect(store.get('character.drive')).toBe(3);
    recall.selectSlot('B');
    expect(store.get('character.drive')).toBe(9);
    recall.close();
  });

  it('toggles A/B between the last two slots used, each keeping its own edits', () => {
    const store = new ParameterStore();
    const recall = new RecallManager(store, db);
    store.set('comp.ratio', 4, 'cli');
    expect(recall.toggleAB()).toBe('B');
    store.set('comp.ratio', 1.5, 'cli');
    recall.selectSlot('D');
    store.set('comp.ratio', 10, 'cli');
    expect(recall.toggleAB()).toBe('B');
    expect(store.get('comp.ratio')).toBe(1.5);
    expect(recall.toggleAB()).toBe('D');
    expect(store.get('comp.ratio')).toBe(10);
    recall.selectSlot('A');
    expect(store.get('comp.ratio')).toBe(4);
    recall.close();
  });

  it('lets the last of two concurrent recalls win whole, never a mix', () => {
    const store = new ParameterStore();
    const recall = new RecallManager(store, db);
    store.setMany({ 'eq.bell1.gain': 6, 'comp.ratio': 10 }, 'cli');
    recall.save('one');
    store.setMany({ 'eq.bell1.gain': -6, 'comp.ratio': 1.5 }, 'cli');
    recall.save('two');
    // The page and a controller button recall at once: both run to completion in turn.
    const seen: Array<[string, number]> = [];
    store.subscribe((c) => seen.push([c.id, c.value]));
    Promise.resolve().then(() => recall.recall('one'));
    Promise.resolve().then(() => recall.recall('two'));
    return Promise.resolve()
      .then(() => Promise.resolve())
      .then(() => {
        expect([store.get('eq.bell1.gain'), store.get('comp.ratio')]).toEqual([-6, 1.5]);
        recall.close();
      });
  });

  it('rejects corrupt and hostile imports with the reason', () => {
    const good = JSON.parse(
      toExport({
        name: 'x',
        notes: '',
        createdAt: new Date(0).toISOString(),
        values: {},
        targetPreset: null,
        mappings: [],
      }),
    );
    const cases: Array<[string, RegExp]> = [
      ['{"format":"rig-snapshot",', /not valid JSON/],
      ['[]', /expected a JSON object/],
      [JSON.stringify({ ...good, format: 'other' }), /"format" must be "rig-snapshot"/],
      [JSON.stringify({ ...good, version: 99 }), /unsupported version 99/],
      [JSON.stringify({ ...good, name: '' }), /"name" must be a non-empty string/],
      [
        JSON.stringify({ ...good, values: { 'comp.ration': 2 } }),
        /unknown parameter "comp.ration" \(did you mean "comp.ratio"\?\)/,
      ],
      [JSON.stringify({ ...good, values: { 'comp.ratio': '2' } }), /"comp.ratio": "2" is not a number/],
      [JSON.stringify({ ...good, values: { 'limiter.ceiling': 6 } }), /"limiter.ceiling": 6 is out of range/],
      [
        JSON.stringify({ ...good, values: { 'comp.ratio': 5 } }).replace('"comp.ratio"', '"__proto__"'),
        /unknown parameter "__proto__"/,
      ],
      [JSON.stringify({ ...good, targetPreset: 'moon' }), /"targetPreset" "moon" is not one of/],
      [JSON.stringify({ ...good, notes: 'x'.repeat(300_000) }), /larger than 262144 bytes/],
    ];
    for (const [text, reason] of cases)
      expect(() => parseExport(text, 'evil.json'), text.slice(0, 60)).toThrow(reason);
  });

  it('diffs two snapshots and draws a recall sheet with every knob', () => {
    const a = { ...Object.fromEntries(PARAMETERS.map((p) => [p.id, p.default])) };
    const b = { ...a, 'comp.ratio': 4, 'character.mode': 1 };
    expect(diffSnapshots(a, b)).toEqual([
      { id: 'comp.ratio', label: 'Ratio', from: '2.00 :1', to: '4.00 :1' },
      { id: 'character.mode', label: 'Saturation', from: 'tape', to: 'tube' },
    ]);
    const html = renderRecallSheet({
      name: 'Night <mix>',
      notes: '',
      createdAt: new Date(0).toISOString(),
      values: b,
      targetPreset: 'spotify',
      mappings: [],
    });
    expect(html).toContain('Night &lt;mix&gt;');
    expect(html.match(/<figure class="knob">/g)?.length).toBe(PARAMETERS.length);
    expect(html).toContain('tube');
  });

  it('refuses snapshot names with control characters, blank or too long, wherever a name enters', () => {
    const hostile = [
      '\u001b[2Jcleared',
      'two\nlines',
      'nul\u0000byte',
      'bell\u0007',
      'c1\u009b2J',
      '   ',
      'n'.repeat(121),
    ];
    for (const name of hostile) {
      expect(snapshotNameProblem(name), JSON.stringify(name)).toBeDefined();
      const file = JSON.stringify({ format: 'rig-snapshot', version: 1, name, values: {} });
      expect(() => parseExport(file, 'evil.json'), JSON.stringify(name)).toThrow(/evil\.json: "name" /);
      const recall = new RecallManager(new ParameterStore(), db);
      expect(() => recall.save(name), JSON.stringify(name)).toThrow(/snapshot name/);
      recall.close();
    }
    expect(db.listSnapshots()).toEqual([]);
    // Printable text of any script stays welcome, and the bound is the page's (120).
    for (const name of ['Nachtmix – Übergang', '夜のミックス', 'n'.repeat(120)])
      expect(snapshotNameProblem(name)).toBeUndefined();
    // A name stored before names were checked prints escaped, never as a terminal command.
    expect(printableName('x\u001b[2J\ny')).toBe('x\\u001b[2J\\u000ay');
  });

  it("takes only the preset list's own names as a target preset, never an inherited property", () => {
    for (const preset of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const file = JSON.stringify({
        format: 'rig-snapshot',
        version: 1,
        name: 'x',
        values: {},
        targetPreset: preset,
      });
      expect(() => parseExport(file, 'evil.json'), preset).toThrow(/"targetPreset" .* is not one of/);
    }
    const good = JSON.stringify({
      format: 'rig-snapshot',
      version: 1,
      name: 'x',
      values: {},
      targetPreset: 'spotify',
    });
    expect(parseExport(good, 'good.json').targetPreset).toBe('spotify');
  });

  it('refuses to replace a snapshot on import unless asked', () => {
    const snapshot: Snapshot = {
      name: 'take',
      notes: 'first',
      createdAt: new Date(0).toISOString(),
      values: { 'comp.ratio': 4 },
      targetPreset: null,
      mappings: [],
    };
    db.saveSnapshot(snapshot, { replace: false });
    expect(() => db.saveSnapshot({ ...snapshot, notes: 'second' }, { replace: false })).toThrow(
      /a snapshot named "take" already exists in .*recall\.db/,
    );
    expect(db.getSnapshot('take')!.notes).toBe('first');
    db.saveSnapshot({ ...snapshot, notes: 'second' }, { replace: true });
    expect(db.getSnapshot('take')!.notes).toBe('second');
  });
});

describe('recall with a damaged row', () => {
  function rawDb(): Database.Database {
    return new Database(db.file);
  }

  it('skips a snapshot with bad JSON, naming it, and lists and recalls the others', () => {
    const store = new ParameterStore();
    const recall = new RecallManager(store, db);
    for (let i = 0; i < 30; i++) {
      store.set('input.trim', -i / 2, 'cli');
      recall.save(`take ${i}`);
    }
    const raw = rawDb();
    raw.prepare("UPDATE snapshots SET values_json = '{bad' WHERE name = 'take 7'").run();
    raw.close();

    const { snapshots, damaged } = db.readSnapshots();
    expect(snapshots).toHaveLength(29);
    expect(snapshots.map((s) => s.name)).not.toContain('take 7');
    expect(damaged).toEqual([
      { name: 'take 7', problem: expect.stringMatching(/values are not valid JSON/) },
    ]);
    expect(db.listSnapshots()).toHaveLength(29);
    recall.recall('take 12');
    expect(store.get('input.trim')).toBe(-6);
    expect(() => recall.recall('take 7')).toThrow(
      /recall\.db: snapshot "take 7" is damaged \(values are not valid JSON/,
    );
    recall.close();
  });

  it('starts from the defaults when the live state is bad JSON, naming the database, and keeps polling', async () => {
    db.writeLiveState({ 'input.trim': -3 }, null);
    const raw = rawDb();
    raw.prepare("UPDATE live_state SET values_json = '{bad'").run();
    raw.close();
    const store = new ParameterStore();
    const warnings: string[] = [];
    const recall = new RecallManager(store, db, { pollMs: 10, warn: (line) => warnings.push(line) });
    expect(() => recall.restore()).toThrow(
      /recall\.db: the live state is damaged \(values are not valid JSON/,
    );
    expect(store.get('input.trim')).toBe(0);
    // A recall from another terminal that left the row as bad: the poll warns once, the rig goes on.
    const bump = rawDb();
    bump.prepare('UPDATE live_state SET recall_seq = recall_seq + 1').run();
    bump.close();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/recall\.db: the live state is damaged/);
    // The next autosave replaces the bad row.
    store.set('input.trim', -1, 'cli');
    recall.flush();
    expect(db.readLiveState()!.values['input.trim']).toBe(-1);
    recall.close();
  });
});

describe('autosave', () => {
  it('says when the live state cannot be saved (a read-only database) and keeps the rig running', async () => {
    db.writeLiveState({}, null);
    const readOnly = new SnapshotDatabase(db.file, { readonly: true });
    const store = new ParameterStore();
    const warnings: string[] = [];
    const recall = new RecallManager(store, readOnly, {
      autosaveMs: 10,
      warn: (line) => warnings.push(line),
    });
    expect(recall.autosaveError).toBeNull();
    store.set('input.trim', -2, 'dashboard:1');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(recall.autosaveError).toMatch(
      /autosave to .*recall\.db failed \(attempt to write a readonly database\)/,
    );
    expect(warnings).toEqual([recall.autosaveError]);
    // More changes while it fails: still one warning, not one every 250 ms.
    store.set('input.trim', -3, 'dashboard:1');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(warnings).toHaveLength(1);
    expect(() => recall.close()).not.toThrow();
    readOnly.close();
  });
});
