/**
 * What may name a snapshot, checked wherever a name enters (an import, a save from the page or the
 * command line): a label on a button, in a list and on a terminal, so printable text of any script,
 * one line, bounded. A name stored before names were checked is printed escaped.
 */

// A label on a button and in a list, far below what fits in a dashboard frame: the bound is about sanity.
export const MAX_SNAPSHOT_NAME_LENGTH = 120;

// C0 and C1 controls and DEL (ESC starts a terminal command, NUL ends a C string), line and
// paragraph separators, bidirectional overrides and isolates (they reorder the text printed after
// them), lone surrogates. Printable characters of every script, emoji sequences included, pass.
const UNPRINTABLE = /[\p{Cc}\p{Zl}\p{Zp}\u202a-\u202e\u2066-\u2069]|\p{Cs}/u;
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE.source, 'gu');

/** Why `name` cannot name a snapshot, or undefined when it can (it is stored trimmed). */
export function snapshotNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'must not be empty';
  if (name.length > MAX_SNAPSHOT_NAME_LENGTH)
    return `${name.length} characters, at most ${MAX_SNAPSHOT_NAME_LENGTH}`;
  const bad = UNPRINTABLE.exec(name);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return `contains control characters (U+${code} at position ${bad.index + 1})`;
  }
  return undefined;
}

/** The name as stored (trimmed); throws naming the problem, after `what` (e.g. "--as"). */
export function checkSnapshotName(name: string, what = 'snapshot name'): string {
  const problem = snapshotNameProblem(name);
  if (problem) {
    const shown = name.length > 40 ? `${name.slice(0, 40)}…` : name;
    throw new RangeError(`${what} "${printableName(shown)}": ${problem}`);
  }
  return name.trim();
}

/** A name safe to print on a terminal: every unprintable character as a \u escape. */
export function printableName(name: string): string {
  return name.replace(UNPRINTABLE_ALL, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}
