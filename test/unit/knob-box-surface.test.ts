import v8 from 'node:v8';
import vm from 'node:vm';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ControlEvent } from '../../controller/src/events.ts';
import {
  KnobBoxSurface,
  NotAKnobBoxError,
  type KnobBoxSurfaceOptions,
} from '../../controller/src/serial/knob-box-surface.ts';
import { duplexPair } from '../../controller/src/serial/duplex-pair.ts';
import { encodeDeviceMessage, frameLine } from '../../controller/src/serial/protocol.ts';
import { KnobBoxSimulator, type SimulatorOptions } from '../../controller/src/serial/simulator.ts';
import { ManualTimers, settle } from '../../controller/src/serial/timers.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

interface Connected {
  surface: KnobBoxSurface;
  simulator: KnobBoxSimulator;
  events: ControlEvent[];
  deviceEnd: Duplex;
  problems: string[];
}

async function connect(
  simulatorOptions: SimulatorOptions = {},
  surfaceOptions: KnobBoxSurfaceOptions = {},
): Promise<Connected> {
  const [hostEnd, deviceEnd] = duplexPair();
  const simulator = new KnobBoxSimulator(simulatorOptions);
  simulator.attach(deviceEnd);
  cleanups.push(() => simulator.close());
  const surface = await KnobBoxSurface.connect(hostEnd, '/dev/simulated', {
    heartbeatMs: 0,
    ...surfaceOptions,
  });
  cleanups.push(() => surface.close());
  const events: ControlEvent[] = [];
  const problems: string[] = [];
  surface.onEvent((event) => events.push(event));
  surface.onProblem((message) => problems.push(message));
  return { surface, simulator, events, deviceEnd, problems };
}

/** Connected with the knob-position report after the handshake already delivered and cleared. */
async function connectQuiet(
  simulatorOptions: SimulatorOptions = {},
  surfaceOptions: KnobBoxSurfaceOptions = {},
): Promise<Connected> {
  const connected = await connect(simulatorOptions, surfaceOptions);
  await until(() => connected.events.length === connected.simulator.knobs, 'the knob report after HELLO');
  connected.events.length = 0;
  return connected;
}

