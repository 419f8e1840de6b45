/**
 * What a path must be before the rig reads or writes audio there, checked before any work:
 * - only regular files are read: opening a FIFO for reading blocks until a writer comes (a hang,
 *   not an error), a device never ends, a folder fails with a bare EISDIR;
 * - only regular files are written or replaced: a render is renamed over its output, which would
 *   turn `-o /dev/null` or a FIFO into a regular file;
 * - a render never replaces its own source, by path or through a symlink or hard link;
 * - the output's folder exists and is writable, so a long render does not fail at its rename.
 */
import fs from 'node:fs';
import path from 'node:path';

/** What is wrong with a file the rig was asked to write, naming it as it was given. */
export class OutputFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'OutputFileError';
  }
}

/** What a non-regular file is, in words: "a folder", "a FIFO (named pipe)", ... */
export function describeKind(stats: fs.Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw new OutputFileError(file, `${path.dirname(file)} is not a folder`);
    throw new OutputFileError(file, `cannot check it: ${code ?? (error as Error).message}`);
  }
}

/**
 * Throws unless `file` can be written: absent or a regular file (followed through a symlink),
 * in an existing, writable folder.
 */
export function checkOutputFile(file: string): void {
  const stats = statOrUndefined(file);
  if (stats && !stats.isFile())
    throw new OutputFileError(file, `is ${describeKind(stats)}; only regular files are written or replaced`);
  const folder = path.dirname(path.resolve(file));
  const folderStats = statOrUndefined(folder);
  if (!folderStats) throw new OutputFileError(file, `the folder ${path.dirname(file)} does not exist`);
  if (!folderStats.isDirectory()) throw new OutputFileError(file, `${path.dirname(file)} is not a folder`);
  try {
    fs.accessSync(folder, fs.constants.W_OK);
  } catch {
    throw new OutputFileError(file, `the folder ${path.dirname(file)} is not writable`);
  }
}

/** How `output` is the same file as `input`, or undefined when it is another file. */
function sameFileAs(input: string, output: string): string | undefined {
  if (path.resolve(input) === path.resolve(output)) return 'itself';
  const inputStats = fs.statSync(input, { throwIfNoEntry: false });
  const outputStats = fs.statSync(output, { throwIfNoEntry: false });
  if (!inputStats || !outputStats) return undefined;
  if (fs.realpathSync(input) === fs.realpathSync(output)) return 'through a link';
  if (inputStats.dev === outputStats.dev && inputStats.ino === outputStats.ino) return 'through a hard link';
  return undefined;
}

/** Throws when writing `output` would replace `input`, naming both. */
export function checkNotInput(input: string, output: string): void {
  const how = sameFileAs(input, output);
  if (how)
    throw new OutputFileError(
      output,
      `is the input ${input}${how === 'itself' ? '' : ` (${how})`}; a master never replaces its source: write it to another file`,
    );
}

/**
 * Reads exactly `bytes` at `position` into `buffer` (the WAV and AIFF readers' sample data): a read
 * that fails says why, one that meets the end of the file says where the samples stopped.
 */
export function readExactly(
  fd: number,
  buffer: Buffer,
  bytes: number,
  position: number,
  makeError: (problem: string) => Error,
  truncated: (gotBytes: number) => string,
): void {
  let got = 0;
  while (got < bytes) {
    let n: number;
    try {
      n = fs.readSync(fd, buffer, got, bytes - got, position + got);
    } catch (error) {
      throw makeError(`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (n === 0) throw makeError(truncated(got));
    got += n;
  }
}
