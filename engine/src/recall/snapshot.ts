/**
 * A snapshot: every parameter value plus what a recall needs to rebuild the session (the
 * target preset, the mappings in use), and its JSON exchange format, validated at the edge.
 */
import {
  PARAMETERS,
  checkValue,
  formatValue,
  getSpec,
  isParameterId,
  type ParameterValues,
} from '../params.ts';
import { PRESETS } from '../presets.ts';
import { MAX_SNAPSHOT_NAME_LENGTH, printableName, snapshotNameProblem } from './snapshot-name.ts';

export interface Snapshot {
  name: string;
  notes: string;
  /** ISO 8601, UTC. */
  createdAt: string;
  values: ParameterValues;
  targetPreset: string | null;
  mappings: string[];
}

export const SNAPSHOT_FORMAT = 'rig-snapshot';
export const SNAPSHOT_FORMAT_VERSION = 1;
// Larger than any honest export (a few KiB): refuse before parsing, not after.
export const MAX_SNAPSHOT_BYTES = 256 * 1024;

export class SnapshotError extends Error {
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'SnapshotError';
  }
}

export function toExport(snapshot: Snapshot): string {
  return (
    JSON.stringify({ format: SNAPSHOT_FORMAT, version: SNAPSHOT_FORMAT_VERSION, ...snapshot }, null, 2) + '\n'
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/** Parses an exported snapshot; every problem is named, nothing partial is returned. */
export function parseExport(text: string, source: string): Snapshot {
  if (Buffer.byteLength(text) > MAX_SNAPSHOT_BYTES)
    throw new SnapshotError(source, `larger than ${MAX_SNAPSHOT_BYTES} bytes; not a snapshot export`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new SnapshotError(source, `not valid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(data)) throw new SnapshotError(source, 'expected a JSON object');
  if (data.format !== SNAPSHOT_FORMAT)
    throw new SnapshotError(source, `"format" must be "${SNAPSHOT_FORMAT}"`);
  if (data.version !== SNAPSHOT_FORMAT_VERSION)
    throw new SnapshotError(
      source,
      `unsupported version ${JSON.stringify(data.version)} (this rig reads version ${SNAPSHOT_FORMAT_VERSION})`,
    );
  const name = data.name;
  if (typeof name !== 'string' || name.trim() === '')
    throw new SnapshotError(
      source,
      `"name" must be a non-empty string of at most ${MAX_SNAPSHOT_NAME_LENGTH} characters`,
    );
  const nameProblem = snapshotNameProblem(name);
  if (nameProblem) throw new SnapshotError(source, `"name" ${nameProblem}`);
  const notes = data.notes ?? '';
  if (typeof notes !== 'string' || notes.length > 10_000)
    throw new SnapshotError(source, '"notes" must be a string of at most 10000 characters');
  const createdAt = data.createdAt ?? new Date().toISOString();
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt)))
    throw new SnapshotError(source, '"createdAt" must be an ISO 8601 date');
  const targetPreset = data.targetPreset ?? null;
  // Own keys only: `in` would take "constructor" or "__proto__", which every object inherits.
  if (targetPreset !== null && (typeof targetPreset !== 'string' || !Object.hasOwn(PRESETS, targetPreset))) {
    throw new SnapshotError(
      source,
      `"targetPreset" ${printableName(JSON.stringify(targetPreset).slice(0, 60))} is not one of ${Object.keys(PRESETS).join(', ')}`,
    );
  }
  const mappings = data.mappings ?? [];
  if (
    !Array.isArray(mappings) ||
    mappings.length > 64 ||
    !mappings.every((m) => typeof m === 'string' && m.length <= 200)
  ) {
    throw new SnapshotError(source, '"mappings" must be a list of mapping names');
  }
  return {
    name: name.trim(),
    notes,
    createdAt: new Date(createdAt).toISOString(),
    values: checkValues(data.values, source),
    targetPreset,
    mappings,
  };
}

/** Checks a values object: known ids, finite in-range numbers. Missing ids take defaults. */
export function checkValues(values: unknown, source: string): ParameterValues {
  if (!isPlainObject(values))
    throw new SnapshotError(source, '"values" must be an object of { "parameter.id": number }');
  const out: ParameterValues = Object.fromEntries(PARAMETERS.map((p) => [p.id, p.default]));
  for (const [id, value] of Object.entries(values)) {
    if (!isParameterId(id)) {
      try {
        getSpec(id);
      } catch (error) {
        throw new SnapshotError(source, (error as Error).message);
      }
    }
    if (typeof value !== 'number')
      throw new SnapshotError(source, `parameter "${id}": ${JSON.stringify(value)} is not a number`);
    try {
      out[id] = checkValue(getSpec(id), value);
    } catch (error) {
      throw new SnapshotError(source, (error as Error).message);
    }
  }
  return out;
}

export interface SnapshotDifference {
  id: string;
  label: string;
  from: string;
  to: string;
}

export function diffSnapshots(a: ParameterValues, b: ParameterValues): SnapshotDifference[] {
  return PARAMETERS.filter((p) => a[p.id] !== b[p.id]).map((p) => ({
    id: p.id,
    label: p.label,
    from: formatValue(p, a[p.id] ?? p.default),
    to: formatValue(p, b[p.id] ?? p.default),
  }));
}
