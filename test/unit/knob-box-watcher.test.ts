import { afterEach, describe, expect, it } from 'vitest';
import type { ControlEvent, SurfaceAdapter } from '../../controller/src/events.ts';
import { KnobBoxSurface, type KnobBoxSurfaceOptions } from '../../controller/src/serial/knob-box-surface.ts';
import { duplexPair } from '../../controller/src/serial/duplex-pair.ts';
import type { KnobBoxPort } from '../../controller/src/serial/port.ts';
import { KnobBoxSimulator } from '../../controller/src/serial/simulator.ts';
import { ManualTimers, settle } from '../../controller/src/serial/timers.ts';
import { KnobBoxWatcher, type KnobBoxWatcherOptions } from '../../controller/src/serial/watcher.ts';
import { SurfaceManager } from '../../controller/src/surfaces.ts';
import { ParameterStore } from '../../engine/src/parameter-store.ts';

/**
 * Serial ports as the watcher sees them, without hardware: a path has a box plugged in (a
 * simulator on an in-memory link) or nothing, and every open attempt is recorded with its time.
 */
class FakePorts {
  readonly timers = new ManualTimers();
  readonly plugged = new Map<string, KnobBoxSimulator>();
  readonly listed = new Set<string>();
  readonly attempts: Array<{ path: string; at: number }> = [];

  readonly open = async (path: string, options: KnobBoxSurfaceOptions): Promise<KnobBoxSurface> => {
    this.attempts.push({ path, at: this.timers.now() });
    const simulator = this.plugged.get(path);
    if (!simulator) throw new Error(`${path}: cannot open: No such file or directory`);
    const [hostEnd, deviceEnd] = duplexPair();
    simulator.attach(deviceEnd);
    return KnobBoxSurface.connect(hostEnd, path, options);
  };

  plug(path: string, simulator = new KnobBoxSimulator()): KnobBoxSimulator {
    this.plugged.set(path, simulator);
    this.listed.add(path);
    return simulator;
  }

  async unplug(path: string): Promise<void> {
    this.listed.delete(path);
    await this.plugged.get(path)?.detach();
    this.plugged.delete(path);
  }

  attemptTimes(path: string): number[] {
    return this.attempts.filter((attempt) => attempt.path === path).map((attempt) => attempt.at);
  }
}

const watchers: KnobBoxWatcher[] = [];
afterEach(async () => {
  for (const watcher of watchers.splice(0)) await watcher.close();
});

function watch(ports: FakePorts, options: KnobBoxWatcherOptions) {
  const watcher = new KnobBoxWatcher({
    timers: ports.timers,
    open: ports.open,
    listCandidates: async () => [...ports.listed],
    resolveDevice: async (path) => path,
    surface: { timers: ports.timers, heartbeatMs: 0 },
    ...options,
  });
  watchers.push(watcher);
  const log: string[] = [];
  watcher.on('connected', (port) => log.push(`connected ${port.id} ${port.identity?.serialNumber}`));
  watcher.on('disconnected', (port, reason) => log.push(`disconnected ${port.id}: ${reason}`));
  watcher.on('rejected', (path, reason) => log.push(`rejected ${path}: ${reason}`));
  watcher.on('error', (path, error) => log.push(`error ${path}: ${error.message}`));
  return { watcher, log };
}

