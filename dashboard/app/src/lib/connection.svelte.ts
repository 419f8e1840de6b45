/**
 * The page's one WebSocket to the rig (dashboard/protocol.ts): the hello's schema and values,
 * parameter batches and status as reactive state; meter frames as plain data the canvases read
 * on their own clock, so a 60 Hz stream never goes through the component tree.
 */
import type { ParameterSpec } from '../../../../engine/src/browser-safe.ts';
import type { ClientMessage, ServerMessage, SlotName, StatusMessage } from '../../../protocol.ts';
import { MeterFrame } from './meter-frame.ts';
import { MeterHistory } from './meter-history.ts';

export type Status = Omit<StatusMessage, 'type'>;
export type Presets = Extract<ServerMessage, { type: 'hello' }>['presets'];
export type ConnectionState = 'connecting' | 'open' | 'closed';
/** Requests whose controls show the server's refusal next to themselves rather than in the toast. */
export type AnsweredRequest = 'save' | 'recall' | 'learn';

/**
 * Which request an `error` frame answers: the server starts each message with the request's
 * type (`save: ...`, `save.name: ...`, `learnCancel: ...`); a cancelled learn belongs to learn.
 */
export function answeredRequest(message: string): AnsweredRequest | null {
  const type = /^([a-zA-Z]+)[.:]/.exec(message)?.[1];
  if (type === 'save' || type === 'recall' || type === 'learn') return type;
  if (type === 'learnCancel') return 'learn';
  return null;
}

/** How often the numeric readouts re-render: steady enough to read, far below the stream rate. */
const READOUT_INTERVAL_MS = 100;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 8000;
const PING_INTERVAL_MS = 2000;
/** Knob drags and wheel spins are coalesced to this rate; the server batches per tick anyway. */
const SEND_INTERVAL_MS = 16;

export class RigConnection {
  state = $state<ConnectionState>('connecting');
  /** Why the last connection ended, shown in the banner. */
  closeReason = $state('');
  retryAt = $state(0);
  attempts = $state(0);
  clientId = $state('');
  parameters = $state.raw<readonly ParameterSpec[]>([]);
  values = $state<Record<string, number>>({});
  /** Who made the last change to each parameter (a controller's turn shows which surface). */
  origins = $state<Record<string, string>>({});
  presets = $state.raw<Presets>({});
  status = $state.raw<Status | null>(null);
  /** The latest meter frame, copied at READOUT_INTERVAL_MS for the numbers on the page. */
  readout = $state.raw<MeterFrame | null>(null);
  roundTripMs = $state<number | null>(null);
  /** The last `error` the server sent (an invalid value, an unknown snapshot...), for a toast. */
  serverError = $state<{ message: string; at: number } | null>(null);
  learned = $state<{ id: string; surface: string; control: string; at: number } | null>(null);
  /** The server's last refusal of each AnsweredRequest, its type prefix dropped (the control says it); cleared by the next try. */
  requestErrors = $state<Partial<Record<AnsweredRequest, { message: string; at: number }>>>({});

  /** The newest frame; the canvases compare `frameSeq` to know whether to redraw. */
  frame: MeterFrame | null = null;
  frameSeq = 0;
  readonly history = new MeterHistory();

  private socket: WebSocket | null = null;
  private layout: MeterFrame['layout'] | null = null;
  private lastReadoutAt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private sendTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pendingSets = new Map<string, number>();
  private closedByPage = false;

  constructor(private readonly url: string) {}

