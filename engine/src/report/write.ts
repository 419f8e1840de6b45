/**
 * Writes a report as `NAME.html` with its data as `NAME.json` beside it. Each file is written to
 * a fresh hidden temporary in the same folder, flushed, then renamed over its name, so a reader
 * (a browser reloading, a script polling the JSON) sees the old report or the new one, never
 * half of one. The only Node module of the report builder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OutputFileError, checkOutputFile } from '../file-checks.ts';

export interface WrittenReport {
  htmlPath: string;
  jsonPath: string;
}

/** `out/qc` and `out/qc.html` both name out/qc.html and out/qc.json. */
export function reportPaths(name: string): WrittenReport {
  const base = name.replace(/\.(html?|json)$/i, '');
  return { htmlPath: `${base}.html`, jsonPath: `${base}.json` };
}

/**
 * JSON has no NaN or Infinity (they would become null anyway, silently) and typed arrays would
 * become objects keyed by index: both are made explicit here.
 */
export function reportJsonText(data: unknown): string {
  return `${JSON.stringify(
    data,
    (_key, value: unknown) => {
      if (typeof value === 'number') return Number.isFinite(value) ? value : null;
      if (ArrayBuffer.isView(value) && !(value instanceof DataView))
        return Array.from(value as unknown as ArrayLike<number>, (v) => (Number.isFinite(v) ? v : null));
      return value;
    },
    2,
  )}\n`;
}

function temporaryPathOf(file: string): string {
  const unique = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  return path.join(path.dirname(file), `.${path.basename(file)}.${unique}.partial`);
}

/** Writes `text` to a new temporary beside `file` ('wx': never through something left there). */
function writeTemporary(file: string, text: string): string {
  const temporary = temporaryPathOf(file);
  const fd = fs.openSync(temporary, 'wx');
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return temporary;
}

/**
 * Writes the report's HTML and JSON, replacing earlier ones. Refuses, before writing anything, a
 * name that is a folder, a FIFO or in a missing folder; on any failure, leaves no temporary behind.
 */
export function writeReport(name: string, html: string, data: unknown): WrittenReport {
  const paths = reportPaths(name);
  checkOutputFile(paths.htmlPath);
  checkOutputFile(paths.jsonPath);
  const temporaries: string[] = [];
  try {
    const jsonTemporary = writeTemporary(paths.jsonPath, reportJsonText(data));
    temporaries.push(jsonTemporary);
    const htmlTemporary = writeTemporary(paths.htmlPath, html);
    temporaries.push(htmlTemporary);
    // The data first: once the HTML a person opens is new, the JSON beside it is new too.
    fs.renameSync(jsonTemporary, paths.jsonPath);
    fs.renameSync(htmlTemporary, paths.htmlPath);
    return paths;
  } catch (error) {
    for (const temporary of temporaries) fs.rmSync(temporary, { force: true });
    throw error instanceof OutputFileError
      ? error
      : new OutputFileError(
          paths.htmlPath,
          `cannot write the report: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
  }
}
