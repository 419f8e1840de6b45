/** What every command shares: usage errors, --set / --settings parsing, progress, signals. */
import fs from 'node:fs';
import os from 'node:os';
import {
  ProgressBar,
  checkValue,
  getSpec,
  parseValue,
  storedSnapshotValues,
  type ParameterValues,
} from '../../engine/src/index.ts';

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {}

/** A command stopped by Ctrl-C or SIGTERM: exits with the shell's code for the signal (130, 143). */
export class InterruptedError extends Error {
  readonly exitCode: number;

  constructor(readonly signal: NodeJS.Signals) {
    super(`stopped by ${signal}`);
    this.name = 'InterruptedError';
    this.exitCode = 128 + os.constants.signals[signal];
  }
}

/**
 * Runs `job` with a signal that Ctrl-C (SIGINT) and SIGTERM abort with an InterruptedError; the
 * job stops at its next block and cleans up. The handlers are removed when the job ends, so a
 * signal after that takes its default course.
 */
export async function stoppableBySignals<T>(job: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (!controller.signal.aborted) controller.abort(new InterruptedError(signal));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return await job(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export type ProgressCallback = (label: string, done: number, total: number) => void;

export async function parseSettingsFile(file: string): Promise<ParameterValues> {
  // A name that is not a file is a stored snapshot (`--settings "album master"`).
  if (!fs.existsSync(file)) {
    const stored = storedSnapshotValues(file);
    if (stored) return stored;
    throw new UsageError(
      `--settings ${file}: neither a file nor a stored snapshot (see \`rig snapshots list\`)`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--settings ${file}: ${(error as Error).message}`);
  }
  // A recall export nests the values; a plain file is the values themselves.
  const values = (data as { values?: unknown })?.values ?? data;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new UsageError(`--settings ${file}: expected an object of { "parameter.id": value }`);
  }
  const out: ParameterValues = {};
  for (const [id, value] of Object.entries(values)) {
    try {
      const spec = getSpec(id);
      out[id] = typeof value === 'string' ? parseValue(spec, value) : checkValue(spec, Number(value));
    } catch (error) {
      throw new UsageError(`--settings ${file}: ${(error as Error).message}`);
    }
  }
  return out;
}

export function parseSet(assignments: string[]): ParameterValues {
  const out: ParameterValues = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${assignment}: expected ID=VALUE, e.g. --set comp.ratio=2`);
    const id = assignment.slice(0, eq).trim();
    try {
      out[id] = parseValue(getSpec(id), assignment.slice(eq + 1));
    } catch (error) {
      throw new UsageError(`--set ${assignment}: ${(error as Error).message}`);
    }
  }
  return out;
}

export function parseNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${flag} ${text}: not a number`);
  return value;
}

/** A progress callback drawing one bar per label; clear() wipes the bar of a job that stopped early. */
export function progress(): ProgressCallback & { clear(): void } {
  let bar: ProgressBar | undefined;
  let current = '';
  const callback: ProgressCallback = (label, done, total) => {
    if (label !== current) {
      bar?.done();
      bar = new ProgressBar(label, total);
      current = label;
    }
    bar?.update(done);
    if (done >= total) bar?.done();
  };
  return Object.assign(callback, { clear: () => bar?.done() });
}

/**
 * Lets `--target -14` mean what it says: node's parseArgs takes "-14" for an option, so a
 * negative number following an option that needs a value is joined to it (`--target=-14`).
 */
export function joinNegativeValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (args[i].startsWith('--') && !args[i].includes('=') && next !== undefined && /^-\d/.test(next)) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else {
      out.push(args[i]);
    }
  }
  return out;
}
