/**
 * The file discipline every format in io/ shares with wav.ts: sources are opened only when they
 * are regular files (a FIFO would hang the open, a device never ends), and outputs are written
 * under the hidden partial name of wav.ts and moved under their real name only when complete.
 */
import fs from 'node:fs';
import { OutputFileError, checkOutputFile, describeKind } from '../file-checks.ts';

export { partialPathOf } from '../wav.ts';

/** Throws `makeError(problem)` unless `file` is a regular file that can be opened for reading. */
export function checkReadableFile(file: string, makeError: (problem: string) => Error, noun: string): void {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(file);
  } catch (error) {
    throw makeError(`cannot open: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!stats.isFile()) throw makeError(`is ${describeKind(stats)}, not ${noun}`);
}

/** Opens a regular file for reading, checked before and after the open (as WavReader does). */
export function openReadableFile(file: string, makeError: (problem: string) => Error, noun: string): number {
  checkReadableFile(file, makeError, noun);
  let fd: number;
  try {
    // Non-blocking, so a FIFO swapped in after the check still cannot hang the open.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    throw makeError(`cannot open: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const stats = fs.fstatSync(fd);
  if (!stats.isFile()) {
    fs.closeSync(fd);
    throw makeError(`is ${describeKind(stats)}, not ${noun}`);
  }
  return fd;
}

/**
 * Creates `partial` as a new, empty regular file and returns its descriptor. What a killed process
 * left there is removed first if it is a file or a symlink (writing through a planted link would
 * truncate whatever it points at); anything else is named.
 */
export function claimPartial(partial: string): number {
  const stale = fs.lstatSync(partial, { throwIfNoEntry: false });
  if (stale && !stale.isFile() && !stale.isSymbolicLink())
    throw new OutputFileError(partial, `is ${describeKind(stale)} where a partial file goes; remove it`);
  if (stale) fs.rmSync(partial);
  return fs.openSync(partial, 'wx');
}

/**
 * Moves a finished partial file under its real name, if that is still a regular file or nothing;
 * otherwise removes the partial and says why (WavWriter.commit's rule).
 */
export function commitPartial(partial: string, file: string): void {
  try {
    checkOutputFile(file);
    fs.renameSync(partial, file);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error instanceof OutputFileError
      ? error
      : new OutputFileError(
          file,
          `cannot write it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
  }
}
