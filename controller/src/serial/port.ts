/**
 * One knob-box port as the rest of the rig sees it: id `serial:<path>`, outliving every unplug.
 * Each connection is a fresh KnobBoxSurface (a new handshake, perhaps new firmware); this object
 * carries the listeners across them, so the mapping engine and the parameter-store origin stay
 * the same when the box comes back, as a MIDI surface's do.
 */
import type { ControlEvent, FeedbackMessage, SurfaceAdapter } from '../events.ts';
import type { KnobBoxIdentity, KnobBoxSurface } from './knob-box-surface.ts';

export class KnobBoxPort implements SurfaceAdapter {
  readonly id: string;
  readonly kind = 'serial' as const;
  private current: KnobBoxSurface | undefined;
  private lastIdentity: KnobBoxIdentity | undefined;
  private closedByUser = false;
  private readonly eventListeners: Array<(event: ControlEvent) => void> = [];
  private readonly closeListeners: Array<() => void> = [];

  constructor(readonly path: string) {
    this.id = `serial:${path}`;
  }

  /** The box's handshake identity while connected, else the path. */
  get name(): string {
    return this.current?.name ?? this.path;
  }

  get connected(): boolean {
    return this.current?.isOpen ?? false;
  }

  /** The live connection, for its statistics; undefined while unplugged. */
  get surface(): KnobBoxSurface | undefined {
    return this.current;
  }

  /** Who answered the last handshake (kept while unplugged, for status displays). */
  get identity(): KnobBoxIdentity | undefined {
    return this.current?.identity ?? this.lastIdentity;
  }

  /** True once close() was called: the watcher stops reconnecting this port. */
  get closed(): boolean {
    return this.closedByUser;
  }

  onEvent(listener: (event: ControlEvent) => void): void {
    this.eventListeners.push(listener);
    this.current?.onEvent(listener);
  }

  /** Dropped while unplugged: the mapping engine re-sends everything (syncAll) on reconnect. */
  send(message: FeedbackMessage): void {
    this.current?.send(message);
  }

  /** Closes the connection and keeps it closed. */
  async close(): Promise<void> {
    this.closedByUser = true;
    for (const listener of this.closeListeners) listener();
    await this.current?.close();
  }

  /** The watcher hands over a new connection. */
  attach(surface: KnobBoxSurface): void {
    this.current = surface;
    this.lastIdentity = surface.identity;
    for (const listener of this.eventListeners) surface.onEvent(listener);
    surface.onClose(() => {
      if (this.current === surface) this.current = undefined;
    });
  }

  /** For the watcher: told when the user closes the port. */
  onUserClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }
}
