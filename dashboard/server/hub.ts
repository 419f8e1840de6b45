/**
 * The connected dashboards: what each is told (hello, batched parameter changes, status, meter
 * frames), what each may ask (validated messages, rate-limited), and when one is cut off (abuse,
 * a dead connection, a reader too slow to keep up). One misbehaving client never disturbs the
 * others, and no client can make the server hold more than a bounded amount of memory.
 */
import { randomBytes } from 'node:crypto';
import { WebSocket, type RawData } from 'ws';
import {
  METER_FRAME_LENGTH,
  METER_LAYOUT,
  PARAMETERS,
  PRESETS,
  type ParameterStore,
} from '../../engine/src/index.ts';
import {
  PROTOCOL_VERSION,
  type ClientMessage,
  type ParameterUpdate,
  type ServerMessage,
  type SlotName,
  type StatusMessage,
} from '../protocol.ts';
import { ClientLimiter, type ClientLimitOptions } from './rate-limit.ts';
import { ProtocolError, parseClientMessage, type ErrorCode } from './validate.ts';

export type DashboardStatus = Omit<StatusMessage, 'type'>;

/** What the dashboard can ask of the rig beyond setting parameters. Each may throw; its message goes back to the client. */
export interface DashboardActions {
  slot(slot: SlotName): void | Promise<void>;
  ab(): void | Promise<void>;
  undo(): void | Promise<void>;
  redo(): void | Promise<void>;
  recall(name: string): void | Promise<void>;
  save(name: string, notes?: string): void | Promise<void>;
  learn(id: string): void | Promise<void>;
  learnCancel(): void | Promise<void>;
  target(preset: string | null, lufs?: number, ceilingDbtp?: number): void | Promise<void>;
  resetMeters(): void | Promise<void>;
}

export interface HubOptions {
  store: ParameterStore;
  readMeters: (into: Float32Array) => Float32Array;
  status: () => DashboardStatus;
  actions: Partial<DashboardActions>;
  limits: ClientLimitOptions;
}

/** The origin a client's parameter changes carry in the store. */
export const dashboardOrigin = (clientId: string): string => `dashboard:${clientId}`;

// About a dozen meter frames: a reader further behind than this skips frames until it catches up
// (stale meters are worthless), so its queue never grows with time.
export const METER_BACKLOG_BYTES = 8 * 1024;
// Control frames are never skipped (a missed parameter change would leave a knob wrong), but a
// client this far behind is not reading at all and is dropped.
export const MAX_CLIENT_BACKLOG_BYTES = 1024 * 1024;
// Status is rebuilt a few times a second, sent on change, and re-sent this often regardless so
// a client that missed nothing still sees the rig alive.
const STATUS_POLL_MS = 250;
const STATUS_REFRESH_MS = 5000;
// WebSocket close reasons are limited to 123 bytes.
const MAX_CLOSE_REASON = 120;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface Client {
  readonly id: string;
  readonly socket: WebSocket;
  readonly limiter: ClientLimiter;
  /** Answered the last heartbeat ping. */
  alive: boolean;
}

export class DashboardHub {
  private readonly clients = new Map<string, Client>();
  private readonly pending = new Map<string, ParameterUpdate>();
  private readonly unsubscribe: () => void;
  private lastStatusJson = '';
  private lastStatusSentAt = 0;
  private lastStatusPollAt = -Infinity;
  private lastStatus?: DashboardStatus;

  constructor(private readonly options: HubOptions) {
    this.unsubscribe = options.store.subscribe((change) => {
      // Coalesced per id until the next tick: a knob turned fast is one update per frame, the last one.
      if (this.clients.size > 0)
        this.pending.set(change.id, { id: change.id, value: change.value, origin: change.origin });
    });
  }

  get clientCount(): number {
    return this.clients.size;
  }

