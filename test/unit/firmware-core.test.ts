/**
 * The reference firmware's C++ core, compiled for the host: its own checks, and the two halves of
 * the protocol held against each other (the core's lines read by protocol.ts, host lines
 * classified the same way by both, and the real adapter talking to the real core).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Duplex, type Readable, type Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlEvent } from '../../controller/src/events.ts';
import { KnobBoxSurface } from '../../controller/src/serial/knob-box-surface.ts';
import {
  LineAssembler,
  crc8,
  encodeDeviceMessage,
  encodeHostMessage,
  parseDeviceLine,
  parseHostLine,
} from '../../controller/src/serial/protocol.ts';

const firmwareDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../firmware-notes/firmware',
);
const coreSources = fs
  .readdirSync(path.join(firmwareDir, 'core'))
  .filter((name) => name.endsWith('.cpp'))
  .map((name) => path.join(firmwareDir, 'core', name));

let buildDir: string;
const children: ChildProcess[] = [];

function compile(main: string, output: string): string {
  const binary = path.join(buildDir, output);
  execFileSync(
    'g++',
    [
      '-std=c++17',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-O1',
      '-o',
      binary,
      path.join(firmwareDir, 'test', main),
      ...coreSources,
    ],
    { stdio: 'pipe' },
  );
  return binary;
}

beforeAll(() => {
  buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firmware-core-'));
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(buildDir, { recursive: true, force: true });
});

describe('firmware core on the host', () => {
  let coreTest: string;
  let output: string;

  beforeAll(() => {
    coreTest = compile('core_test.cpp', 'core_test');
    const run = spawnSync(coreTest, [], { encoding: 'utf8' });
    output = run.stdout;
    expect(run.status, `core_test failed:\n${run.stdout}${run.stderr}`).toBe(0);
  });

  it('compiles warning-free and passes every one of its checks', () => {
    const lines = output.split('\n');
    const failed = lines.filter((line) => line.startsWith('FAIL'));
    const passed = lines.filter((line) => line.startsWith('ok - '));
    const summary = /^checks: (\d+) passed, (\d+) failed$/m.exec(output);
    expect(failed).toEqual([]);
    expect(summary).not.toBeNull();
    expect(Number(summary![1])).toBe(passed.length);
    expect(Number(summary![2])).toBe(0);
    // The suite has 85 checks; fewer means some were lost.
    expect(passed.length).toBeGreaterThanOrEqual(85);
  });

  it('writes device lines that protocol.ts reads and would write byte for byte the same', () => {
    const wire = output
      .split('\n')
      .filter((line) => line.startsWith('wire: '))
      .map((line) => line.slice('wire: '.length));
    expect(wire.length).toBeGreaterThan(15);
    const kinds = new Set<string>();
    for (const line of wire) {
      const parsed = parseDeviceLine(line);
      if (!parsed.ok) expect.fail(`protocol.ts refused the core's line "${line}": ${parsed.reason}`);
      kinds.add(parsed.message.type);
      expect(encodeDeviceMessage(parsed.message)).toBe(`${line}\n`);
    }
    expect([...kinds].sort()).toEqual(['button', 'encoder', 'error', 'hello', 'knob', 'pong']);
  });

  it('classifies every host line, good or bad, the way protocol.ts does', () => {
    const framed = (payload: string) =>
      `${payload}*${crc8(payload).toString(16).toUpperCase().padStart(2, '0')}\n`;
    const hostLines = [
      encodeHostMessage({ type: 'hello?', majors: [1] }),
      encodeHostMessage({ type: 'hello?', majors: [2, 1, 7] }),
      encodeHostMessage({ type: 'ring', index: 9, value: 1023 }),
      encodeHostMessage({ type: 'led', index: 3, on: true }),
      encodeHostMessage({ type: 'motor', index: 0, value: 17 }),
      encodeHostMessage({ type: 'ping?', token: 65535 }),
      'R 3 512*7A\n',
      'HELLO? 1*be\n',
      'R 3 512\n',
      'garbage\r\n',
      '\x00\xff\x80\n',
      framed('R 3\x01 5'),
      framed('R  3 5'),
      framed('R 3'),
      framed('R x 5'),
      framed('R 3 123456'),
      framed('R 3 5 extra'),
      framed('HELLO?'),
      framed('HELLO? 0'),
      framed('X 1 2'),
      framed('K 1 2'),
      framed('R 3 1024'),
      framed('R 64 0'),
      framed('L 0 2'),
      framed('PING? 65536'),
      'x'.repeat(81) + '\n',
      'y'.repeat(5000) + '\n',
      '\n\r\n',
      encodeHostMessage({ type: 'ring', index: 0, value: 0 }),
    ];
    const bytes = Buffer.from(hostLines.join(''), 'latin1');

    const expected: string[] = [];
    new LineAssembler().push(bytes, {
      overlong: () => expected.push('fault overlong'),
      line: (text) => {
        const parsed = parseHostLine(text);
        if (!parsed.ok) return void expected.push(`fault ${parsed.fault}`);
        const message = parsed.message;
        switch (message.type) {
          case 'hello?':
            return void expected.push(
              `ok HELLO? ${message.majors.filter((major) => major < 32).reduce((mask, major) => mask | (1 << major), 0)}`,
            );
          case 'ring':
            return void expected.push(`ok R ${message.index} ${message.value}`);
          case 'led':
            return void expected.push(`ok L ${message.index} ${message.on ? 1 : 0}`);
          case 'motor':
            return void expected.push(`ok M ${message.index} ${message.value}`);
          case 'ping?':
            return void expected.push(`ok PING? ${message.token}`);
        }
      },
    });
    const run = spawnSync(coreTest, ['--classify'], { input: bytes });
    const actual = run.stdout.toString('latin1').trim().split('\n');
    expect(actual).toEqual(expected);
    expect(new Set(expected.map((line) => line.split(' ')[1]))).toEqual(
      new Set([
        'HELLO?',
        'R',
        'L',
        'M',
        'PING?',
        'checksum',
        'frame',
        'syntax',
        'unknown',
        'range',
        'overlong',
      ]),
    );
  });
});

describe('the real adapter and the real firmware core', () => {
  let device: ChildProcess;
  let surface: KnobBoxSurface;
  const events: ControlEvent[] = [];
  const shown: string[] = [];

  async function until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!condition()) {
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${what}; events ${JSON.stringify(events)}; shown ${JSON.stringify(shown.at(-1))}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  const hand = (command: string) => (device.stdio[3] as Writable).write(`${command}\n`);

  beforeAll(async () => {
    const binary = compile('stdio_device.cpp', 'stdio_device');
    device = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    children.push(device);
    let stderr = '';
    device.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const lines = stderr.split('\n');
      stderr = lines.pop()!;
      shown.push(...lines);
    });
    const line = Duplex.from({ readable: device.stdout as Readable, writable: device.stdin as Writable });
    surface = await KnobBoxSurface.connect(line, 'firmware-core', { heartbeatMs: 100 });
    surface.onEvent((event) => events.push(event));
  });

  afterAll(async () => {
    await surface?.close();
  });

  it('handshakes and hears where every knob stands', async () => {
    expect(surface.identity).toMatchObject({
      kind: 'rig-knob-box',
      firmwareVersion: '1.0.0-host',
      serialNumber: 'HOST-0001',
      knobs: 8,
      buttons: 4,
      encoders: 2,
      motors: 0,
    });
    await until(() => events.length === 8, 'the knob report');
    expect(events.map((event) => event.kind === 'knob' && event.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('reports a turned pot, a turned encoder and a pressed button', async () => {
    events.length = 0;
    hand('knob 2 1023');
    await until(
      () => events.some((event) => event.kind === 'knob' && event.value === 1023),
      'knob 2 at the top',
    );
    expect(events.every((event) => event.kind === 'knob' && event.index === 2)).toBe(true);
    events.length = 0;
    hand('encoder 1 -3');
    await until(
      () => events.reduce((sum, event) => sum + (event.kind === 'encoder' ? event.delta : 0), 0) === -3,
      'three detents back',
    );
    events.length = 0;
    hand('button 0 1');
    await until(() => events.length === 1, 'the press');
    hand('button 0 0');
    await until(() => events.length === 2, 'the release');
    expect(events).toEqual([
      { kind: 'button', index: 0, pressed: true },
      { kind: 'button', index: 0, pressed: false },
    ]);
  });

  it("shows the host's rings and LEDs", async () => {
    surface.send({ kind: 'ring', index: 9, value: 777 });
    surface.send({ kind: 'ring', index: 0, value: 5 });
    surface.send({ kind: 'led', index: 1, on: true });
    await until(() => shown.at(-1) === 'show rings 5 0 0 0 0 0 0 0 0 777 leds 0 1 0 0', 'the LEDs');
  });

  it('answers garbage from the host with an error line and stays in session', async () => {
    (device.stdin as Writable).write('garbage\n');
    await until(() => surface.stats().deviceErrors.frame === 1, 'ERR frame');
    surface.send({ kind: 'led', index: 1, on: false });
    await until(() => shown.at(-1) === 'show rings 5 0 0 0 0 0 0 0 0 777 leds 0 0 0 0', 'the LED off');
    expect(surface.isOpen).toBe(true);
    expect(Object.values(surface.stats().faults).every((count) => count === 0)).toBe(true);
  });
});
