/**
 * The knob box over a real serial line: a socat pty pair, the simulator on one end, the rig's
 * own wiring on the other (KnobBoxWatcher as the SurfaceManager's serial discovery, the shipped
 * rig-knob-box mapping, a ParameterStore). Nothing is faked between the pty and the store.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParameterStore, type ParameterChange } from '../../engine/src/parameter-store.ts';
import { getSpec, positionToValue, valueToPosition } from '../../engine/src/params.ts';
import { encodeDeviceMessage } from '../../controller/src/serial/protocol.ts';
import { KnobBoxSimulator } from '../../controller/src/serial/simulator.ts';
import { KnobBoxWatcher, probeKnobBoxes } from '../../controller/src/serial/watcher.ts';
import { SurfaceManager } from '../../controller/src/surfaces.ts';
import { startSocatPair, stopAllSocat, type SocatPair } from '../helpers/socat-pair.ts';

const KNOB_MAX = 1023;
/** What a ring shows for a parameter value, by the same schema conversion the mapping uses. */
const ringFor = (id: string, value: number) => Math.round(valueToPosition(getSpec(id), value) * KNOB_MAX);

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('knob box over a real pty', () => {
  let dir: string;
  let deviceLink: string;
  let hostLink: string;
  let socat: SocatPair;
  let simulator: KnobBoxSimulator;
  let watcher: KnobBoxWatcher;
  let manager: SurfaceManager;
  const store = new ParameterStore();
  const changes: ParameterChange[] = [];
  const watcherLog: string[] = [];
  /** What the rig's terminal log gets from the surface manager, with when. */
  const rigLog: Array<{ at: number; line: string }> = [];

  const box = () => watcher.boxes()[0];
  const status = () => manager.status()[0];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-pty-'));
    deviceLink = path.join(dir, 'box');
    hostLink = path.join(dir, 'ttyRIG0');
    socat = await startSocatPair(deviceLink, hostLink);
    simulator = await KnobBoxSimulator.open(deviceLink, { serialNumber: 'RKB-PTY-1' });
    store.subscribe((change) => changes.push(change));
    watcher = new KnobBoxWatcher({
      paths: [hostLink],
      scan: false,
      backoffInitialMs: 100,
      backoffMaxMs: 400,
      surface: { heartbeatMs: 500 },
    });
    watcher.on('connected', (port) => watcherLog.push(`connected ${port.name}`));
    watcher.on('disconnected', (port, reason) => watcherLog.push(`disconnected: ${reason}`));
    watcher.on('error', (where, error) => watcherLog.push(`error ${where}: ${error.message}`));
    manager = new SurfaceManager({
      store,
      midiBackend: null,
      userMappingDir: path.join(dir, 'mappings'),
      serial: watcher,
      log: (line) => rigLog.push({ at: Date.now(), line }),
    });
    manager.start();
  });

  afterAll(async () => {
    await manager?.close();
    await simulator?.close();
    await stopAllSocat();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('handshakes over the pty and drives the box with the shipped knob-box mapping', async () => {
    await until(() => status()?.connected === true, 'the box to connect');
    expect(status()).toMatchObject({
      id: `serial:${hostLink}`,
      kind: 'serial',
      name: 'rig-knob-box RKB-PTY-1 (firmware sim-1.0)',
      mapping: 'Rig knob box',
    });
    expect(box().identity).toMatchObject({
      kind: 'rig-knob-box',
      serialNumber: 'RKB-PTY-1',
      knobs: 8,
      buttons: 4,
      encoders: 2,
    });
    // On connect the mapping shows every current value on the rings.
    await until(
      () =>
        simulator.rings[0] === ringFor('input.trim', store.get('input.trim')) &&
        simulator.rings[7] === ringFor('output.trim', store.get('output.trim')),
      'the rings',
    );
  });

  it('turns a parameter in the store when a knob turns', async () => {
    // input.trim sits at 0 dB, mid travel, where the knob reported itself after the handshake.
    for (const position of [600, 800, 1023]) simulator.turnKnob(0, position);
    await until(() => store.get('input.trim') === getSpec('input.trim').max, 'input trim at its top');
    expect(changes.at(-1)).toMatchObject({
      id: 'input.trim',
      value: 24,
      origin: `controller:serial:${hostLink}`,
    });
  });

  it('moves the ring when the parameter changes elsewhere', async () => {
    store.set('output.trim', -12, 'dashboard:x');
    await until(() => simulator.rings[7] === ringFor('output.trim', -12), 'the output ring');
    expect(simulator.rings[7]).toBe(512);
  });

  it('counts and ignores garbage, overlong lines, bad checksums and a flood, in bounded memory', async () => {
    const surface = box().surface!;
    const before = surface.stats();
    const statusBefore = status();
    const logBefore = rigLog.length;
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const heapBefore = process.memoryUsage().heapUsed;

    // 16 MB of binary noise without a newline: one overlong line however long it gets.
    const noise = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 131 + 7) % 256 === 0x0a ? 0 : (i * 131 + 7) % 256;
    let mostBuffered = 0;
    const pings = () => simulator.received.filter((message) => message.type === 'ping?').length;
    const pingsBefore = pings();
    for (let i = 0; i < 16; i++) {
      await simulator.injectRaw(noise);
      mostBuffered = Math.max(mostBuffered, surface.stats().bufferedBytes);
    }
    await simulator.injectRaw('\n');
    const pingsDuringNoise = pings() - pingsBefore;
    for (let i = 0; i < 1000; i++) await simulator.injectRaw('K 1 512*00\n');
    for (let i = 0; i < 100; i++) await simulator.injectRaw(`K 1 ${'9'.repeat(200)}\n`);
    // A flood on knob 1 (comp.threshold): 20 full sweeps in one go, ending at 800.
    let flood = '';
    for (let sweep = 0; sweep < 20; sweep++)
      for (let value = 0; value <= KNOB_MAX; value++)
        flood += encodeDeviceMessage({ type: 'knob', index: 1, value });
    flood += encodeDeviceMessage({ type: 'knob', index: 1, value: 800 });
    await simulator.injectRaw(flood);

    const floodLines = 20 * (KNOB_MAX + 1) + 1;
    const threshold = positionToValue(getSpec('comp.threshold'), 800 / KNOB_MAX);
    await until(
      () =>
        surface.stats().linesAccepted - before.linesAccepted >= floodLines &&
        store.get('comp.threshold') === threshold,
      'the flood to be read',
    );
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;

    const after = surface.stats();
    // The heartbeat goes on meanwhile: a PONG written between two noise chunks ends the noise line
    // there (and is swallowed by it), so each can add one overlong line.
    expect(after.faults.overlong - before.faults.overlong).toBeGreaterThanOrEqual(1 + 100);
    expect(after.faults.overlong - before.faults.overlong).toBeLessThanOrEqual(1 + 100 + pingsDuringNoise);
    expect(after.faults.checksum - before.faults.checksum).toBe(1000);
    expect(after.discardedBytes - before.discardedBytes).toBeGreaterThanOrEqual(16 * noise.length);
    expect(mostBuffered).toBeLessThanOrEqual(after.bufferCapacity);
    // Coalescing: every flood line is either delivered or merged, and most were merged.
    const delivered = after.eventsDelivered - before.eventsDelivered;
    expect(delivered + (after.coalesced - before.coalesced)).toBe(floodLines);
    expect(delivered).toBeLessThan(floodLines / 10);
    // Had the 16 MB half-line been kept the heap would have grown by that much; 4 MB is room for
    // the flood's own strings and whatever V8 and vitest allocate meanwhile.
    expect(heapGrowth).toBeLessThan(4 * 1024 * 1024);
    expect(box().surface).toBe(surface);

    simulator.turnKnob(0, 0);
    await until(() => store.get('input.trim') === getSpec('input.trim').min, 'a knob after the abuse');

    // The rig's log heard of it: at most one line a second, naming the port and counting by
    // fault, and the status's figure counts the same lines (PROTOCOL.md, "Bad lines").
    const badLines = (stats: typeof before) => Object.values(stats.faults).reduce((sum, n) => sum + n, 0);
    const refused = badLines(surface.stats()) - badLines(before);
    await until(() => status().badLines === (statusBefore.badLines ?? 0) + refused, 'the bad lines reported');
    const reports = rigLog.slice(logBefore).filter(({ line }) => line.startsWith(`${hostLink}: `));
    expect(reports.length).toBeGreaterThan(0);
    for (let i = 1; i < reports.length; i++)
      // Timers may fire a millisecond early against Date.now.
      expect(reports[i].at - reports[i - 1].at).toBeGreaterThanOrEqual(990);
    const counted = (pattern: RegExp) =>
      reports.reduce((sum, { line }) => sum + Number(pattern.exec(line)?.[1] ?? 0), 0);
    expect(counted(/(\d+) lines? with (?:bad checksums|a bad checksum)/)).toBe(1000);
    expect(counted(/(\d+) overlong lines? dropped/)).toBe(after.faults.overlong - before.faults.overlong);
  });

  it('reconnects by itself when the pty pair is killed and made again at the same paths', async () => {
    const firstSurface = box().surface;
    await socat.stop();
    await until(() => status()?.connected === false, 'the disconnect');
    expect(fs.existsSync(hostLink)).toBe(false);
    // Changed while unplugged: the box must show it once it is back.
    store.set('output.trim', -6, 'dashboard:x');

    socat = await startSocatPair(deviceLink, hostLink);
    await simulator.detach();
    await simulator.openPath(deviceLink);
    await until(() => status()?.connected === true, 'the reconnect');
    expect(box().surface).not.toBe(firstSurface);
    expect(simulator.handshakes).toBe(2);
    await until(
      () => simulator.rings[7] === ringFor('output.trim', -6),
      'the ring updated after the reconnect',
    );

    simulator.turnKnob(0, 300);
    simulator.turnKnob(0, 1023);
    await until(() => store.get('input.trim') === 24, 'the knob working again');
    expect(watcherLog[0]).toBe('connected rig-knob-box RKB-PTY-1 (firmware sim-1.0)');
    expect(watcherLog.filter((line) => line.startsWith('disconnected'))).toHaveLength(1);
    expect(watcherLog.at(-1)).toBe('connected rig-knob-box RKB-PTY-1 (firmware sim-1.0)');
  });
});

describe('probing ports for `rig surfaces`', () => {
  it('names the box on one pty and says why the silent one is not a box', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-probe-'));
    const withBox = await startSocatPair(path.join(dir, 'box'), path.join(dir, 'ttyBOX'));
    const silent = await startSocatPair(path.join(dir, 'nothing'), path.join(dir, 'ttySILENT'));
    const simulator = await KnobBoxSimulator.open(withBox.deviceLink, { serialNumber: 'RKB-PROBE' });
    try {
      const probes = await probeKnobBoxes({
        paths: [withBox.hostLink, silent.hostLink, path.join(dir, 'ttyMISSING')],
        scan: false,
        surface: { handshakeTimeoutMs: 300 },
      });
      expect(probes[0]).toMatchObject({
        path: withBox.hostLink,
        identity: { kind: 'rig-knob-box', serialNumber: 'RKB-PROBE' },
      });
      expect(probes[1]).toEqual({
        path: silent.hostLink,
        problem: 'no valid answer to HELLO? within 300 ms',
      });
      expect(probes[2].problem).toMatch(/ttyMISSING: cannot open: .*No such file or directory/);
      expect(simulator.handshakes).toBe(1);
    } finally {
      await simulator.close();
      await withBox.stop();
      await silent.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