  add(socket: WebSocket): void {
    const id = randomBytes(4).toString('hex');
    const client: Client = {
      id,
      socket,
      limiter: new ClientLimiter(this.options.limits, performance.now()),
      alive: true,
    };
    this.clients.set(id, client);
    socket.on('message', (data, isBinary) => this.receive(client, data, isBinary));
    socket.on('pong', () => (client.alive = true));
    // Oversized frames (ws closes them with 1009) and broken sockets land here; the close follows.
    socket.on('error', () => undefined);
    socket.on('close', () => this.clients.delete(id));
    this.send(client, {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      clientId: id,
      parameters: PARAMETERS,
      values: this.options.store.snapshot(),
      meterLayout: METER_LAYOUT,
      presets: Object.fromEntries(
        Object.entries(PRESETS).map(([name, p]) => [
          name,
          { targetLufs: p.targetLufs, ceilingDbtp: p.ceilingDbtp, note: p.note },
        ]),
      ),
      status: this.currentStatus(),
    });
  }

  /** One meter tick: the parameter changes since the last, the status when due, one meter frame. */
  tick(now = performance.now()): void {
    if (this.clients.size === 0) return;
    if (this.pending.size > 0) {
      this.broadcastText(
        JSON.stringify({ type: 'params', changes: [...this.pending.values()] } satisfies ServerMessage),
      );
      this.pending.clear();
    }
    if (now - this.lastStatusPollAt >= STATUS_POLL_MS) this.publishStatus(now);
    this.broadcastMeters();
  }

