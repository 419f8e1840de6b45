/** The real-time engine's worker loop: pacing, parameters through shared memory, meters, recording. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { meterValue } from '../../engine/src/meter-layout.ts';
import { LiveAudio } from '../../engine/src/realtime/live-audio.ts';
import { WavReader, WavWriter, interleave } from '../../engine/src/wav.ts';
import { whiteNoise } from '../helpers/signals.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-engine-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('real-time engine', () => {
  it('plays the demo program in a worker at real-time rate and publishes meters and health', async () => {
    const engine = new LiveAudio({ sampleRate: 48000, block: 512 });
    await engine.start();
    try {
      const first = engine.readMeters();
      await sleep(1500);
      const later = engine.readMeters();
      // Right after start the worker may not have finished its first block (the frame is NaN then).
      const blocks = meterValue(later, 'engine.blocks') - (meterValue(first, 'engine.blocks') || 0);
      // 1.5 s at 93.75 blocks per second; timer granularity and test-machine load allow 20 %.
      expect(blocks).toBeGreaterThan(0.8 * 1.5 * 93.75);
      expect(blocks).toBeLessThan(1.2 * 1.5 * 93.75);
      expect(Number.isFinite(meterValue(later, 'output.momentaryLufs'))).toBe(true);
      expect(meterValue(later, 'engine.dspLoadMean')).toBeLessThan(0.5);
      expect(meterValue(later, 'engine.chainLatencyMs')).toBeCloseTo(
        (engine.latencySamples / 48000) * 1000,
        3,
      );
      expect(meterValue(later, 'engine.deviceState')).toBe(2); // demo
    } finally {
      await engine.stop();
    }
  });

  it('applies a parameter change from the main thread within a few blocks', async () => {
    // Steady noise looping from a file, dynamics out of the way: loudness follows the trim alone.
    const file = path.join(dir, 'noise.wav');
    const writer = new WavWriter(file, { sampleRate: 48000, channels: 2, format: 'float32' });
    writer.write(interleave(whiteNoise(48000 * 2, 0.1, 1), whiteNoise(48000 * 2, 0.1, 2), 2));
    writer.close();
    const engine = new LiveAudio({
      source: { kind: 'file', path: file },
      values: { 'comp.bypass': 1, 'limiter.bypass': 1 },
    });
    await engine.start();
    try {
      await sleep(800);
      const before = meterValue(engine.readMeters(), 'output.momentaryLufs');
      engine.set('input.trim', -12);
      await sleep(800); // one 400 ms momentary window after the 20 ms glide
      const after = meterValue(engine.readMeters(), 'output.momentaryLufs');
      expect(after - before).toBeCloseTo(-12, 0);
    } finally {
      await engine.stop();
    }
  });

  it('starts integrated loudness and the maxima again when the meters are reset', async () => {
    // Loud first, then 20 dB quieter: the integrated value remembers the loud part until the reset.
    const engine = new LiveAudio({ values: { 'comp.bypass': 1, 'limiter.bypass': 1 } });
    await engine.start();
    try {
      await sleep(1500);
      engine.set('input.trim', -20);
      await sleep(1000);
      const before = engine.readMeters().slice();
      engine.resetMeters();
      await sleep(1500);
      const after = engine.readMeters();
      // Quieter by the trim, give or take the program's own movement.
      expect(
        meterValue(before, 'output.integratedLufs') - meterValue(after, 'output.integratedLufs'),
      ).toBeGreaterThan(8);
      expect(
        meterValue(before, 'output.truePeakMaxDbtp') - meterValue(after, 'output.truePeakMaxDbtp'),
      ).toBeGreaterThan(10);
      expect(meterValue(after, 'output.integratedLufs')).toBeCloseTo(
        meterValue(after, 'output.momentaryLufs'),
        -1,
      );
    } finally {
      await engine.stop();
    }
  });

  it('records the master off the audio thread, playable while it is still being written', async () => {
    const file = path.join(dir, 'master.wav');
    const engine = new LiveAudio({ record: { file, format: 'int24' } });
    await engine.start();
    await sleep(1600);
    // A crash now would leave this: the header was refreshed after the first second.
    const partial = WavReader.open(path.join(dir, '.master.wav.partial'));
    expect(partial.info.frames).toBeGreaterThanOrEqual(48000);
    partial.close();
    await engine.stop();
    const done = WavReader.open(file);
    expect(done.info.durationSeconds).toBeGreaterThan(1.4);
    expect(done.info.durationSeconds).toBeLessThan(2.5);
    const { left } = done.read(done.info.frames);
    done.close();
    expect(left.some((v) => Math.abs(v) > 0.01)).toBe(true);
    expect(engine.droppedRecordingFrames).toBe(0);
  });

  it('keeps the audio running and the file written so far when the disk fills up', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const tsx = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;
    const child = path.join(root, 'test/helpers/record-full-child.ts');
    // A file-size limit stands in for a full disk without root or a tiny filesystem: past it,
    // write() fails with EFBIG (SIGXFSZ ignored, so the write fails instead of killing us).
    // 400 KiB of float stereo is about a second at 48 kHz.
    const script = `trap '' XFSZ; ulimit -f 400; exec "$0" --import "$1" "$2" "$3"`;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        'bash',
        ['-c', script, process.execPath, tsx, child, dir],
        { cwd: dir, timeout: 30000 },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      ),
    );
    const result = JSON.parse(stdout.slice(stdout.indexOf('RIG ') + 4)) as {
      error: string | null;
      blocksAtError: number;
      blocksAfter: number;
    };
    expect(result.error).toMatch(/no space left|EFBIG|too large/i);
    // The audio thread never noticed: a second later ~94 more blocks had run.
    expect(result.blocksAfter - result.blocksAtError).toBeGreaterThan(60);
    // What was written is kept under the real name (about a second at 384 kB/s), not deleted,
    // and its header claims no more frames than the file holds: it reads back to the end.
    const size = fs.statSync(path.join(dir, 'full.wav')).size;
    expect(size).toBeGreaterThan(0.5 * 384000);
    expect(size).toBeLessThanOrEqual(400 * 1024);
    const reader = WavReader.open(path.join(dir, 'full.wav'));
    try {
      expect(reader.info.frames).toBeGreaterThan(0.5 * 48000);
      expect(reader.info.frames * 8).toBeLessThanOrEqual(size);
      expect(reader.read(reader.info.frames).left.length).toBe(reader.info.frames);
    } finally {
      reader.close();
    }
  });

  it('names the problem when its file source does not fit', async () => {
    const file = path.join(dir, 'wrong-rate.wav');
    const writer = new WavWriter(file, { sampleRate: 44100, channels: 2, format: 'int16' });
    writer.write(new Float32Array(2 * 4410));
    writer.close();
    const engine = new LiveAudio({ source: { kind: 'file', path: file } });
    await expect(engine.start()).rejects.toThrow(
      /44100 Hz does not match the engine's 48000 Hz \(use --rate 44100\)/,
    );
    await engine.stop();
  });
});

describe('loudness assist on the running engine', () => {
  it('raises the drive of a quiet stream at its rate, within its bounds, and the output follows', async () => {
    const { LoudnessAssist } = await import('../../engine/src/realtime/loudness-assist.ts');
    const file = path.join(dir, 'quiet.wav');
    const writer = new WavWriter(file, { sampleRate: 48000, channels: 2, format: 'float32' });
    writer.write(interleave(whiteNoise(48000 * 3, 0.05, 3), whiteNoise(48000 * 3, 0.05, 4), 2));
    writer.close();
    const engine = new LiveAudio({ source: { kind: 'file', path: file }, values: { 'comp.bypass': 1 } });
    await engine.start();
    const target = {
      readMeters: (f?: Float32Array) => engine.readMeters(f),
      get: (id: string) => engine.get(id),
      apply: (id: string, v: number) => void engine.set(id, v),
    };
    // Far below a -10 LUFS target: the drive climbs at the set 2 dB/s until the 4 dB bound.
    const assist = new LoudnessAssist(target, {
      targetLufs: -10,
      minGainDb: 0,
      maxGainDb: 4,
      rateDbPerSecond: 2,
    });
    try {
      await sleep(3200); // the short-term window fills first
      const before = meterValue(engine.readMeters(), 'output.shortTermLufs');
      assist.start(50);
      await sleep(1000);
      const climbing = engine.get('limiter.gain');
      expect(climbing).toBeGreaterThan(1.4); // 2 dB/s for a second, give or take timer slack
      expect(climbing).toBeLessThan(2.6);
      await sleep(2500);
      expect(engine.get('limiter.gain')).toBe(4);
      await sleep(3000); // the 3 s window catches up with the new drive
      expect(meterValue(engine.readMeters(), 'output.shortTermLufs') - before).toBeCloseTo(4, 0);
    } finally {
      assist.stop();
      await engine.stop();
    }
  });
});

describe('rig start without any sound system', () => {
  it('plays the demo through the chain to nowhere and shows meters and health', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const tsx = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;
    // No PulseAudio to reach (and this machine has no card): the embedded default must still run.
    const env = {
      ...process.env,
      PULSE_SERVER: `unix:${path.join(dir, 'no-pulse-here')}`,
      PULSE_RUNTIME_PATH: path.join(dir, 'no-runtime'),
    };
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', tsx, path.join(root, 'bin/rig.ts'), 'start', '--duration', '2', '--port', '0'],
        { cwd: dir, env, timeout: 30000 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
      ),
    );
    expect(stdout).toMatch(
      /^rig: the built-in demo program (\(no output: the device did not open\) )?through the chain in real time/m,
    );
    expect(stdout).toMatch(/latency: \d+\.\d ms = chain \d+\.\d ms \+ block 10\.7 ms/);
    // A meter line with a measured output loudness, then the health summary.
    expect(stdout).toMatch(/M in +-\d+\.\d +out +-\d+\.\d LUFS/);
    expect(stdout).toMatch(/^health: DSP load mean \d+\.\d %, max \d+\.\d %/m);
    expect(`${stdout}${stderr}`).not.toMatch(/ALSA lib|PortAudio V|jack server/);
  });
});
