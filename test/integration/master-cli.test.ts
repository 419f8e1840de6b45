/** `rig master` and `rig analyze` as a user runs them: real processes, real files. */
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoProgram } from '../../engine/src/demo-program.ts';
import { measureLoudness } from '../../engine/src/loudness.ts';
import { WavReader, WavWriter, interleave } from '../../engine/src/wav.ts';
import { truePeakDbtp } from '../helpers/reference-true-peak.ts';
import { sine } from '../helpers/signals.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-master-'));
const input = path.join(dir, 'song.wav');

async function rig(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'bin/rig.ts'), ...args],
      // Bounded: a rig that hangs (a FIFO opened for reading) fails the test instead of the suite.
      { cwd: ROOT, maxBuffer: 1 << 24, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function readAll(file: string) {
  const reader = WavReader.open(file);
  const { left, right } = reader.read(reader.info.frames);
  reader.close();
  return { info: reader.info, left, right };
}

function writeWav(
  file: string,
  left: Float32Array,
  right: Float32Array | undefined,
  sampleRate = 48000,
  format: 'int24' | 'float32' = 'int24',
) {
  const writer = new WavWriter(file, { sampleRate, channels: right ? 2 : 1, format });
  writer.write(right ? interleave(left, right, 2) : left);
  writer.close();
}

/** Four seconds of a 997 Hz sine (the loudness meters' reference tone) at `dbfs` peak. */
const toneAt = (dbfs: number) => sine(4 * 48000, 48000, 997, 10 ** (dbfs / 20));

beforeAll(() => {
  const { left, right } = DemoProgram.render(48000, 20);
  writeWav(input, left, right);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('rig master', () => {
  it('hits the loudness target within 0.3 LU under the true-peak ceiling, aligned and as long as the input', async () => {
    const out = path.join(dir, 'master.wav');
    const result = await rig(
      'master',
      input,
      '-o',
      out,
      '--target',
      '-11',
      '--ceiling',
      '-1',
      '--set',
      'comp.ratio=3',
      '--json',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.output.report.integratedLufs).toBeCloseTo(-11, 0);
    const master = readAll(out);
    const source = readAll(input);
    expect(master.info.frames).toBe(source.info.frames);
    const measured = measureLoudness(master.left, master.right, 48000);
    expect(Math.abs(measured.integratedLufs! + 11)).toBeLessThanOrEqual(0.3);
    // Independent 16x meter; 24-bit quantisation and dither add at most ~1e-6 of full scale.
    expect(truePeakDbtp(master.left, 48000)).toBeLessThanOrEqual(-1 + 0.001);
    expect(truePeakDbtp(master.right, 48000)).toBeLessThanOrEqual(-1 + 0.001);
    // Latency compensated: the master correlates best with the input at zero lag.
    const lagScore = (lag: number) => {
      let s = 0;
      for (let i = 48000; i < 96000; i++) s += master.left[i] * source.left[i + lag];
      return s;
    };
    for (const lag of [-64, -8, -1, 1, 8, 64]) expect(lagScore(0)).toBeGreaterThan(lagScore(lag));
  });

  it('prints a loudness report of input and output', async () => {
    const result = await rig('master', input, '-o', path.join(dir, 'spotify.wav'), '--preset', 'spotify');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Integrated\s+-\d+\.\d\s+-14\.\d\s+LUFS/);
    expect(result.stdout).toMatch(/True peak/);
    expect(result.stdout).toMatch(/PLR/);
    expect(result.stdout).toMatch(/Loudness range/);
  });

  it('renders one file per target with a level-matched comparison', async () => {
    const out = path.join(dir, 'multi.wav');
    const result = await rig('master', input, '-o', out, '--targets', '-16,-10');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/level-matched at -16\.\d LUFS/);
    for (const target of [-16, -10]) {
      const file = path.join(dir, `multi.${target}LUFS.wav`);
      const { left, right } = readAll(file);
      expect(Math.abs(measureLoudness(left, right, 48000).integratedLufs! - target)).toBeLessThanOrEqual(0.3);
    }
  });

  it('also writes a dithered 16-bit 44.1 kHz CD master under the ceiling', async () => {
    const out = path.join(dir, 'album.wav');
    const result = await rig('master', input, '-o', out, '--target', '-12', '--ceiling', '-0.5', '--cd');
    expect(result.code).toBe(0);
    const cd = readAll(path.join(dir, 'album.cd.wav'));
    expect(cd.info).toMatchObject({ sampleRate: 44100, format: 'int16', channels: 2 });
    expect(Math.abs(cd.info.frames - Math.round(20 * 44100))).toBeLessThanOrEqual(1);
    expect(truePeakDbtp(cd.left, 44100)).toBeLessThanOrEqual(-0.5 + 0.01);
    expect(Math.abs(measureLoudness(cd.left, cd.right, 44100).integratedLufs! + 12)).toBeLessThanOrEqual(0.3);
  });

  it('masters mono input as dual mono', async () => {
    const mono = path.join(dir, 'mono.wav');
    const { left } = DemoProgram.render(44100, 8);
    writeWav(mono, left, undefined, 44100, 'float32');
    const result = await rig(
      'master',
      mono,
      '-o',
      path.join(dir, 'mono-master.wav'),
      '--target',
      '-14',
      '--bits',
      '16',
    );
    expect(result.code).toBe(0);
    const master = readAll(path.join(dir, 'mono-master.wav'));
    expect(master.info).toMatchObject({ channels: 2, format: 'int16', sampleRate: 44100 });
    let diff = 0;
    for (let i = 0; i < master.left.length; i++)
      diff = Math.max(diff, Math.abs(master.left[i] - master.right[i]));
    expect(diff).toBeLessThan(3 / 32768); // identical but for independent dither per channel
  });

  it('says the drive range ended when a quiet sine cannot reach the target', async () => {
    const quiet = path.join(dir, 'quiet.wav');
    writeWav(quiet, toneAt(-60), toneAt(-60), 48000, 'float32');
    const out = path.join(dir, 'quiet-master.wav');
    // A stereo 997 Hz sine at -60 dBFS reads -60 LUFS; +24 dB, the end of the drive range, leaves it at -36.
    const text = await rig('master', quiet, '-o', out, '--target', '-14');
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(
      /warning: target -14 LUFS not reached: the drive range ends at \+24\.0 dB \(-36\.0 LUFS, limiter reducing 0\.0 dB on the loudest passages\), 22\.0 LU short; raise input\.trim/,
    );
    expect(text.stderr).not.toMatch(/stopped rising/);
    const json = JSON.parse((await rig('master', quiet, '-o', out, '--target', '-14', '--json')).stdout);
    expect(json.output).toMatchObject({
      stoppedBecause: 'range-ended',
      limiterGainDb: 24,
      limiterReduction: { loudestDb: 0, maxDb: 0 },
    });
    expect(json.output.warning).toMatch(/drive range ends/);
  });

  it('at the end of the drive range under hard limiting, suggests other ways to loudness than more input', async () => {
    // The demo program at the top of the drive range is still well short of -4 LUFS, and squashed.
    const result = await rig(
      'master',
      input,
      '-o',
      path.join(dir, 'squashed.wav'),
      '--target',
      '-4',
      '--json',
    );
    const { output } = JSON.parse(result.stdout);
    expect(output).toMatchObject({ stoppedBecause: 'range-ended', limiterGainDb: 24 });
    expect(output.limiterReduction.loudestDb).toBeGreaterThanOrEqual(6);
    expect(output.warning).toMatch(
      /^target -4 LUFS not reached: the drive range ends at \+24\.0 dB \(-\d+\.\d LUFS, limiter reducing \d+\.\d dB on the loudest passages\), \d+\.\d LU short; the limiter already works hard: try limiter\.style=loud, the clipper \(clipper\.bypass=0\), or less compression rather than more input\.trim$/,
    );
  });

  it('says loudness stopped rising when the limiter already holds a sine at the ceiling, with its reduction', async () => {
    const steady = path.join(dir, 'steady.wav');
    writeWav(steady, toneAt(-20), toneAt(-20), 48000, 'float32');
    const out = path.join(dir, 'steady-master.wav');
    // On a steady sine the limiter settles to one gain: the output is a sine at the -3 dBTP
    // ceiling (about -3 LUFS) whatever the drive, so -1 LUFS is out of reach well inside the range.
    const text = await rig('master', steady, '-o', out, '--target', '-1', '--ceiling', '-3');
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(
      /warning: target -1 LUFS not reached: loudness stopped rising at drive \+\d+\.\d dB \(-3\.\d LUFS, limiter reducing \d+\.\d dB on the loudest passages\); try limiter\.style=loud, the clipper \(clipper\.bypass=0\), or less compression/,
    );
    expect(text.stderr).not.toMatch(/drive range ends/);
    const { output } = JSON.parse(
      (await rig('master', steady, '-o', out, '--target', '-1', '--ceiling', '-3', '--json')).stdout,
    );
    expect(output.stoppedBecause).toBe('stopped-rising');
    expect(output.limiterGainDb).toBeLessThan(24);
    // The limiter takes off what the drive put over the output's peak (the -20 dBFS sine plus the
    // drive, less the peak that came out); 0.05 dB covers the 24-bit rounding and the one-decimal
    // report's reading of a settled gain.
    const overDb = -20 + output.limiterGainDb - output.report.samplePeakDbfs;
    expect(Math.abs(output.limiterReduction.loudestDb - overDb)).toBeLessThan(0.05);
    expect(output.limiterReduction.maxDb).toBeGreaterThanOrEqual(output.limiterReduction.loudestDb);
    // Suggestions already in effect are not repeated.
    const loud = JSON.parse(
      (
        await rig(
          'master',
          steady,
          '-o',
          out,
          '--target',
          '-1',
          '--ceiling',
          '-3',
          '--set',
          'limiter.style=loud',
          '--set',
          'clipper.bypass=0',
          '--json',
        )
      ).stdout,
    );
    expect(loud.output.stoppedBecause).toBe('stopped-rising');
    expect(loud.output.warning).toMatch(/; try less compression$/);
  });

  it('names the problem with bad input and leaves no output file behind', async () => {
    const out = path.join(dir, 'never.wav');
    const truncated = path.join(dir, 'cut.wav');
    fs.writeFileSync(truncated, fs.readFileSync(input).subarray(0, 5000));
    const cases: Array<[string[], RegExp]> = [
      [[truncated], /cut\.wav: truncated/],
      [[path.join(dir, 'nothing-here.wav')], /cannot open: ENOENT/],
      [[input, '--set', 'comp.ration=2'], /unknown parameter "comp.ration" \(did you mean "comp.ratio"\?\)/],
      [[input, '--set', 'limiter.ceiling=3'], /"limiter.ceiling": 3 is out of range -3..0 dBTP/],
      [[input, '--preset', 'radio'], /unknown preset "radio"/],
      [[input, '--bits', '12'], /unknown sample format "12"/],
    ];
    for (const [args, message] of cases) {
      const result = await rig('master', ...args, '-o', out);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(fs.existsSync(out)).toBe(false);
    }
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });
});

describe('rig master refuses what it must not read or write', () => {
  /** The CLI's error: one line naming the problem, never a stack trace. */
  const oneLine = (stderr: string) => {
    expect(stderr.trim().split('\n'), stderr).toHaveLength(1);
    expect(stderr).not.toMatch(/\n\s+at /);
  };
  const partials = () => fs.readdirSync(dir).filter((f) => f.includes('.partial'));

  it('refuses to write the master over its own input, by path or through a link', async () => {
    const own = path.join(dir, 'own.wav');
    fs.copyFileSync(input, own);
    const before = fs.readFileSync(own);
    const link = path.join(dir, 'own-link.wav');
    fs.symlinkSync(own, link);
    for (const output of [own, link]) {
      const result = await rig('master', own, '-o', output);
      expect(result.code, output).toBe(1);
      expect(result.stderr, output).toContain(`${output}: is the input ${own}`);
      oneLine(result.stderr);
    }
    expect(fs.readFileSync(own).equals(before)).toBe(true);
    expect(partials()).toEqual([]);
  });

  it('does not replace a device node or a folder with a regular file', async () => {
    const device = path.join(dir, 'null');
    execFileSync('mknod', [device, 'c', '1', '3']);
    const device_ = await rig('master', input, '-o', device);
    expect(device_.code).toBe(1);
    expect(device_.stderr).toMatch(/null: is a device; only regular files are written or replaced/);
    oneLine(device_.stderr);
    expect(fs.statSync(device).isCharacterDevice()).toBe(true);
    const folder = path.join(dir, 'a-folder');
    fs.mkdirSync(folder);
    const folder_ = await rig('master', input, '-o', folder);
    expect(folder_.code).toBe(1);
    expect(folder_.stderr).toMatch(/a-folder: is a folder; only regular files are written or replaced/);
    oneLine(folder_.stderr);
    expect(partials()).toEqual([]);
  });

  it('refuses an input with no audio frames and writes nothing', async () => {
    const empty = path.join(dir, 'IN.wav');
    writeWav(empty, new Float32Array(0), new Float32Array(0));
    const out = path.join(dir, 'empty-master.wav');
    const result = await rig('master', empty, '-o', out);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/IN\.wav has no audio frames/);
    oneLine(result.stderr);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('names a folder or a FIFO given as input instead of failing bare or hanging', async () => {
    const folder = path.join(dir, 'takes.wav');
    fs.mkdirSync(folder);
    const asFolder = await rig('master', folder, '-o', path.join(dir, 'never.wav'));
    expect(asFolder.stderr).toMatch(/takes\.wav: is a folder, not a WAV file/);
    expect(asFolder.stderr).not.toMatch(/EISDIR/);
    oneLine(asFolder.stderr);
    const fifo = path.join(dir, 'f.wav');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const asFifo = await rig('analyze', fifo);
    expect(asFifo.code).toBe(1);
    expect(asFifo.stderr).toMatch(/f\.wav: is a FIFO \(named pipe\), not a WAV file/);
    oneLine(asFifo.stderr);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('brings a +30 dBFS float input down to the target', async () => {
    const hot = path.join(dir, 'hot.wav');
    const { left, right } = readAll(input);
    let peak = 0;
    for (let i = 0; i < left.length; i++) peak = Math.max(peak, Math.abs(left[i]), Math.abs(right[i]));
    // 31x full scale: just under the chain's input clamp (+30 dBFS, kInputClamp in chain.cpp).
    const k = 31 / peak;
    writeWav(
      hot,
      left.map((v) => v * k),
      right.map((v) => v * k),
      48000,
      'float32',
    );
    const out = path.join(dir, 'hot-master.wav');
    const result = await rig('master', hot, '-o', out, '--target', '-14', '--json');
    expect(result.code).toBe(0);
    const { output } = JSON.parse(result.stdout);
    expect(output.warning).toBeUndefined();
    expect(output.stoppedBecause).toBe('on-target');
    const master = readAll(out);
    expect(
      Math.abs(measureLoudness(master.left, master.right, 48000).integratedLufs! + 14),
    ).toBeLessThanOrEqual(0.3);
  });
});

describe('rig master stopped by a signal', () => {
  const long = path.join(dir, 'long.wav');
  beforeAll(() => {
    // 80 s of the demo program: long enough that a signal lands while a pass renders.
    const { left, right } = readAll(input);
    const tile = (x: Float32Array) => {
      const out = new Float32Array(x.length * 4);
      for (let i = 0; i < 4; i++) out.set(x, i * x.length);
      return out;
    };
    writeWav(long, tile(left), tile(right));
  });

  /**
   * Starts a master, sends `signal` as soon as `partial` appears (a pass is rendering), and
   * resolves with how the process ended and how long it took after the signal.
   */
  async function interrupt(
    launcher: 'node' | 'tsx',
    signal: NodeJS.Signals,
    args: string[],
    partial: string,
  ): Promise<{ code: number | null; stderr: string; afterSignalMs: number }> {
    const command =
      launcher === 'node'
        ? [process.execPath, '--import', 'tsx', path.join(ROOT, 'bin/rig.ts')]
        : [path.join(ROOT, 'node_modules/.bin/tsx'), path.join(ROOT, 'bin/rig.ts')];
    const child = spawn(command[0], [...command.slice(1), ...args], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!fs.existsSync(partial) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(fs.existsSync(partial), `${partial} never appeared: ${stderr}`).toBe(true);
    const sent = Date.now();
    child.kill(signal);
    const code = await exited;
    return { code, stderr, afterSignalMs: Date.now() - sent };
  }

  for (const [launcher, signal, code] of [
    ['node', 'SIGTERM', 143],
    ['tsx', 'SIGINT', 130],
  ] as const) {
    it(`stops promptly on ${signal} (${launcher}), keeps the old output and removes the partial`, async () => {
      const out = path.join(dir, `stopped-${signal}.wav`);
      fs.writeFileSync(out, 'the previous master');
      const partial = path.join(dir, `.stopped-${signal}.wav.partial`);
      const result = await interrupt(launcher, signal, ['master', long, '-o', out], partial);
      expect(result.code, result.stderr).toBe(code);
      // Between blocks: a block is a few ms; 2 s allows a loaded machine's scheduling.
      expect(result.afterSignalMs).toBeLessThan(2000);
      expect(result.stderr).toMatch(new RegExp(`stopped by ${signal}`));
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(fs.readFileSync(out, 'utf8')).toBe('the previous master');
      expect(fs.readdirSync(dir).filter((f) => f.includes('.partial'))).toEqual([]);
    });
  }

  it('during the CD render, keeps the master and the CD master as they were, the temporary file gone', async () => {
    const out = path.join(dir, 'stopped-cd.wav');
    fs.writeFileSync(out, 'the previous master');
    const partial = path.join(dir, '.stopped-cd.cd.wav.float.partial');
    const result = await interrupt('node', 'SIGTERM', ['master', long, '-o', out, '--cd'], partial);
    expect(result.code, result.stderr).toBe(143);
    // The two go out together: the finished master waits for its CD master.
    expect(fs.readFileSync(out, 'utf8')).toBe('the previous master');
    expect(fs.existsSync(path.join(dir, 'stopped-cd.cd.wav'))).toBe(false);
    expect(result.stderr).toContain(
      `stopped by SIGTERM: ${out}, ${path.join(dir, 'stopped-cd.cd.wav')} left as they were`,
    );
    expect(fs.readdirSync(dir).filter((f) => f.includes('.partial'))).toEqual([]);
  });
});

describe('rig analyze', () => {
  it('prints the loudness keys as JSON, null where undefined', async () => {
    const result = await rig('analyze', input, '--json');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    for (const key of [
      'integratedLufs',
      'momentaryMaxLufs',
      'shortTermMaxLufs',
      'lra',
      'truePeakDbtp',
      'samplePeakDbfs',
    ]) {
      expect(typeof report[key], key).toBe('number');
    }
    const silent = path.join(dir, 'silence.wav');
    writeWav(silent, new Float32Array(48000 * 2), new Float32Array(48000 * 2));
    const quiet = JSON.parse((await rig('analyze', silent, '--json')).stdout);
    expect(quiet.integratedLufs).toBeNull();
  });

  it('refuses a file with more than two channels', async () => {
    const surround = path.join(dir, 'surround.wav');
    const h = Buffer.alloc(44);
    h.write('RIFF', 0, 'latin1');
    h.writeUInt32LE(36 + 1200, 4);
    h.write('WAVEfmt ', 8, 'latin1');
    h.writeUInt32LE(16, 16);
    h.writeUInt16LE(1, 20);
    h.writeUInt16LE(6, 22);
    h.writeUInt32LE(48000, 24);
    h.writeUInt32LE(48000 * 12, 28);
    h.writeUInt16LE(12, 32);
    h.writeUInt16LE(16, 34);
    h.write('data', 36, 'latin1');
    h.writeUInt32LE(1200, 40);
    fs.writeFileSync(surround, Buffer.concat([h, Buffer.alloc(1200)]));
    const result = await rig('analyze', surround);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/surround\.wav: has 6 channels/);
  });
});
