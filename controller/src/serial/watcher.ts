/**
 * Finds knob boxes and keeps them connected: explicit paths (`--serial PATH`) are always tried;
 * USB serial ports are scanned (stable /dev/serial/by-id names first, then serialport's list) and
 * each is asked `HELLO?`. A box that goes away is retried with capped exponential backoff until it
 * answers again. Nothing here throws at the caller: failures arrive as events.
 */
import { readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import type { SurfaceAdapter } from '../events.ts';
import {
  KnobBoxSurface,
  NotAKnobBoxError,
  type KnobBoxIdentity,
  type KnobBoxSurfaceOptions,
} from './knob-box-surface.ts';
import { KnobBoxPort } from './port.ts';
import { systemTimers, type Timers } from './timers.ts';

const BY_ID_DIRECTORY = '/dev/serial/by-id';

/**
 * Serial ports that could be a knob box: every /dev/serial/by-id link (named by USB vendor,
 * product and serial number, so the same box keeps its name across replugs), then any other USB
 * port serialport lists. Motherboard UARTs (no USB vendor id) are left out: writing `HELLO?` to
 * whatever hangs off them is not ours to do unless the user names the port with --serial.
 */
export async function listSerialCandidates(): Promise<string[]> {
  let byId: string[] = [];
  try {
    byId = (await readdir(BY_ID_DIRECTORY)).sort().map((name) => join(BY_ID_DIRECTORY, name));
  } catch {
    // No USB serial device plugged in (udev removes the folder), or not Linux.
  }
  const covered = new Set(await Promise.all(byId.map((path) => realpath(path).catch(() => path))));
  const listed = (await SerialPort.list())
    .filter((port) => port.vendorId !== undefined && !covered.has(port.path))
    .map((port) => port.path);
  return [...byId, ...listed];
}

export interface KnobBoxWatcherOptions {
  /** Paths given with --serial: always tried, retried for as long as the watcher runs. */
  paths?: readonly string[];
  /** Also look for boxes among USB serial ports. Default true. */
  scan?: boolean;
  /** How often the port list is read for newly plugged boxes. */
  scanIntervalMs?: number;
  /** First retry delay after a failure or unplug; doubles per failure up to backoffMaxMs. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  surface?: KnobBoxSurfaceOptions;
  /** Where candidates come from (default listSerialCandidates); tests inject their own. */
  listCandidates?: () => Promise<string[]>;
  /** The device node behind a path, to see that two names are one port (default: fs realpath). */
  resolveDevice?: (path: string) => Promise<string>;
  /** How a path becomes a surface (default KnobBoxSurface.open); tests inject their own. */
  open?: (path: string, options: KnobBoxSurfaceOptions) => Promise<KnobBoxSurface>;
  timers?: Timers;
}

export interface KnobBoxWatcherEvents {
  /** A box answered on this port (the first time, or again after an unplug). */
  connected: [port: KnobBoxPort];
  disconnected: [port: KnobBoxPort, reason: string];
  /**
   * A connected box's bad lines and other trouble, one line a second at most (PROTOCOL.md, "Bad
   * lines"), with how many of its lines that line counts as refused.
   */
  problem: [port: KnobBoxPort, message: string, badLines: number];
  /** A port that opened but did not answer as a knob box; reported once per streak. */
  rejected: [path: string, reason: string];
  /** A port that could not be opened, or a failed scan; reported once per streak of the same error. */
  error: [path: string, error: Error];
}

type Listener<E extends keyof KnobBoxWatcherEvents> = (...args: KnobBoxWatcherEvents[E]) => void;

interface Watched {
  readonly path: string;
  /** The device node behind the path, so a by-id link and its /dev/ttyACM name are one entry. */
  readonly device: string;
  readonly explicit: boolean;
  state: 'waiting' | 'opening' | 'connected' | 'rejected';
  /** Consecutive failed attempts: the backoff exponent. */
  failures: number;
  /** Explicit paths retry on a timer. */
  retryTimer?: unknown;
  /** Scanned ports retry at the first scan after this time, and only while still listed. */
  notBefore: number;
  /** Last error or rejection reported for this path, so a streak is reported once. */
  lastReport?: string;
}

export class KnobBoxWatcher {
  private readonly timers: Timers;
  private readonly watched = new Map<string, Watched>();
  /** Kept for the watcher's life: a box that returns must come back as the same object. */
  private readonly ports = new Map<string, KnobBoxPort>();
  private readonly listeners: { [E in keyof KnobBoxWatcherEvents]: Array<Listener<E>> } = {
    connected: [],
    disconnected: [],
    problem: [],
    rejected: [],
    error: [],
  };
  private readonly opening = new Set<Promise<void>>();
  private scanTimer: unknown;
  private scanning = false;
  private lastScanError: string | undefined;
  private started = false;
  private closed = false;
  private readonly settings: Required<Omit<KnobBoxWatcherOptions, 'timers' | 'paths'>> & {
    paths: readonly string[];
  };

  constructor(options: KnobBoxWatcherOptions = {}) {
    this.timers = options.timers ?? systemTimers;
    this.settings = {
      paths: options.paths ?? [],
      scan: options.scan ?? true,
      scanIntervalMs: options.scanIntervalMs ?? 2000,
      backoffInitialMs: options.backoffInitialMs ?? 250,
      backoffMaxMs: options.backoffMaxMs ?? 8000,
      surface: options.surface ?? {},
      listCandidates: options.listCandidates ?? listSerialCandidates,
      resolveDevice: options.resolveDevice ?? ((path) => realpath(path).catch(() => path)),
      open: options.open ?? KnobBoxSurface.open,
    };
  }

  on<E extends keyof KnobBoxWatcherEvents>(event: E, listener: Listener<E>): this {
    this.listeners[event].push(listener);
    return this;
  }

  off<E extends keyof KnobBoxWatcherEvents>(event: E, listener: Listener<E>): this {
    const list = this.listeners[event];
    const at = list.indexOf(listener);
    if (at >= 0) list.splice(at, 1);
    return this;
  }

  /**
   * Starts connecting. The callbacks make the watcher the SurfaceManager's SerialDiscovery: they
   * hear the same connects, disconnects and problems as the events, with the mapping's device kind.
   */
  start(
    onConnected?: (adapter: SurfaceAdapter, deviceKind: string) => void,
    onDisconnected?: (id: string, reason: string) => void,
    onProblem?: (id: string, message: string, badLines: number) => void,
  ): void {
    if (this.started || this.closed) return;
    this.started = true;
    if (onConnected) this.on('connected', (port) => onConnected(port, port.identity?.kind ?? ''));
    if (onDisconnected) this.on('disconnected', (port, reason) => onDisconnected(port.id, reason));
    if (onProblem) this.on('problem', (port, message, badLines) => onProblem(port.id, message, badLines));
    for (const path of this.settings.paths) {
      const entry: Watched = {
        path,
        device: path,
        explicit: true,
        state: 'waiting',
        failures: 0,
        notBefore: 0,
      };
      this.watched.set(path, entry);
      this.attempt(entry);
    }
    if (this.settings.scan) void this.scan();
  }

  /** Every port a box has ever answered on, connected or not. */
  boxes(): KnobBoxPort[] {
    return [...this.ports.values()];
  }

  /** Every watched path and where it stands, for `rig surfaces`. */
  status(): Array<{
    path: string;
    explicit: boolean;
    state: Watched['state'];
    identity?: KnobBoxIdentity;
    lastProblem?: string;
  }> {
    return [...this.watched.values()].map((entry) => ({
      path: entry.path,
      explicit: entry.explicit,
      state: entry.state,
      identity: entry.state === 'connected' ? this.ports.get(entry.path)?.identity : undefined,
      lastProblem: entry.lastReport,
    }));
  }

  /** Stops scanning and retrying and closes every box; resolves when no port is left open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timers.clearTimeout(this.scanTimer);
    for (const entry of this.watched.values()) this.timers.clearTimeout(entry.retryTimer);
    await Promise.allSettled([...this.opening]);
    await Promise.allSettled([...this.ports.values()].map((port) => port.surface?.close()));
  }

  private emit<E extends keyof KnobBoxWatcherEvents>(event: E, ...args: KnobBoxWatcherEvents[E]): void {
    for (const listener of [...this.listeners[event]]) {
      try {
        listener(...args);
      } catch {
        // A listener's failure is the listener's business; the other listeners still hear it.
      }
    }
  }

  private attempt(entry: Watched): void {
    if (this.closed) return;
    entry.retryTimer = undefined;
    entry.state = 'opening';
    const opening = this.settings
      .open(entry.path, this.settings.surface)
      .then(
        (surface) => this.opened(entry, surface),
        (error: unknown) => this.failed(entry, error instanceof Error ? error : new Error(String(error))),
      )
      .finally(() => this.opening.delete(opening));
    this.opening.add(opening);
  }

  private portFor(path: string): KnobBoxPort {
    let port = this.ports.get(path);
    if (!port) {
      const created = new KnobBoxPort(path);
      created.onUserClose(() => {
        const entry = this.watched.get(path);
        if (entry) this.timers.clearTimeout(entry.retryTimer);
        this.watched.delete(path);
      });
      this.ports.set(path, created);
      port = created;
    }
    return port;
  }

  private async opened(entry: Watched, surface: KnobBoxSurface): Promise<void> {
    const port = this.portFor(entry.path);
    if (this.closed || port.closed || this.watched.get(entry.path) !== entry) {
      await surface.close();
      return;
    }
    entry.state = 'connected';
    entry.failures = 0;
    entry.lastReport = undefined;
    port.attach(surface);
    surface.onProblem((message, badLines) => this.emit('problem', port, message, badLines));
    surface.onClose((reason) => {
      this.emit('disconnected', port, reason);
      if (this.closed || port.closed || this.watched.get(entry.path) !== entry) return;
      this.scheduleRetry(entry);
    });
    // The box may have gone between the handshake and here; onClose has then already run.
    if (!surface.isOpen) return;
    this.emit('connected', port);
  }

  private failed(entry: Watched, error: Error): void {
    if (this.closed || this.watched.get(entry.path) !== entry) return;
    entry.failures++;
    const report = error.message;
    const fresh = report !== entry.lastReport;
    entry.lastReport = report;
    if (error instanceof NotAKnobBoxError) {
      if (fresh) this.emit('rejected', entry.path, error.reason);
      // A scanned port that is something else stays left alone until it is unplugged.
      if (!entry.explicit) {
        entry.state = 'rejected';
        return;
      }
    } else if (fresh) {
      this.emit('error', entry.path, error);
    }
    this.scheduleRetry(entry);
  }

  private scheduleRetry(entry: Watched): void {
    entry.state = 'waiting';
    const delayMs = Math.min(
      this.settings.backoffMaxMs,
      this.settings.backoffInitialMs * 2 ** Math.max(0, entry.failures - 1),
    );
    // An unplugged scanned box leaves the port list, so the scan drops it instead of retrying
    // a device node that is gone; an explicit path is the user's word that a box belongs there.
    if (entry.explicit) entry.retryTimer = this.timers.setTimeout(() => this.attempt(entry), delayMs);
    else entry.notBefore = this.timers.now() + delayMs;
  }

  private async scan(): Promise<void> {
    if (this.closed || this.scanning) return;
    this.scanning = true;
    try {
      const candidates = await this.settings.listCandidates();
      if (this.closed) return;
      this.lastScanError = undefined;
      const devices = new Map<string, string>();
      const resolve = this.settings.resolveDevice;
      for (const path of candidates) devices.set(path, await resolve(path));
      const explicitDevices = new Set(await Promise.all(this.settings.paths.map(resolve)));
      const knownDevices = new Set([...this.watched.values()].map((entry) => entry.device));
      for (const [path, device] of devices) {
        const known = this.watched.get(path);
        if (known && !known.explicit && known.state === 'waiting' && this.timers.now() >= known.notBefore)
          this.attempt(known);
        if (this.closed || known || explicitDevices.has(device) || knownDevices.has(device)) continue;
        const entry: Watched = { path, device, explicit: false, state: 'waiting', failures: 0, notBefore: 0 };
        this.watched.set(path, entry);
        knownDevices.add(device);
        this.attempt(entry);
      }
      // Unplugged ports leave the list; a rejected one gets a fresh chance if it comes back.
      for (const entry of [...this.watched.values()]) {
        if (
          entry.explicit ||
          devices.has(entry.path) ||
          entry.state === 'connected' ||
          entry.state === 'opening'
        )
          continue;
        this.timers.clearTimeout(entry.retryTimer);
        this.watched.delete(entry.path);
      }
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (failure.message !== this.lastScanError)
        this.emit('error', 'scan', new Error(`listing serial ports failed: ${failure.message}`));
      this.lastScanError = failure.message;
    } finally {
      this.scanning = false;
      if (!this.closed)
        this.scanTimer = this.timers.setTimeout(() => void this.scan(), this.settings.scanIntervalMs);
    }
  }
}

export interface KnobBoxProbe {
  path: string;
  identity?: KnobBoxIdentity;
  /** Why the port is not (or not usable as) a knob box. */
  problem?: string;
}

/** One look at every candidate port, for `rig surfaces`: handshake, note who answered, close. */
export async function probeKnobBoxes(
  options: { paths?: readonly string[]; scan?: boolean; surface?: KnobBoxSurfaceOptions } = {},
): Promise<KnobBoxProbe[]> {
  const paths = [...(options.paths ?? [])];
  if (options.scan ?? true) {
    const explicitDevices = new Set(await Promise.all(paths.map((path) => realpath(path).catch(() => path))));
    for (const path of await listSerialCandidates()) {
      if (!explicitDevices.has(await realpath(path).catch(() => path))) paths.push(path);
    }
  }
  return Promise.all(
    paths.map(async (path): Promise<KnobBoxProbe> => {
      try {
        const surface = await KnobBoxSurface.open(path, { heartbeatMs: 0, ...options.surface });
        const identity = surface.identity;
        await surface.close();
        return { path, identity };
      } catch (error) {
        return {
          path,
          problem:
            error instanceof NotAKnobBoxError
              ? error.reason
              : error instanceof Error
                ? error.message
                : String(error),
        };
      }
    }),
  );
}