  /** ws(s)://<this host>/ws, carrying the page's `token` query parameter when it has one. */
  static urlForPage(location: Location): string {
    const url = new URL('ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.pathname = '/ws';
    url.search = '';
    url.hash = '';
    const token = new URLSearchParams(location.search).get('token');
    if (token) url.searchParams.set('token', token);
    return url.toString();
  }

  open(): void {
    this.closedByPage = false;
    this.state = 'connecting';
    const socket = new WebSocket(this.url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => {
      this.attempts = 0;
      const ping = () => this.send({ type: 'ping', t: performance.now() });
      ping();
      this.pingTimer = setInterval(ping, PING_INTERVAL_MS);
    };
    socket.onmessage = (event) => {
      if (event.data instanceof ArrayBuffer) this.receiveFrame(event.data);
      else this.receiveMessage(String(event.data));
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      clearInterval(this.pingTimer);
      this.state = 'closed';
      this.closeReason =
        event.reason || (event.code === 1006 ? 'the rig is not answering' : `closed (${event.code})`);
      if (!this.closedByPage) this.scheduleRetry();
    };
  }

  close(): void {
    this.closedByPage = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.socket?.close();
  }

  send(message: ClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** Sets a parameter, coalescing a burst of moves of the same knob into one message per interval. */
  set(id: string, value: number): void {
    this.values[id] = value;
    this.pendingSets.set(id, value);
    this.sendTimer ??= setTimeout(() => {
      this.sendTimer = undefined;
      for (const [pendingId, pendingValue] of this.pendingSets)
        this.send({ type: 'set', id: pendingId, value: pendingValue });
      this.pendingSets.clear();
    }, SEND_INTERVAL_MS);
  }

  bypass(on: boolean): void {
    this.send({ type: 'bypass', on });
  }

  slot(slot: SlotName): void {
    this.send({ type: 'slot', slot });
  }

  save(name: string, notes: string): void {
    delete this.requestErrors.save;
    this.send(notes ? { type: 'save', name, notes } : { type: 'save', name });
  }

  recall(name: string): void {
    delete this.requestErrors.recall;
    this.send({ type: 'recall', name });
  }

  learn(id: string): void {
    delete this.requestErrors.learn;
    this.send({ type: 'learn', id });
  }

  learnCancel(): void {
    delete this.requestErrors.learn;
    this.send({ type: 'learnCancel' });
  }

  resetMeters(): void {
    this.send({ type: 'resetMeters' });
    this.history.clear();
  }

  private scheduleRetry(): void {
    // Exponential backoff with jitter, so twenty pages do not all knock at the same instant.
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.attempts) * (0.8 + Math.random() * 0.4);
    this.attempts += 1;
    this.retryAt = Date.now() + delay;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private receiveFrame(data: ArrayBuffer): void {
    if (!this.layout || data.byteLength !== this.layout.length * 4) return;
    const frame = new MeterFrame(new Float32Array(data), this.layout);
    const now = performance.now();
    this.frame = frame;
    this.frameSeq += 1;
    this.history.push(frame, now);
    if (now - this.lastReadoutAt >= READOUT_INTERVAL_MS) {
      this.lastReadoutAt = now;
      this.readout = frame;
    }
  }

  private receiveMessage(text: string): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(text) as ServerMessage;
    } catch {
      this.serverError = {
        message: `the rig sent a frame that is not JSON: ${text.slice(0, 80)}`,
        at: Date.now(),
      };
      return;
    }
    switch (message.type) {
      case 'hello':
        this.clientId = message.clientId;
        this.layout = message.meterLayout;
        this.parameters = message.parameters;
        this.values = { ...message.values };
        this.origins = {};
        this.presets = message.presets;
        this.status = message.status;
        this.state = 'open';
        break;
      case 'params':
        for (const change of message.changes) {
          // A knob still being moved here keeps its own value until the burst has been sent.
          if (!this.pendingSets.has(change.id)) this.values[change.id] = change.value;
          this.origins[change.id] = change.origin;
        }
        break;
      case 'status': {
        const { type: _type, ...status } = message;
        this.status = status;
        break;
      }
      case 'learned':
        this.learned = { ...message, at: Date.now() };
        break;
      case 'error': {
        const request = answeredRequest(message.message);
        if (request)
          this.requestErrors[request] = {
            message: message.message.replace(/^[a-zA-Z]+(:\s*|\.)/, ''),
            at: Date.now(),
          };
        else this.serverError = { message: message.message, at: Date.now() };
        break;
      }
      case 'pong':
        this.roundTripMs = performance.now() - message.t;
        break;
    }
  }
}