describe('knob box handshake', () => {
  it('recognises a box by its HELLO and reports where every knob stands', async () => {
    const positions = [0, 100, 200, 300, 400, 500, 600, 1023];
    const { surface, events } = await connect({
      serialNumber: 'RKB-0042',
      firmwareVersion: '1.2.3',
      knobPositions: positions,
    });
    expect(surface.identity).toEqual({
      protocol: { major: 1, minor: 0 },
      kind: 'rig-knob-box',
      firmwareVersion: '1.2.3',
      serialNumber: 'RKB-0042',
      knobs: 8,
      buttons: 4,
      encoders: 2,
      motors: 0,
    });
    expect(surface.id).toBe('serial:/dev/simulated');
    expect(surface.kind).toBe('serial');
    expect(surface.name).toBe('rig-knob-box RKB-0042 (firmware 1.2.3)');
    expect(surface.ringCount).toBe(10);
    await until(() => events.length === 8, 'eight knob events');
    expect(events).toEqual(positions.map((value, index) => ({ kind: 'knob', index, value })));
  });

  it('keeps asking HELLO? until a booting box answers', async () => {
    const [hostEnd, deviceEnd] = duplexPair();
    const simulator = new KnobBoxSimulator();
    simulator.frozen = true; // still in its bootloader: hears nothing
    simulator.attach(deviceEnd);
    cleanups.push(() => simulator.close());
    const opening = KnobBoxSurface.connect(hostEnd, '/dev/booting', {
      heartbeatMs: 0,
      helloRetryMs: 20,
      handshakeTimeoutMs: 2000,
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    simulator.frozen = false;
    const surface = await opening;
    cleanups.push(() => surface.close());
    expect(surface.identity.serialNumber).toBe('SIM-0001');
    expect(simulator.handshakes).toBeGreaterThanOrEqual(1);
  });

  it('rejects and closes a port that stays silent', async () => {
    const [hostEnd] = duplexPair();
    const error = await KnobBoxSurface.connect(hostEnd, '/dev/ttyS0', {
      handshakeTimeoutMs: 100,
      helloRetryMs: 20,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotAKnobBoxError);
    expect((error as Error).message).toBe(
      '/dev/ttyS0 is not a knob box: no valid answer to HELLO? within 100 ms',
    );
    expect(hostEnd.destroyed).toBe(true);
  });

  it('says what it heard when a port answers with something else', async () => {
    const [hostEnd, deviceEnd] = duplexPair();
    deviceEnd.on('data', () => deviceEnd.write('OK\r\nAT+ERROR\r\n'));
    const error = await KnobBoxSurface.connect(hostEnd, '/dev/ttyUSB0', {
      handshakeTimeoutMs: 100,
      helloRetryMs: 20,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /^\/dev\/ttyUSB0 is not a knob box: no valid answer to HELLO\? within 100 ms; heard only refused lines \(\d+ frame\)/,
    );
  });

  it('rejects a device that calls itself something else', async () => {
    const [hostEnd, deviceEnd] = duplexPair();
    const simulator = new KnobBoxSimulator({ kind: 'led-strip' });
    simulator.attach(deviceEnd);
    cleanups.push(() => simulator.close());
    const error = await KnobBoxSurface.connect(hostEnd, '/dev/ttyACM3', { heartbeatMs: 0 }).catch(
      (e: unknown) => e,
    );
    expect((error as NotAKnobBoxError).reason).toBe('it calls itself "led-strip", not "rig-knob-box"');
  });

  it('rejects a box that only speaks protocol 2', async () => {
    const [hostEnd, deviceEnd] = duplexPair();
    const simulator = new KnobBoxSimulator({ protocol: { major: 2, minor: 0 } });
    simulator.attach(deviceEnd);
    cleanups.push(() => simulator.close());
    const error = await KnobBoxSurface.connect(hostEnd, '/dev/ttyACM4', { heartbeatMs: 0 }).catch(
      (e: unknown) => e,
    );
    expect((error as NotAKnobBoxError).reason).toBe('it speaks protocol major 2, this host speaks 1');
    expect(simulator.faults.version).toBeGreaterThanOrEqual(1);
  });
});

describe('knob box events and feedback', () => {
  it('turns knobs, encoders and buttons into control events', async () => {
    const { simulator, events } = await connectQuiet();
    simulator.turnKnob(3, 700);
    await until(() => events.length === 1, 'the knob');
    simulator.turnEncoder(1, -4);
    await until(() => events.length === 2, 'the encoder');
    simulator.tapButton(2);
    await until(() => events.length === 4, 'the button');
    expect(events).toEqual([
      { kind: 'knob', index: 3, value: 700 },
      { kind: 'encoder', index: 1, delta: -4 },
      { kind: 'button', index: 2, pressed: true },
      { kind: 'button', index: 2, pressed: false },
    ]);
  });

  it('shows rings and LEDs on the box, encoder rings after the knob rings', async () => {
    const { surface, simulator } = await connectQuiet();
    surface.send({ kind: 'ring', index: 0, value: 1023 });
    surface.send({ kind: 'ring', index: 9, value: 256.4 });
    surface.send({ kind: 'led', index: 3, on: true });
    await until(() => simulator.rings[9] === 256 && simulator.leds[3], 'the feedback');
    expect(simulator.feedback()).toEqual({
      rings: [1023, 0, 0, 0, 0, 0, 0, 0, 0, 256],
      leds: [false, false, false, true],
      motors: [],
    });
    expect(surface.stats().feedbackLinesSent).toBe(3);
  });

  it('sends only the latest value per ring when feedback comes faster than the port takes it', async () => {
    const { surface, simulator } = await connectQuiet();
    for (let value = 0; value <= 1000; value++) surface.send({ kind: 'ring', index: 2, value });
    await until(() => simulator.rings[2] === 1000, 'the last ring value');
    expect(surface.stats().feedbackLinesSent).toBeLessThan(10);
  });

  it('refuses feedback it cannot show, without throwing and without sending', async () => {
    const { surface, simulator, problems } = await connectQuiet({}, { problemReportIntervalMs: 0 });
    surface.send({ kind: 'cc', channel: 0, controller: 1, value: 5 });
    surface.send({ kind: 'ring', index: 10, value: 5 });
    surface.send({ kind: 'ring', index: 1, value: Number.NaN });
    surface.send({ kind: 'led', index: 4, on: true });
    surface.send({ kind: 'ring', index: 1, value: 5000 });
    await until(() => simulator.rings[1] === 1023, 'the clamped ring');
    expect(surface.stats().feedbackRefused).toBe(4);
    expect(problems[0]).toMatch(
      /^\/dev\/simulated: cannot show feedback \{"kind":"cc".*\(rings 0\.\.9, LEDs 0\.\.3\)$/,
    );
    expect(simulator.faults).toMatchObject({ range: 0, syntax: 0 });
  });

  it('counts and ignores every kind of bad line, and good lines around them still work', async () => {
    const { surface, simulator, events } = await connectQuiet();
    simulator.injectRaw(Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a])); // binary noise: a frame fault
    simulator.injectRaw(`${'K'.repeat(500)}\n`);
    simulator.injectRaw('K 3 512*9E\n');
    simulator.injectRaw(frameLine('K 3 512  x'));
    simulator.injectRaw(frameLine('Z 1 2'));
    simulator.injectRaw(frameLine('K 8 100')); // a ninth knob on an eight-knob box
    simulator.injectRaw(frameLine('B 0 0')); // released while not pressed
    simulator.turnKnob(5, 321);
    await until(() => events.length === 1, 'the good line');
    expect(events).toEqual([{ kind: 'knob', index: 5, value: 321 }]);
    const stats = surface.stats();
    expect(stats.faults).toEqual({ overlong: 1, frame: 1, checksum: 1, syntax: 1, unknown: 1, range: 1 });
    expect(stats.repeatedButtonStates).toBe(1);
    expect(stats.discardedBytes).toBeGreaterThanOrEqual(500 + 4);
    expect(surface.isOpen).toBe(true);
  });

  it('keeps delivering to the other listeners when one throws', async () => {
    const { surface, simulator, events, problems } = await connectQuiet({}, { problemReportIntervalMs: 0 });
    surface.onEvent(() => {
      throw new Error('listener bug');
    });
    const after: ControlEvent[] = [];
    surface.onEvent((event) => after.push(event));
    simulator.turnKnob(0, 10);
    simulator.tapButton(0);
    await until(() => after.length === 3, 'both events after the throwing listener');
    expect(events.length).toBe(3);
    expect(
      problems.some((line) => line.includes('an event listener threw') && line.includes('listener bug')),
    ).toBe(true);
    expect(surface.isOpen).toBe(true);
  });
});

describe('knob box floods', () => {
  it('coalesces a flood on one knob into its latest position, at most once per interval', async () => {
    const timers = new ManualTimers();
    const { surface, events, deviceEnd } = await connect({}, { timers, minEventIntervalMs: 5 });
    await timers.advance(10);
    events.length = 0;
    let burst = '';
    for (let value = 0; value < 1000; value++)
      burst += encodeDeviceMessage({ type: 'knob', index: 0, value });
    deviceEnd.write(burst);
    await settle();
    expect(events).toEqual([{ kind: 'knob', index: 0, value: 999 }]);
    deviceEnd.write(burst + encodeDeviceMessage({ type: 'knob', index: 0, value: 5 }));
    await settle();
    expect(events.length).toBe(1); // the interval has not passed on the manual clock
    await timers.advance(5);
    expect(events).toEqual([
      { kind: 'knob', index: 0, value: 999 },
      { kind: 'knob', index: 0, value: 5 },
    ]);
    expect(surface.stats().coalesced).toBe(999 + 1000);
  });

  it('sums an encoder flood exactly and keeps a button flood in order, ending in the real state', async () => {
    const timers = new ManualTimers();
    const { surface, events, deviceEnd } = await connect({}, { timers });
    await timers.advance(10);
    events.length = 0;
    let burst = '';
    for (let i = 0; i < 500; i++) burst += encodeDeviceMessage({ type: 'encoder', index: 1, delta: 3 });
    for (let i = 0; i < 1001; i++)
      burst += encodeDeviceMessage({ type: 'button', index: 2, down: i % 2 === 0 });
    deviceEnd.write(burst);
    await settle();
    expect(events).toEqual([
      { kind: 'button', index: 2, pressed: true },
      { kind: 'encoder', index: 1, delta: 1500 },
    ]);
    deviceEnd.write(encodeDeviceMessage({ type: 'button', index: 2, down: false }));
    await timers.advance(10);
    expect(events.at(-1)).toEqual({ kind: 'button', index: 2, pressed: false });
    expect(surface.stats().coalesced).toBe(499 + 1000);
  });

  it('holds at most one line of 16 MB of garbage without newlines: buffer and heap stay put', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const { surface, deviceEnd, simulator, events } = await connectQuiet();
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const chunks = 256;
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let mostBuffered = 0;
    for (let i = 0; i < chunks; i++) {
      await new Promise<void>((resolve) => deviceEnd.write(chunk, () => resolve()));
      mostBuffered = Math.max(mostBuffered, surface.stats().bufferedBytes);
    }
    await settle();
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    simulator.injectRaw('\n');
    simulator.turnKnob(1, 1);
    await until(() => events.length === 1, 'a knob after the flood');
    const stats = surface.stats();
    expect(mostBuffered).toBeLessThanOrEqual(stats.bufferCapacity);
    expect(stats.bufferCapacity).toBe(81);
    expect(stats.faults.overlong).toBe(1);
    expect(stats.discardedBytes).toBe(chunks * chunk.length);
    // Had the partial line been kept, the heap would have grown by the 16 MB it held; 2 MB is
    // room for what vitest and V8 allocate on their own meanwhile.
    expect(heapGrowth).toBeLessThan(2 * 1024 * 1024);
  });
});

describe('knob box problem reports', () => {
  // 64 bytes a line: 1024 of them are the 64 KB of garbage (no "*CC": frame faults).
  const garbageLine = 'noise from a wrong baud rate or another device'.padEnd(63, '~') + '\n';
  // A knob line whose checksum is wrong (K 3 512 gives 9F).
  const badChecksum = 'K 3 512*00\n';

  it('logs garbage, bad checksums and NULs at most once a second, naming the port and counting each fault', async () => {
    const timers = new ManualTimers();
    const { surface, deviceEnd } = await connect({}, { timers });
    const reports: Array<{ at: number; message: string; badLines: number }> = [];
    surface.onProblem((message, badLines) => reports.push({ at: timers.now(), message, badLines }));
    await timers.advance(10);
    deviceEnd.write(garbageLine.repeat(1024));
    deviceEnd.write(badChecksum.repeat(500));
    deviceEnd.write(Buffer.alloc(1024 * 1024));
    deviceEnd.write('\n');
    await settle();
    expect(reports).toEqual([]); // counted, and told once the second is over
    await timers.advance(1000);
    expect(reports).toEqual([
      {
        at: 1010,
        message:
          '/dev/simulated: 1024 lines with bad framing, 500 lines with bad checksums, 1 overlong line dropped in the last second (last: a line of 1048576 bytes)',
        badLines: 1525,
      },
    ]);

    // The next bad line opens the next second: no second report before it is over.
    deviceEnd.write(badChecksum);
    await timers.advance(999);
    expect(reports.length).toBe(1);
    await timers.advance(1);
    expect(reports[1]).toEqual({
      at: 2010,
      message:
        '/dev/simulated: 1 line with a bad checksum in the last second (last: checksum 00, payload gives 9F)',
      badLines: 1,
    });
    await timers.advance(10_000);
    expect(reports.length).toBe(2); // quiet line, quiet log
    expect(surface.stats().faults).toMatchObject({ frame: 1024, checksum: 501, overlong: 1 });
    expect(surface.isOpen).toBe(true);
  });

  it('says so while an unterminated line is being dropped, once a second', async () => {
    const timers = new ManualTimers();
    const { surface, deviceEnd } = await connect({}, { timers });
    const reports: string[] = [];
    surface.onProblem((message) => reports.push(message));
    await timers.advance(10);
    deviceEnd.write(Buffer.alloc(512 * 1024));
    await timers.advance(1000);
    deviceEnd.write(Buffer.alloc(512 * 1024));
    await timers.advance(1000);
    expect(reports).toEqual([
      '/dev/simulated: dropping a line with no end (524288 bytes so far)',
      '/dev/simulated: dropping a line with no end (1048576 bytes so far)',
    ]);
    deviceEnd.write('\n');
    await timers.advance(1000);
    expect(reports[2]).toBe(
      '/dev/simulated: 1 overlong line dropped in the last second (last: a line of 1048576 bytes)',
    );
  });

  it('counts refused host lines by the ERR code the box sent', async () => {
    const timers = new ManualTimers();
    const { surface, deviceEnd } = await connect({}, { timers });
    const reports: Array<[string, number]> = [];
    surface.onProblem((message, badLines) => reports.push([message, badLines]));
    await timers.advance(10);
    deviceEnd.write(encodeDeviceMessage({ type: 'error', code: 'checksum', detail: '' }).repeat(3));
    deviceEnd.write(encodeDeviceMessage({ type: 'error', code: 'range', detail: 'R 12' }));
    await timers.advance(1000);
    expect(reports).toEqual([
      [
        '/dev/simulated: 3 host lines refused by the box (ERR checksum), 1 host line refused by the box (ERR range) in the last second',
        0,
      ],
    ]);
  });

  it('tells what is still counted when the connection ends', async () => {
    const timers = new ManualTimers();
    const { surface, deviceEnd } = await connect({}, { timers });
    const heard: string[] = [];
    surface.onProblem((message) => heard.push(message));
    surface.onClose((reason) => heard.push(`closed: ${reason}`));
    await timers.advance(10);
    deviceEnd.write(badChecksum.repeat(2));
    await settle();
    await surface.close();
    expect(heard).toEqual([
      '/dev/simulated: 2 lines with bad checksums in the last second (last: checksum 00, payload gives 9F)',
      'closed: closed by the host',
    ]);
  });
});

describe('knob box connection life', () => {
  it('handshakes again after the box resets, and puts its rings and LEDs back', async () => {
    const { surface, simulator } = await connectQuiet();
    surface.send({ kind: 'ring', index: 3, value: 700 });
    surface.send({ kind: 'led', index: 1, on: true });
    await until(() => simulator.rings[3] === 700 && simulator.leds[1], 'the first feedback');
    simulator.reboot();
    expect(simulator.rings[3]).toBe(0);
    surface.send({ kind: 'ring', index: 0, value: 300 });
    await until(
      () => simulator.rings[0] === 300 && simulator.rings[3] === 700 && simulator.leds[1],
      'the feedback restored',
    );
    expect(simulator.handshakes).toBe(2);
    expect(surface.stats().deviceErrors.hello).toBe(1);
    expect(surface.isOpen).toBe(true);
  });

  it('closes when a different box answers the new HELLO?', async () => {
    const { surface, simulator, deviceEnd } = await connectQuiet();
    const reasons: string[] = [];
    surface.onClose((reason) => reasons.push(reason));
    simulator.frozen = true;
    const stranger = new KnobBoxSimulator({ serialNumber: 'OTHER-7' });
    stranger.attach(deviceEnd);
    surface.send({ kind: 'ring', index: 0, value: 1 });
    await until(() => reasons.length === 1, 'the close');
    expect(reasons).toEqual(['a different device answered on /dev/simulated (rig-knob-box OTHER-7)']);
    expect(surface.isOpen).toBe(false);
  });

  it('pings a quiet box and lets go of one that stops answering', async () => {
    const timers = new ManualTimers();
    const { surface, simulator } = await connect({}, { timers, heartbeatMs: 100, silenceLimitMs: 300 });
    const reasons: string[] = [];
    surface.onClose((reason) => reasons.push(reason));
    await timers.advance(1000);
    expect(surface.isOpen).toBe(true);
    expect(simulator.received.filter((message) => message.type === 'ping?').length).toBe(10);
    simulator.frozen = true;
    await timers.advance(1000);
    expect(reasons).toEqual(['no answer from the device for 400 ms']);
  });

  it('reports an unplug once, and feedback afterwards is quietly dropped', async () => {
    const { surface, deviceEnd } = await connectQuiet();
    const reasons: string[] = [];
    surface.onClose((reason) => reasons.push(reason));
    deviceEnd.destroy();
    await until(() => !surface.isOpen, 'the close');
    await settle();
    expect(reasons).toEqual(['port closed']);
    expect(() => surface.send({ kind: 'ring', index: 0, value: 1 })).not.toThrow();
    await surface.close();
    expect(reasons.length).toBe(1);
  });
});