  /** Pings everyone; whoever did not answer the previous ping is gone (a laptop closed, a cable pulled). */
  heartbeat(): void {
    for (const client of this.clients.values()) {
      if (!client.alive) {
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }

  broadcast(message: ServerMessage): void {
    this.broadcastText(JSON.stringify(message));
  }

  /** Closes every client (1001, going away); stragglers are cut off after `graceMs`. */
  async close(graceMs = 1000): Promise<void> {
    this.unsubscribe();
    const closed = [...this.clients.values()].map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.socket.readyState === WebSocket.CLOSED) return resolve();
          client.socket.once('close', () => resolve());
          client.socket.close(1001, 'the rig is shutting down');
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(closed), grace]);
    clearTimeout(timer);
    for (const client of this.clients.values()) client.socket.terminate();
    this.clients.clear();
  }

  private currentStatus(): DashboardStatus {
    try {
      this.lastStatus = this.options.status();
    } catch {
      // A status source that fails keeps the last good status on screen; the rig goes on.
    }
    return (
      this.lastStatus ?? {
        engine: {
          device: '',
          state: 'stopped',
          sampleRate: 0,
          blockFrames: 0,
          chainLatencyMs: 0,
          ioLatencyMs: 0,
        },
        surfaces: [],
        slot: 'A',
        snapshots: [],
        target: { preset: null, lufs: null, ceilingDbtp: null },
        learning: null,
      }
    );
  }

  private publishStatus(now: number): void {
    this.lastStatusPollAt = now;
    const json = JSON.stringify({ type: 'status', ...this.currentStatus() } satisfies ServerMessage);
    if (json === this.lastStatusJson && now - this.lastStatusSentAt < STATUS_REFRESH_MS) return;
    this.lastStatusJson = json;
    this.lastStatusSentAt = now;
    this.broadcastText(json);
  }

  private broadcastMeters(): void {
    // A fresh buffer every tick, shared by all clients: a socket that has not flushed yet still
    // holds the previous one, which must not change under it.
    const frame = this.options.readMeters(new Float32Array(METER_FRAME_LENGTH));
    const bytes = Buffer.from(frame.buffer, frame.byteOffset, METER_FRAME_LENGTH * 4);
    if (!LITTLE_ENDIAN_HOST) bytes.swap32();
    for (const client of this.clients.values()) {
      if (client.socket.readyState !== WebSocket.OPEN) continue;
      if (client.socket.bufferedAmount > METER_BACKLOG_BYTES) {
        if (client.socket.bufferedAmount > MAX_CLIENT_BACKLOG_BYTES) client.socket.terminate();
        continue;
      }
      client.socket.send(bytes, { binary: true });
    }
  }

  private broadcastText(text: string): void {
    for (const client of this.clients.values()) this.sendText(client, text);
  }

  private send(client: Client, message: ServerMessage): void {
    this.sendText(client, JSON.stringify(message));
  }

  private sendText(client: Client, text: string): void {
    if (client.socket.readyState !== WebSocket.OPEN) return;
    if (client.socket.bufferedAmount > MAX_CLIENT_BACKLOG_BYTES) {
      client.socket.terminate();
      return;
    }
    client.socket.send(text);
  }

  private sendError(client: Client, code: ErrorCode, message: string): void {
    this.send(client, { type: 'error', code, message });
  }

  private disconnect(client: Client, reason: string): void {
    client.socket.close(1008, reason.slice(0, MAX_CLOSE_REASON));
    // A client flooding us is not going to answer the close handshake promptly; stop reading it now.
    this.clients.delete(client.id);
    setTimeout(() => client.socket.terminate(), 1000).unref();
  }

  private receive(client: Client, data: RawData, isBinary: boolean): void {
    if (!this.clients.has(client.id)) return;
    const now = performance.now();
    const admission = client.limiter.admit(now);
    if (admission !== 'accept') {
      if ('disconnect' in admission) this.disconnect(client, admission.disconnect);
      else if (admission.notify)
        this.sendError(
          client,
          'rate-limited',
          `more than ${this.options.limits.messagesPerSecond} messages per second: the excess is dropped`,
        );
      return;
    }
    let message: ClientMessage;
    try {
      if (isBinary) throw new ProtocolError('binary-frame', 'binary frames are not accepted: send JSON text');
      message = parseClientMessage(
        Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8'),
      );
    } catch (error) {
      const problem = error instanceof ProtocolError ? error : new ProtocolError('bad-json', String(error));
      this.sendError(client, problem.code, problem.message);
      const tooMany = client.limiter.recordInvalid(now);
      if (tooMany) this.disconnect(client, tooMany);
      return;
    }
    void this.dispatch(client, message);
  }

  private async dispatch(client: Client, message: ClientMessage): Promise<void> {
    const origin = dashboardOrigin(client.id);
    const { store, actions } = this.options;
    try {
      switch (message.type) {
        case 'set':
          store.set(message.id, message.value, origin);
          return;
        case 'bypass':
          store.set('chain.bypass', message.on ? 1 : 0, origin);
          return;
        case 'ping':
          this.send(client, { type: 'pong', t: message.t });
          return;
        case 'slot':
          await this.act('slot', () => actions.slot?.(message.slot));
          break;
        case 'recall':
          await this.act('recall', () => actions.recall?.(message.name));
          break;
        case 'save':
          await this.act('save', () => actions.save?.(message.name, message.notes));
          break;
        case 'learn':
          await this.act('learn', () => actions.learn?.(message.id));
          break;
        case 'target':
          await this.act('target', () => actions.target?.(message.preset, message.lufs, message.ceilingDbtp));
          break;
        case 'ab':
        case 'undo':
        case 'redo':
        case 'learnCancel':
        case 'resetMeters': {
          const action = actions[message.type];
          await this.act(message.type, () => action?.());
          break;
        }
      }
      // An action usually changes the status (slot, snapshots, learning): show it now, not at the next poll.
      this.publishStatus(performance.now());
    } catch (error) {
      const code: ErrorCode = error instanceof ProtocolError ? error.code : 'action-failed';
      this.sendError(client, code, `${message.type}: ${(error as Error).message ?? String(error)}`);
    }
  }

  private async act(type: keyof DashboardActions, run: () => void | Promise<void>): Promise<void> {
    if (!this.options.actions[type]) throw new ProtocolError('unavailable', 'not available in this rig');
    await run();
  }
}
