/**
 * What `master` refuses to read or write, and what it leaves behind when it stops early: the
 * library itself, so the rules hold for every caller, not only the command line.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoProgram } from '../../engine/src/demo-program.ts';
import { master, type MasterOptions } from '../../engine/src/master.ts';
import { WavWriter, interleave } from '../../engine/src/wav.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-master-files-'));
const input = path.join(dir, 'song.wav');
let source: Buffer;

beforeAll(() => {
  const { left, right } = DemoProgram.render(48000, 3);
  const writer = new WavWriter(input, { sampleRate: 48000, channels: 2, format: 'int24' });
  writer.write(interleave(left, right, 2));
  writer.close();
  source = fs.readFileSync(input);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const options = (output: string, more: Partial<MasterOptions> = {}): MasterOptions => ({
  input,
  output,
  targetLufs: -14,
  ceilingDbtp: -1,
  values: {},
  format: 'int24',
  ...more,
});

/** Every hidden half-written file in the folder: what a render must never leave behind. */
const partials = (folder = dir) => fs.readdirSync(folder).filter((f) => f.includes('.partial'));

/** Runs `master` and returns what it threw (undefined when it did not). */
async function failure(run: MasterOptions): Promise<Error | undefined> {
  try {
    await master(run);
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

describe('master refuses what it must not write', () => {
  it('refuses to write over its own input, by path, through a symlink or a hard link, naming both', async () => {
    const symlink = path.join(dir, 'link.wav');
    const hardLink = path.join(dir, 'hard.wav');
    fs.symlinkSync(input, symlink);
    fs.linkSync(input, hardLink);
    const roundabout = `${dir}/./sub/../song.wav`;
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    for (const output of [input, roundabout, symlink, hardLink]) {
      const error = await failure(options(output));
      expect(error?.message, output).toMatch(/is the input/);
      expect(error?.message, output).toContain(output);
      expect(error?.message, output).toContain('song.wav');
    }
    // The --cd master's name can be the input's too: x.wav --cd writes x.cd.wav.
    const cdInput = path.join(dir, 'take.cd.wav');
    fs.copyFileSync(input, cdInput);
    const cd = await failure({ ...options(path.join(dir, 'take.wav'), { cd: true }), input: cdInput });
    expect(cd?.message).toMatch(/take\.cd\.wav.*is the input/);
    expect(fs.existsSync(path.join(dir, 'take.wav'))).toBe(false);
    expect(fs.readFileSync(input).equals(source)).toBe(true);
    expect(partials()).toEqual([]);
  });

  it('writes or replaces only regular files: a FIFO, a device node or a folder at the output is refused before rendering', async () => {
    const fifo = path.join(dir, 'pipe.wav');
    execFileSync('mkfifo', [fifo]);
    const folder = path.join(dir, 'folder.wav');
    fs.mkdirSync(folder);
    const outputs = [fifo, folder];
    // Only root may make a device node; elsewhere the FIFO and the folder stand for it.
    const device = path.join(dir, 'null');
    try {
      execFileSync('mknod', [device, 'c', '1', '3'], { stdio: 'ignore' });
      outputs.push(device);
    } catch {}
    for (const output of outputs) {
      let progressed = false;
      const error = await failure(options(output, { onProgress: () => (progressed = true) }));
      expect(error?.message, output).toMatch(/only regular files are written/);
      expect(error?.message, output).toContain(output);
      // Refused up front: not one block was analyzed or rendered.
      expect(progressed, output).toBe(false);
    }
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
    expect(fs.statSync(folder).isDirectory()).toBe(true);
    if (outputs.includes(device)) expect(fs.statSync(device).isCharacterDevice()).toBe(true);
    // The --cd master's name too.
    const cdFifo = path.join(dir, 'disc.cd.wav');
    execFileSync('mkfifo', [cdFifo]);
    const cd = await failure(options(path.join(dir, 'disc.wav'), { cd: true }));
    expect(cd?.message).toMatch(/disc\.cd\.wav: is a FIFO.*only regular files are written/);
    expect(fs.existsSync(path.join(dir, 'disc.wav'))).toBe(false);
    expect(partials()).toEqual([]);
  });

  it('refuses an output in a folder that does not exist before rendering', async () => {
    const output = path.join(dir, 'no-such-folder', 'out.wav');
    let progressed = false;
    const error = await failure(options(output, { onProgress: () => (progressed = true) }));
    expect(error?.message).toMatch(/no-such-folder.*does not exist/);
    expect(progressed).toBe(false);
  });

  it('refuses an input with no audio frames and writes nothing', async () => {
    const empty = path.join(dir, 'IN.wav');
    new WavWriter(empty, { sampleRate: 48000, channels: 2, format: 'int24' }).close();
    const output = path.join(dir, 'empty-master.wav');
    const error = await failure({ ...options(output), input: empty });
    expect(error?.message).toMatch(/IN\.wav has no audio frames/);
    expect(fs.existsSync(output)).toBe(false);
    expect(partials()).toEqual([]);
  });
});

describe('master stopped early', () => {
  for (const [stage, cd] of [
    ['pass 1', false],
    ['cd render', true],
  ] as const) {
    it(`leaves the old output untouched and no partial file when cancelled during "${stage}"`, async () => {
      const output = path.join(dir, `cancelled-${cd ? 'cd' : 'plain'}.wav`);
      const cdOutput = output.replace(/\.wav$/, '.cd.wav');
      fs.writeFileSync(output, 'the previous master');
      fs.writeFileSync(cdOutput, 'the previous cd master');
      const controller = new AbortController();
      const reason = new Error('stopped by SIGTERM');
      const seen = new Set<string>();
      const error = await failure(
        options(output, {
          cd,
          signal: controller.signal,
          onProgress: (label, done, total) => {
            for (const f of partials()) seen.add(f);
            if (label === stage && done >= total / 2) controller.abort(reason);
          },
        }),
      );
      expect(error).toBe(reason);
      expect(fs.readFileSync(output, 'utf8')).toBe('the previous master');
      expect(fs.readFileSync(cdOutput, 'utf8')).toBe('the previous cd master');
      expect(partials()).toEqual([]);
      // One hidden name per file being written, never a temporary file's partial.
      expect(seen.size).toBeGreaterThan(0);
      for (const f of seen) expect(f, f).toMatch(/^\.[^.][^/]*\.partial$/);
      for (const f of seen) expect(f.match(/partial/g)?.length, f).toBe(1);
    });
  }

  it('removes the partial file when the input turns out broken half-way', async () => {
    const cut = path.join(dir, 'cut.wav');
    // A header that declares twice the data the file holds is refused up front; one that grows
    // short while rendering (the file shrinks under the reader) must still clean up.
    fs.copyFileSync(input, cut);
    const output = path.join(dir, 'cut-master.wav');
    const error = await failure({
      ...options(output),
      input: cut,
      onProgress: (label, done, total) => {
        if (label === 'pass 1' && done >= total / 2) fs.truncateSync(cut, 20_000);
      },
    });
    expect(error?.message).toMatch(/cut\.wav: truncated/);
    expect(fs.existsSync(output)).toBe(false);
    expect(partials()).toEqual([]);
  });
});
