/**
 * End to end through a real, clocked audio path: PulseAudio null sinks reached through ALSA's
 * pulse plugin by PortAudio. A known program is played into the rig's input, the rig's output
 * is recorded, and the recording must be the processed program: louder by the drive, under the
 * ceiling, and carrying an EQ change made while it streamed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoProgram } from '../../engine/src/demo-program.ts';
import { measureLoudness } from '../../engine/src/loudness.ts';
import { RealtimeEngine } from '../../engine/src/realtime/engine.ts';
import { WavWriter, interleave } from '../../engine/src/wav.ts';
import { truePeakDbtp } from '../helpers/reference-true-peak.ts';
import { toneAmplitude } from '../helpers/signals.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-pulse-'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(() => {
  process.env.PULSE_RUNTIME_PATH = path.join(dir, 'runtime');
  process.env.PULSE_SOURCE = 'rig_in.monitor';
  process.env.PULSE_SINK = 'rig_out';
  execFileSync('bash', [path.join(ROOT, 'test/setup/pulse.sh')], { env: process.env, stdio: 'inherit' });
});
afterAll(() => {
  try {
    execFileSync('pulseaudio', ['--kill'], { env: process.env, stdio: 'ignore' });
  } catch {
    // already gone
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function readRaw(file: string): { left: Float32Array; right: Float32Array } {
  const bytes = fs.readFileSync(file);
  const frames = Math.floor(bytes.length / 8);
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = bytes.readFloatLE(i * 8);
    right[i] = bytes.readFloatLE(i * 8 + 4);
  }
  return { left, right };
}

describe('real audio path (PulseAudio through PortAudio)', () => {
  it('streams a program through the chain: louder by the drive, under the ceiling, EQ change audible', async () => {
    const sampleRate = 48000;
    const program = DemoProgram.render(sampleRate, 9);
    const programFile = path.join(dir, 'program.wav');
    const writer = new WavWriter(programFile, { sampleRate, channels: 2, format: 'float32' });
    writer.write(interleave(program.left, program.right, 2));
    writer.close();

    const engine = new RealtimeEngine({ sampleRate, block: 512, source: { kind: 'device', input: 'pulse', output: 'pulse' }, values: { 'limiter.gain': 8, 'limiter.ceiling': -1 } });
    await engine.start();
    const recording = path.join(dir, 'out.raw');
    let recorder: ChildProcess | undefined;
    try {
      recorder = spawn('parec', ['-d', 'rig_out.monitor', '--format=float32le', '--rate=48000', '--channels=2', recording], { env: process.env, stdio: 'ignore' });
      await sleep(2000); // PortAudio's pulse streams take a moment to start moving
      const player = spawn('paplay', ['-d', 'rig_in', programFile], { env: process.env, stdio: 'ignore' });
      await sleep(4500);
      // Mid-stream: a big bell at 4 kHz, as a hand on the EQ would.
      engine.set('eq.bell2.freq', 4000);
      engine.set('eq.bell2.q', 1);
      engine.set('eq.bell2.gain', 12);
      await new Promise((resolve) => player.once('exit', resolve));
      await sleep(1000);
    } finally {
      recorder?.kill('SIGTERM');
      await engine.stop();
    }

    const { left, right } = readRaw(recording);
    // The program's span in the recording: from the first to the last sample above -40 dBFS.
    let first = 0;
    while (first < left.length && Math.abs(left[first]) < 0.01) first++;
    let last = left.length - 1;
    while (last > first && Math.abs(left[last]) < 0.01) last--;
    expect(last - first).toBeGreaterThan(sampleRate * 7); // most of the 9 s program came through

    const out = { left: left.subarray(first, last), right: right.subarray(first, last) };
    const input = measureLoudness(program.left, program.right, sampleRate).integratedLufs!;
    const output = measureLoudness(out.left, out.right, sampleRate).integratedLufs!;
    // +8 dB of drive into the limiter: well above +4 LU even after its gain reduction.
    expect(output - input).toBeGreaterThan(4);
    // The float path through PulseAudio adds nothing: the ceiling holds within 0.05 dB.
    expect(Math.max(truePeakDbtp(out.left, sampleRate), truePeakDbtp(out.right, sampleRate))).toBeLessThanOrEqual(-1 + 0.05);

    // 4 kHz content before and after the bell, relative to 500 Hz so the limiter's gain cancels out.
    const ratioDb = (start: number) => {
      const n = sampleRate;
      return 20 * Math.log10(toneAmplitude(out.left, sampleRate, 4000, start, start + n) / toneAmplitude(out.left, sampleRate, 500, start, start + n));
    };
    const before = ratioDb(sampleRate * 1);
    const after = ratioDb(out.left.length - sampleRate * 2);
    expect(after - before).toBeGreaterThan(6);
    expect(engine.deviceErrors).toEqual([]);
  });
});

describe('device loss (PulseAudio killed and restarted under the running rig)', () => {
  it('reports the loss, keeps running, reopens the device by itself and still stops', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/helpers/device-loss-child.ts')], { cwd: ROOT, env: process.env, stdio: ['pipe', 'pipe', 'ignore'] });
    const lines: Array<Record<string, unknown>> = [];
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        if (line.startsWith('RIG ')) lines.push(JSON.parse(line.slice(4)));
      }
    });
    const ask = async (command: string) => {
      const count = lines.length;
      child.stdin!.write(`${command}\n`);
      for (let waited = 0; lines.length === count && waited < 10000; waited += 50) await sleep(50);
      return lines[lines.length - 1];
    };
    try {
      for (let waited = 0; lines.length === 0 && waited < 15000; waited += 100) await sleep(100);
      await sleep(2500);
      const running = await ask('probe');
      expect(running.state).toBe(1);

      execFileSync('pulseaudio', ['--kill'], { env: process.env });
      await sleep(1500);
      const lost = await ask('probe');
      expect(lost.state).toBe(3);
      expect(JSON.stringify(lost.errors)).toMatch(/device lost, reopening/);

      execFileSync('bash', [path.join(ROOT, 'test/setup/pulse.sh')], { env: process.env });
      await sleep(5000);
      const back = await ask('probe');
      expect(back.state).toBe(1);
      expect(back.blocks as number).toBeGreaterThan(running.blocks as number);

      const stopped = await ask('stop');
      expect(stopped.stoppedMs as number).toBeLessThan(5000);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('input channel selection and raw-input recording', () => {
  it('feeds the bus from the chosen interface inputs and records what came in', async () => {
    const { sine } = await import('../helpers/signals.ts');
    const { WavReader } = await import('../../engine/src/wav.ts');
    const sampleRate = 48000;
    // 440 Hz on input 1, 1 kHz on input 2; the bus takes them the other way round.
    const tones = path.join(dir, 'tones.wav');
    const writer = new WavWriter(tones, { sampleRate, channels: 2, format: 'float32' });
    writer.write(interleave(sine(sampleRate * 4, sampleRate, 440, 0.25), sine(sampleRate * 4, sampleRate, 1000, 0.25), 2));
    writer.close();
    const master = path.join(dir, 'swapped.wav');
    const raw = path.join(dir, 'raw.wav');
    const engine = new RealtimeEngine({ sampleRate, source: { kind: 'device', input: 'pulse', output: 'pulse' }, channels: [2, 1], record: { file: master, input: raw } });
    await engine.start();
    try {
      await sleep(1500);
      const player = spawn('paplay', ['-d', 'rig_in', tones], { env: process.env, stdio: 'ignore' });
      await new Promise((resolve) => player.once('exit', resolve));
      await sleep(500);
    } finally {
      await engine.stop();
    }
    for (const file of [raw, master]) {
      const reader = WavReader.open(file);
      const { left, right } = reader.read(reader.info.frames);
      reader.close();
      // Judge the loudest second: that is where the tones played.
      let best = 0;
      let bestStart = 0;
      for (let start = 0; start + sampleRate <= left.length; start += sampleRate / 4) {
        let energy = 0;
        for (let i = start; i < start + sampleRate; i += 16) energy += left[i] * left[i];
        if (energy > best) [best, bestStart] = [energy, start];
      }
      const at = (x: Float32Array, f: number) => toneAmplitude(x, sampleRate, f, bestStart, bestStart + sampleRate);
      expect(at(left, 1000), `${path.basename(file)} left`).toBeGreaterThan(10 * at(left, 440));
      expect(at(right, 440), `${path.basename(file)} right`).toBeGreaterThan(10 * at(right, 1000));
    }
  });
});