describe('knob box watcher', () => {
  it('retries an explicit path with doubling delays up to the cap, reporting the failure once', async () => {
    const ports = new FakePorts();
    const { watcher, log } = watch(ports, {
      paths: ['/dev/ttyACM0'],
      scan: false,
      backoffInitialMs: 250,
      backoffMaxMs: 8000,
    });
    watcher.start();
    await ports.timers.advance(40_000);
    expect(ports.attemptTimes('/dev/ttyACM0')).toEqual([
      0, 250, 750, 1750, 3750, 7750, 15750, 23750, 31750, 39750,
    ]);
    expect(log).toEqual(['error /dev/ttyACM0: /dev/ttyACM0: cannot open: No such file or directory']);

    ports.plug('/dev/ttyACM0', new KnobBoxSimulator({ serialNumber: 'RKB-1' }));
    await ports.timers.advance(8000);
    expect(log.at(-1)).toBe('connected serial:/dev/ttyACM0 RKB-1');
    expect(watcher.boxes().map((port) => port.connected)).toEqual([true]);
  });

  it('reconnects an unplugged box as the same port object, with its listeners and feedback', async () => {
    const ports = new FakePorts();
    const simulator = ports.plug('/dev/ttyACM0');
    const { watcher, log } = watch(ports, { paths: ['/dev/ttyACM0'], scan: false });
    watcher.start();
    await ports.timers.advance(10);
    const [port] = watcher.boxes();
    const events: ControlEvent[] = [];
    port.onEvent((event) => events.push(event));
    await ports.timers.advance(10);
    expect(events.length).toBe(8); // the knob report after the handshake

    await simulator.detach();
    await ports.timers.advance(10);
    expect(log.slice(1)).toEqual(['disconnected serial:/dev/ttyACM0: port closed']);
    expect(port.connected).toBe(false);
    expect(() => port.send({ kind: 'ring', index: 0, value: 9 })).not.toThrow();

    await ports.timers.advance(250);
    expect(log.at(-1)).toBe('connected serial:/dev/ttyACM0 SIM-0001');
    expect(watcher.boxes()).toEqual([port]);
    simulator.turnKnob(6, 66);
    port.send({ kind: 'ring', index: 6, value: 66 });
    await ports.timers.advance(10);
    expect(events.at(-1)).toEqual({ kind: 'knob', index: 6, value: 66 });
    expect(simulator.rings[6]).toBe(66);
  });

  it('finds boxes among scanned ports and leaves other devices alone until they are replugged', async () => {
    const ports = new FakePorts();
    ports.plug('/dev/serial/by-id/usb-rig-box', new KnobBoxSimulator({ serialNumber: 'RKB-7' }));
    ports.plug('/dev/serial/by-id/usb-printer', new KnobBoxSimulator({ kind: 'printer' }));
    const { watcher, log } = watch(ports, { scanIntervalMs: 2000 });
    watcher.start();
    await ports.timers.advance(10_000);
    expect(log.sort()).toEqual([
      'connected serial:/dev/serial/by-id/usb-rig-box RKB-7',
      'rejected /dev/serial/by-id/usb-printer: it calls itself "printer", not "rig-knob-box"',
    ]);
    expect(ports.attemptTimes('/dev/serial/by-id/usb-printer')).toEqual([0]);

    ports.listed.delete('/dev/serial/by-id/usb-printer');
    await ports.timers.advance(2000);
    ports.listed.add('/dev/serial/by-id/usb-printer');
    await ports.timers.advance(2000);
    expect(ports.attemptTimes('/dev/serial/by-id/usb-printer')).toEqual([0, 14000]);
  });

  it('drops an unplugged scanned box from the scan, and connects it again when it is back', async () => {
    const ports = new FakePorts();
    const simulator = ports.plug('/dev/serial/by-id/usb-rig-box');
    const { watcher, log } = watch(ports, { scanIntervalMs: 1000 });
    watcher.start();
    await ports.timers.advance(10);
    await ports.unplug('/dev/serial/by-id/usb-rig-box');
    await ports.timers.advance(5000);
    expect(ports.attemptTimes('/dev/serial/by-id/usb-rig-box')).toEqual([0]);
    expect(log).toEqual([
      'connected serial:/dev/serial/by-id/usb-rig-box SIM-0001',
      'disconnected serial:/dev/serial/by-id/usb-rig-box: port closed',
    ]);
    ports.plug('/dev/serial/by-id/usb-rig-box', simulator);
    await ports.timers.advance(1000);
    expect(log.at(-1)).toBe('connected serial:/dev/serial/by-id/usb-rig-box SIM-0001');
  });

  it('keeps retrying an explicit path that answers wrongly, and reports it once', async () => {
    const ports = new FakePorts();
    ports.plug('/dev/ttyUSB0', new KnobBoxSimulator({ protocol: { major: 2, minor: 0 } }));
    const { watcher, log } = watch(ports, { paths: ['/dev/ttyUSB0'], scan: false });
    watcher.start();
    await ports.timers.advance(2000);
    expect(ports.attemptTimes('/dev/ttyUSB0')).toEqual([0, 250, 750, 1750]);
    expect(log).toEqual(['rejected /dev/ttyUSB0: it speaks protocol major 2, this host speaks 1']);
  });

  it('opens a port once when it is both given and found by the scan', async () => {
    const ports = new FakePorts();
    ports.plug('/dev/ttyACM0');
    const { watcher, log } = watch(ports, { paths: ['/dev/ttyACM0'], scanIntervalMs: 500 });
    watcher.start();
    await ports.timers.advance(3000);
    expect(ports.attemptTimes('/dev/ttyACM0')).toEqual([0]);
    expect(log).toEqual(['connected serial:/dev/ttyACM0 SIM-0001']);
  });

  it('stops retrying on close and closes every box', async () => {
    const ports = new FakePorts();
    const simulator = ports.plug('/dev/ttyACM0');
    const { watcher, log } = watch(ports, { paths: ['/dev/ttyACM0', '/dev/ttyACM1'], scan: false });
    watcher.start();
    await ports.timers.advance(100);
    await watcher.close();
    await ports.timers.advance(60_000);
    expect(ports.attemptTimes('/dev/ttyACM1')).toEqual([0]);
    expect(watcher.boxes()[0].connected).toBe(false);
    expect(simulator.connected).toBe(false);
    expect(log.filter((line) => line.startsWith('disconnected'))).toEqual([
      'disconnected serial:/dev/ttyACM0: closed by the host',
    ]);
  });

  it("serves as the surface manager's serial discovery", async () => {
    const ports = new FakePorts();
    const simulator = ports.plug('/dev/ttyACM0');
    const { watcher } = watch(ports, { paths: ['/dev/ttyACM0'], scan: false });
    const seen: string[] = [];
    let adapter: SurfaceAdapter | undefined;
    watcher.start(
      (connected, deviceKind) => {
        adapter = connected;
        seen.push(`connected ${connected.id} ${deviceKind}`);
      },
      (id, reason) => seen.push(`disconnected ${id}: ${reason}`),
    );
    await ports.timers.advance(10);
    await simulator.detach();
    await ports.timers.advance(300);
    expect(seen).toEqual([
      'connected serial:/dev/ttyACM0 rig-knob-box',
      'disconnected serial:/dev/ttyACM0: port closed',
      'connected serial:/dev/ttyACM0 rig-knob-box',
    ]);
    expect((adapter as KnobBoxPort).connected).toBe(true);
  });

  it('stops reconnecting a port the user closed', async () => {
    const ports = new FakePorts();
    ports.plug('/dev/ttyACM0');
    const { watcher } = watch(ports, { paths: ['/dev/ttyACM0'], scan: false });
    watcher.start();
    await ports.timers.advance(10);
    await watcher.boxes()[0].close();
    await ports.timers.advance(10_000);
    await settle();
    expect(ports.attemptTimes('/dev/ttyACM0')).toEqual([0]);
    expect(watcher.boxes()[0].connected).toBe(false);
  });

  it("puts a box's bad-line reports in the surface manager's log and counts them in its status", async () => {
    const ports = new FakePorts();
    const simulator = ports.plug('/dev/ttyACM0');
    const { watcher } = watch(ports, { paths: ['/dev/ttyACM0'], scan: false, backoffInitialMs: 100 });
    const log: string[] = [];
    const manager = new SurfaceManager({
      store: new ParameterStore(),
      midiBackend: null,
      userMappingDir: '/nonexistent/rig-test-mappings',
      serial: watcher,
      log: (line) => log.push(line),
    });
    manager.start();
    await ports.timers.advance(10);
    expect(manager.status()[0]).toMatchObject({ connected: true, badLines: 0 });
    await simulator.injectRaw('K 3 512*00\n'.repeat(500));
    await simulator.injectRaw(`${'K'.repeat(200)}\n`.repeat(3));
    await ports.timers.advance(1000);
    expect(log.filter((line) => line.startsWith('/dev/ttyACM0:'))).toEqual([
      '/dev/ttyACM0: 500 lines with bad checksums, 3 overlong lines dropped in the last second (last: a line of 200 bytes)',
    ]);
    expect(manager.status()[0].badLines).toBe(503);

    // Unplugged and back: the figure is the box's since the rig started, not the connection's.
    await ports.unplug('/dev/ttyACM0');
    const again = ports.plug('/dev/ttyACM0');
    await ports.timers.advance(500);
    expect(manager.status()[0].connected).toBe(true);
    await again.injectRaw('K 3 512*00\n');
    await ports.timers.advance(1000);
    expect(manager.status()[0].badLines).toBe(504);
    await manager.close();
  });
});
