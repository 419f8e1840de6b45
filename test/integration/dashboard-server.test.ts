/** The dashboard server over real sockets: real ws clients, real HTTP requests, a real engine for the rig wiring. */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  MAX_CLIENT_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  type ServerMessage,
  type SlotName,
} from '../../dashboard/protocol.ts';
import {
  startDashboard,
  startRigDashboard,
  type DashboardOptions,
  type DashboardServer,
  type DashboardStatus,
} from '../../dashboard/server/index.ts';
import { METER_FRAME_LENGTH, METER_LAYOUT } from '../../engine/src/meter-layout.ts';
import { ParameterStore } from '../../engine/src/parameter-store.ts';
import { PARAMETERS } from '../../engine/src/params.ts';
import { PRESETS } from '../../engine/src/presets.ts';
import { LiveAudio } from '../../engine/src/realtime/live-audio.ts';
import { RecallManager } from '../../engine/src/recall/recall.ts';
import { SnapshotDatabase } from '../../engine/src/recall/snapshot-db.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-dashboard-'));
const staticDir = path.join(dir, 'dist');
const INDEX_HTML = '<!doctype html><title>rig test page</title>';
const SECRET = 'not for the browser';
beforeAll(() => {
  fs.mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(staticDir, 'index.html'), INDEX_HTML);
  fs.writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log("rig");');
  fs.writeFileSync(path.join(staticDir, 'assets', 'app.css'), 'body{}');
  fs.writeFileSync(path.join(staticDir, '.env'), SECRET);
  fs.writeFileSync(path.join(dir, 'secret.txt'), SECRET);
  fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(staticDir, 'assets', 'linked.txt'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A meter source as the engine would be: a frame the test rewrites, copied out on each read. */
class MeterSource {
  readonly frame = new Float32Array(METER_FRAME_LENGTH);
  reads = 0;
  constructor() {
    for (let i = 0; i < this.frame.length; i++) this.frame[i] = -60 + i * 0.25;
  }
  read = (into: Float32Array): Float32Array => {
    this.reads++;
    into.set(this.frame);
    return into;
  };
}

function statusWith(slot: SlotName, snapshots: string[] = []): DashboardStatus {
  return {
    engine: {
      device: 'test source',
      state: 'demo',
      sampleRate: 48000,
      blockFrames: 512,
      chainLatencyMs: 8,
      ioLatencyMs: 10.7,
    },
    surfaces: [],
    slot,
    snapshots,
    target: { preset: null, lufs: null, ceilingDbtp: null },
    learning: null,
  };
}

/** A real ws client that keeps everything it receives. */
class TestClient {
  readonly messages: ServerMessage[] = [];
  readonly frames: Buffer[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.frames.push(Buffer.from(data));
      else this.messages.push(JSON.parse(data.toString('utf8')));
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static async open(
    server: DashboardServer,
    { origin = `http://127.0.0.1:${server.port}`, token }: { origin?: string | null; token?: string } = {},
  ): Promise<TestClient> {
    const url = `ws://127.0.0.1:${server.port}/ws${token ? `?token=${token}` : ''}`;
    const socket = new WebSocket(url, origin === null ? {} : { origin });
    const client = new TestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    await client.next((m) => m.type === 'hello');
    return client;
  }

  get hello(): Extract<ServerMessage, { type: 'hello' }> {
    return this.messages.find((m) => m.type === 'hello') as Extract<ServerMessage, { type: 'hello' }>;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first message (received so far or later) that matches. */
  async next<T extends ServerMessage>(match: (m: ServerMessage) => boolean, timeoutMs = 3000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found as T;
      if (Date.now() > deadline)
        throw new Error(
          `no matching message in ${timeoutMs} ms; got ${JSON.stringify(this.messages.map((m) => m.type))}`,
        );
      await Promise.race([new Promise<void>((resolve) => this.waiters.push(resolve)), sleep(50)]);
    }
  }

  /** The first error with this code (and, when given, about this message type). */
  async error(code: string, about?: string): Promise<Extract<ServerMessage, { type: 'error' }>> {
    return this.next(
      (m) => m.type === 'error' && m.code === code && (!about || m.message.startsWith(`${about}:`)),
    );
  }

  /** How many meter frames arrive within `ms`. */
  async framesDuring(ms: number): Promise<number> {
    const before = this.frames.length;
    await sleep(ms);
    return this.frames.length - before;
  }

  close(): void {
    this.socket.terminate();
  }
}

/** The HTTP status an upgrade attempt is answered with (101 when it opens). */
function upgradeStatus(
  port: number,
  { origin, token, pathname = '/ws' }: { origin?: string; token?: string; pathname?: string },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(
      `ws://127.0.0.1:${port}${pathname}${token ? `?token=${token}` : ''}`,
      origin ? { origin } : {},
    );
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      resolve(101);
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

/** A raw GET: the path goes out exactly as written (fetch and URL would normalise `..`). */
function get(
  port: number,
  rawPath: string,
  method = 'GET',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: rawPath, method }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk) => (body += chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

const servers: DashboardServer[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(
  options: Partial<DashboardOptions> = {},
): Promise<{ server: DashboardServer; store: ParameterStore; meters: MeterSource }> {
  const store = options.store ?? new ParameterStore();
  const meters = new MeterSource();
  const server = await startDashboard({
    store,
    readMeters: meters.read,
    status: () => statusWith('A'),
    host: '127.0.0.1',
    port: 0,
    staticDir,
    ...options,
  });
  servers.push(server);
  return { server, store, meters };
}

async function connect(
  server: DashboardServer,
  options?: Parameters<typeof TestClient.open>[1],
): Promise<TestClient> {
  const client = await TestClient.open(server, options);
  clients.push(client);
  return client;
}

describe('dashboard socket: what clients are told', () => {
  it('greets a client with the protocol, its id, the schema, current values, meter layout, presets and status', async () => {
    const store = new ParameterStore({ 'comp.threshold': -21 });
    const { server } = await serve({ store });
    const hello = (await connect(server)).hello;
    expect(hello.protocol).toBe(PROTOCOL_VERSION);
    expect(hello.clientId).toMatch(/^[0-9a-f]{8}$/);
    expect(hello.parameters.map((p) => p.id)).toEqual(PARAMETERS.map((p) => p.id));
    expect(hello.parameters.find((p) => p.id === 'comp.ratio')?.steps).toEqual(
      PARAMETERS.find((p) => p.id === 'comp.ratio')?.steps,
    );
    expect(hello.values).toEqual(store.snapshot());
    expect(hello.values['comp.threshold']).toBe(-21);
    expect(hello.meterLayout).toEqual(JSON.parse(JSON.stringify(METER_LAYOUT)));
    expect(hello.meterLayout.length).toBe(METER_FRAME_LENGTH);
    expect(Object.keys(hello.presets)).toEqual(Object.keys(PRESETS));
    expect(hello.presets.spotify).toEqual({
      targetLufs: PRESETS.spotify.targetLufs,
      ceilingDbtp: PRESETS.spotify.ceilingDbtp,
      note: PRESETS.spotify.note,
    });
    expect(hello.status).toEqual(statusWith('A'));
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    expect(server.clientCount()).toBe(1);
  });

  it('gives each client its own id', async () => {
    const { server } = await serve();
    const [a, b] = await Promise.all([connect(server), connect(server)]);
    expect(a.hello.clientId).not.toBe(b.hello.clientId);
    expect(server.clientCount()).toBe(2);
  });

  it('applies a set from one client and shows it on the other with that client as origin', async () => {
    const { server, store } = await serve();
    const [one, two] = await Promise.all([connect(server), connect(server)]);
    one.send({ type: 'set', id: 'comp.threshold', value: -27.5 });
    const seen = await two.next<Extract<ServerMessage, { type: 'params' }>>(
      (m) => m.type === 'params' && m.changes.some((c) => c.id === 'comp.threshold'),
    );
    expect(seen.changes).toContainEqual({
      id: 'comp.threshold',
      value: -27.5,
      origin: `dashboard:${one.hello.clientId}`,
    });
    expect(store.get('comp.threshold')).toBe(-27.5);
    // The sender hears its own change too; the origin tells it that it was its own.
    const echoed = await one.next<Extract<ServerMessage, { type: 'params' }>>((m) => m.type === 'params');
    expect(echoed.changes[0].origin).toBe(`dashboard:${one.hello.clientId}`);
  });

  it('sends a change made elsewhere (a controller) to every client with its origin', async () => {
    const { server, store } = await serve();
    const [one, two] = await Promise.all([connect(server), connect(server)]);
    store.set('comp.ratio', 4, 'controller:x-touch');
    for (const client of [one, two]) {
      const seen = await client.next<Extract<ServerMessage, { type: 'params' }>>((m) => m.type === 'params');
      expect(seen.changes).toEqual([{ id: 'comp.ratio', value: 4, origin: 'controller:x-touch' }]);
    }
  });

  it('batches a burst of changes into one message per tick, one entry per parameter with its last value and origin', async () => {
    const { server, store } = await serve();
    const client = await connect(server);
    for (let i = 1; i <= 50; i++) store.set('input.trim', i / 10, 'controller:knob');
    store.set('output.trim', -3, 'cli');
    store.set('input.trim', -1, 'recall');
    const batch = await client.next<Extract<ServerMessage, { type: 'params' }>>((m) => m.type === 'params');
    expect(batch.changes).toEqual([
      { id: 'input.trim', value: -1, origin: 'recall' },
      { id: 'output.trim', value: -3, origin: 'cli' },
    ]);
  });

  it('turns the level-matched bypass on and off', async () => {
    const { server, store } = await serve();
    const client = await connect(server);
    client.send({ type: 'bypass', on: true });
    await client.next(
      (m) => m.type === 'params' && m.changes.some((c) => c.id === 'chain.bypass' && c.value === 1),
    );
    expect(store.get('chain.bypass')).toBe(1);
  });

  it('answers a ping with its own timestamp', async () => {
    const { server } = await serve();
    const client = await connect(server);
    client.send({ type: 'ping', t: 4242.5 });
    expect(await client.next((m) => m.type === 'pong')).toEqual({ type: 'pong', t: 4242.5 });
  });

  it('sends meter frames at the configured rate, exactly the layout in length, carrying the current frame', async () => {
    const { server, meters } = await serve({ meterHz: 20 });
    const client = await connect(server);
    const count = await client.framesDuring(2000);
    // 40 frames in 2 s at 20 Hz; timers on a loaded two-core machine run late, never early.
    expect(count).toBeGreaterThanOrEqual(20);
    expect(count).toBeLessThanOrEqual(42);
    for (const frame of client.frames) expect(frame.byteLength).toBe(METER_FRAME_LENGTH * 4);
    meters.frame[METER_LAYOUT.offsets['output.momentaryLufs']] = -9.25;
    const before = client.frames.length;
    await sleep(200);
    const latest = client.frames[client.frames.length - 1];
    expect(client.frames.length).toBeGreaterThan(before);
    const decoded = new Float32Array(METER_FRAME_LENGTH).map((_, i) => latest.readFloatLE(i * 4));
    expect(decoded).toEqual(meters.frame);
  });

  it('clamps the meter rate to 10..60 Hz', async () => {
    const { server } = await serve({ meterHz: 1000 });
    const fast = await connect(server);
    // At most 60 in a second (plus one for a tick at the edge of the window).
    expect(await fast.framesDuring(1000)).toBeLessThanOrEqual(61);
  });

  it('sends status when it changes', async () => {
    let slot: SlotName = 'A';
    const { server } = await serve({ status: () => statusWith(slot) });
    const client = await connect(server);
    slot = 'C';
    const status = await client.next<Extract<ServerMessage, { type: 'status' }>>(
      (m) => m.type === 'status' && m.slot === 'C',
    );
    expect(status).toEqual({ type: 'status', ...statusWith('C') });
  });

  it('runs actions, shows their effect in the status at once, and returns their errors to the asking client only', async () => {
    let slot: SlotName = 'A';
    const snapshots: string[] = [];
    const { server } = await serve({
      status: () => statusWith(slot, snapshots),
      actions: {
        slot: (s) => void (slot = s),
        save: (name, notes) => void snapshots.push(`${name}|${notes ?? ''}`),
        recall: (name) => {
          throw new Error(`no snapshot named "${name}"`);
        },
      },
    });
    const [one, two] = await Promise.all([connect(server), connect(server)]);
    one.send({ type: 'slot', slot: 'D' });
    await two.next((m) => m.type === 'status' && m.slot === 'D');
    one.send({ type: 'save', name: 'loud', notes: 'for the club' });
    await two.next((m) => m.type === 'status' && m.snapshots.includes('loud|for the club'));
    one.send({ type: 'recall', name: 'missing' });
    expect(await one.error('action-failed')).toEqual({
      type: 'error',
      code: 'action-failed',
      message: 'recall: no snapshot named "missing"',
    });
    one.send({ type: 'undo' });
    expect((await one.error('unavailable')).message).toMatch(/^undo: not available/);
    await sleep(100);
    expect(two.messages.filter((m) => m.type === 'error')).toEqual([]);
  });

  it('broadcasts a message the rig sends (a learned binding)', async () => {
    const { server } = await serve();
    const [one, two] = await Promise.all([connect(server), connect(server)]);
    server.broadcast({ type: 'learned', id: 'comp.threshold', surface: 'x-touch', control: 'cc 16' });
    for (const client of [one, two]) await client.next((m) => m.type === 'learned');
  });

  it('closes every client with 1001 when the server closes', async () => {
    const { server } = await serve();
    const client = await connect(server);
    await server.close();
    expect((await client.closed).code).toBe(1001);
    expect(server.clientCount()).toBe(0);
  });
});

describe('dashboard socket: bad clients', () => {
  it('answers invalid frames with errors naming the problem and keeps serving the connection', async () => {
    const { server, store } = await serve();
    const client = await connect(server);
    client.send('{"type": "set", "id": ');
    expect((await client.error('bad-json')).message).toMatch(/not valid JSON/);
    client.send({ type: 'set', id: 'comp.ration', value: 3 });
    expect((await client.error('unknown-parameter')).message).toBe(
      'set.id: unknown parameter "comp.ration" (did you mean "comp.ratio"?)',
    );
    client.send({ type: 'explode' });
    expect((await client.error('unknown-type')).message).toMatch(/unknown message type "explode"/);
    client.socket.send(Buffer.from([1, 2, 3]));
    expect((await client.error('binary-frame')).message).toMatch(/binary frames are not accepted/);
    expect(store.get('comp.ratio')).toBe(PARAMETERS.find((p) => p.id === 'comp.ratio')!.default);
    client.send({ type: 'set', id: 'comp.ratio', value: 3 });
    await client.next(
      (m) => m.type === 'params' && m.changes.some((c) => c.id === 'comp.ratio' && c.value === 3),
    );
  });

  it('closes a client that sends an oversized frame (1009) while the others keep receiving meters', async () => {
    const { server } = await serve();
    const [big, other] = await Promise.all([connect(server), connect(server)]);
    big.send({ type: 'save', name: 'x', notes: 'n'.repeat(MAX_CLIENT_MESSAGE_BYTES) });
    expect((await big.closed).code).toBe(1009);
    expect(await other.framesDuring(500)).toBeGreaterThan(5);
    other.send({ type: 'ping', t: 1 });
    await other.next((m) => m.type === 'pong');
  });

  it('warns a client over the rate and keeps it connected', async () => {
    const { server } = await serve({ limits: { messagesPerSecond: 20, burst: 20, abuseFactor: 50 } });
    const client = await connect(server);
    for (let i = 0; i < 60; i++) client.send({ type: 'ping', t: i });
    expect((await client.error('rate-limited')).message).toMatch(/more than 20 messages per second/);
    await sleep(300);
    expect(client.messages.filter((m) => m.type === 'error' && m.code === 'rate-limited')).toHaveLength(1);
    // The burst got through, and no more than the few tokens refilled while the 60 were read.
    const pongs = client.messages.filter((m) => m.type === 'pong').length;
    expect(pongs).toBeGreaterThanOrEqual(20);
    expect(pongs).toBeLessThan(30);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('disconnects a flooding client (1008) without disturbing another', async () => {
    const { server, store } = await serve();
    const [flood, calm] = await Promise.all([connect(server), connect(server)]);
    for (let i = 0; i < 2000; i++) flood.send({ type: 'set', id: 'input.trim', value: (i % 20) - 10 });
    const closed = await flood.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/more than 500 messages in a second/);
    expect(await calm.framesDuring(500)).toBeGreaterThan(5);
    calm.send({ type: 'set', id: 'output.trim', value: -2 });
    await calm.next(
      (m) => m.type === 'params' && m.changes.some((c) => c.id === 'output.trim' && c.value === -2),
    );
    expect(store.get('output.trim')).toBe(-2);
    expect(server.clientCount()).toBe(1);
  });

  it('disconnects a client that keeps sending invalid frames (1008)', async () => {
    const { server } = await serve({ limits: { invalidBurst: 5, invalidPerSecond: 1 } });
    const client = await connect(server);
    for (let i = 0; i < 10; i++) client.send('nonsense');
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/invalid messages/);
  });

  it('drops a client that stops answering heartbeats', async () => {
    const { server } = await serve({ heartbeatMs: 150 });
    // A raw socket that completes the handshake and then never reads or answers: a vanished laptop.
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `GET /ws?token=${server.token} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const response = await new Promise<string>((resolve) =>
      socket.once('data', (d) => resolve(d.toString('latin1'))),
    );
    expect(response).toMatch(/^HTTP\/1\.1 101/);
    expect(server.clientCount()).toBe(1);
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('data', () => undefined);
    await ended;
    // The server side notices its own termination a moment after the peer sees the socket go.
    for (let i = 0; i < 50 && server.clientCount() > 0; i++) await sleep(10);
    expect(server.clientCount()).toBe(0);
  });
});

describe('dashboard socket: who may connect', () => {
  it('lets a page from its own origin in, under any loopback spelling', async () => {
    const { server } = await serve();
    for (const origin of [
      `http://127.0.0.1:${server.port}`,
      `http://localhost:${server.port}`,
      `http://[::1]:${server.port}`,
    ]) {
      expect(await upgradeStatus(server.port, { origin }), origin).toBe(101);
    }
  });

  it('refuses a wrong Origin with 403 before upgrading, even with the token', async () => {
    const { server } = await serve();
    for (const origin of [
      'http://evil.example',
      `http://127.0.0.1:${server.port + 1}`,
      `http://rebound.example:${server.port}`,
    ]) {
      expect(await upgradeStatus(server.port, { origin, token: server.token }), origin).toBe(403);
    }
    expect(server.clientCount()).toBe(0);
  });

  it('asks a client with no Origin for the token (401 without it)', async () => {
    const { server } = await serve();
    expect(await upgradeStatus(server.port, {})).toBe(401);
    expect(await upgradeStatus(server.port, { token: 'x'.repeat(24) })).toBe(401);
    expect(await upgradeStatus(server.port, { token: server.token })).toBe(101);
  });

  it('requires the token from everyone when token mode is on, and puts it in the printed URL', async () => {
    const { server } = await serve({ requireToken: true, token: 'a-long-enough-test-token' });
    const origin = `http://127.0.0.1:${server.port}`;
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=a-long-enough-test-token`);
    expect(await upgradeStatus(server.port, { origin })).toBe(401);
    expect(await upgradeStatus(server.port, { origin, token: 'a-long-enough-test-tokem' })).toBe(401);
    expect(await upgradeStatus(server.port, { origin, token: server.token })).toBe(101);
  });

  it('requires a token by default when listening beyond loopback', async () => {
    const { server } = await serve({ host: '0.0.0.0' });
    expect(server.tokenRequired).toBe(true);
    expect(server.url).toMatch(new RegExp(`:${server.port}/\\?token=${server.token}$`));
    expect(await upgradeStatus(server.port, { origin: `http://127.0.0.1:${server.port}` })).toBe(401);
  });

  it('has no socket anywhere but /ws', async () => {
    const { server } = await serve();
    expect(await upgradeStatus(server.port, { pathname: '/socket', token: server.token })).toBe(404);
  });

  it('refuses connections beyond the client limit with 503', async () => {
    const { server } = await serve({ maxClients: 1 });
    await connect(server);
    expect(await upgradeStatus(server.port, { origin: `http://127.0.0.1:${server.port}` })).toBe(503);
  });

  it('names the port and the problem when the port is taken', async () => {
    const { server } = await serve();
    await expect(
      startDashboard({
        store: new ParameterStore(),
        readMeters: (f) => f,
        status: () => statusWith('A'),
        port: server.port,
        staticDir,
      }),
    ).rejects.toThrow(`dashboard: port ${server.port} on 127.0.0.1 is already in use`);
  });
});

describe('dashboard HTTP: the built page and nothing else', () => {
  it('serves index.html at / with its type and the security headers', async () => {
    const { server } = await serve();
    const page = await get(server.port, '/?token=whatever');
    expect(page.status).toBe(200);
    expect(page.body).toBe(INDEX_HTML);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(page.headers['content-security-policy']).toMatch(/connect-src 'self'/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
  });

  it('serves assets with their content types, and HEAD without a body', async () => {
    const { server } = await serve();
    expect((await get(server.port, '/assets/app.js')).headers['content-type']).toBe(
      'text/javascript; charset=utf-8',
    );
    expect((await get(server.port, '/assets/app.css')).headers['content-type']).toBe(
      'text/css; charset=utf-8',
    );
    const head = await get(server.port, '/assets/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String('console.log("rig");'.length));
    expect(head.body).toBe('');
  });

  it('answers anything but GET and HEAD with 405', async () => {
    const { server } = await serve();
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const response = await get(server.port, '/', method);
      expect(response.status, method).toBe(405);
      expect(response.headers.allow).toBe('GET, HEAD');
    }
  });

  it.each([
    '/../secret.txt',
    '/..%2fsecret.txt',
    '/%2e%2e%2fsecret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/..%5csecret.txt',
    '/.env',
    '/assets/linked.txt',
    '/assets/',
    '/missing.html',
    '/%E0%A4%A',
  ])('answers %s with 404 and never the file outside', async (rawPath) => {
    const { server } = await serve();
    const response = await get(server.port, rawPath);
    expect(response.status).toBe(404);
    expect(response.body).not.toContain(SECRET);
  });

  it('says how to build the page when it is not built', async () => {
    const { server } = await serve({ staticDir: path.join(dir, 'not-built') });
    const response = await get(server.port, '/');
    expect(response.status).toBe(503);
    expect(response.body).toMatch(/npm run build/);
    // The socket works without the page.
    await connect(server);
  });
});

describe('the dashboard as rig start runs it', () => {
  it('reports the running engine, serves its meters, and names what the rig does not provide', async () => {
    const engine = new LiveAudio({ sampleRate: 48000, block: 512 });
    const store = new ParameterStore();
    engine.attach(store);
    await engine.start();
    const server = await startRigDashboard({
      engine,
      store,
      device: 'the built-in demo program',
      port: 0,
      staticDir,
      targetPreset: 'spotify',
    });
    servers.push(server);
    try {
      const client = await connect(server);
      // The hello may come before the worker's first block; the next status shows it playing.
      const status = await client.next<Extract<ServerMessage, { type: 'status' }>>(
        (m) => m.type === 'status' && m.engine.state === 'demo',
      );
      expect(status.engine).toEqual({
        device: 'the built-in demo program',
        state: 'demo',
        sampleRate: 48000,
        blockFrames: 512,
        chainLatencyMs: (engine.latencySamples / 48000) * 1000,
        ioLatencyMs: (engine.ioLatencySamples / 48000) * 1000,
      });
      expect(client.hello.status.target).toEqual({
        preset: 'spotify',
        lufs: PRESETS.spotify.targetLufs,
        ceilingDbtp: PRESETS.spotify.ceilingDbtp,
      });
      await sleep(1000);
      const frame = client.frames[client.frames.length - 1];
      const blocks = frame.readFloatLE(METER_LAYOUT.offsets['engine.blocks'] * 4);
      expect(blocks).toBeGreaterThan(20);
      expect(Number.isFinite(frame.readFloatLE(METER_LAYOUT.offsets['output.momentaryLufs'] * 4))).toBe(true);

      client.send({ type: 'slot', slot: 'B' });
      expect((await client.error('unavailable')).message).toBe(
        'slot: needs the recall database, which this rig start does not open',
      );
      client.send({ type: 'learn', id: 'comp.ratio' });
      expect((await client.error('unavailable', 'learn')).message).toMatch(/^learn: needs a control surface/);

      client.send({ type: 'target', preset: 'club' });
      await client.next((m) => m.type === 'status' && m.target.preset === 'club');
      expect(store.get('limiter.ceiling')).toBe(PRESETS.club.ceilingDbtp);
      client.send({ type: 'target', preset: null, lufs: -12, ceilingDbtp: -7 });
      expect((await client.error('action-failed')).message).toMatch(
        /^target: parameter "limiter.ceiling": -7 is out of range -3\.\.0 dBTP/,
      );
    } finally {
      await engine.stop();
    }
  });

  it('drives recall: quick slots, save, recall and undo from the page', async () => {
    const recallDir = fs.mkdtempSync(path.join(dir, 'recall-'));
    const db = new SnapshotDatabase(path.join(recallDir, 'recall.db'));
    const store = new ParameterStore();
    const manager = new RecallManager(store, db);
    const engine = {
      readMeters: (into?: Float32Array) => into ?? new Float32Array(METER_FRAME_LENGTH),
      sampleRate: 48000,
      block: 512,
      latencySamples: 0,
      ioLatencySamples: 512,
    };
    const server = await startRigDashboard({
      engine,
      store,
      device: 'none',
      port: 0,
      staticDir,
      recall: { manager, snapshotNames: () => db.listSnapshots().map((s) => s.name) },
    });
    servers.push(server);
    try {
      const client = await connect(server);
      client.send({ type: 'set', id: 'comp.threshold', value: -30 });
      await client.next((m) => m.type === 'params' && m.changes.some((c) => c.id === 'comp.threshold'));
      client.send({ type: 'save', name: 'deep', notes: 'threshold down' });
      await client.next((m) => m.type === 'status' && m.snapshots.includes('deep'));
      expect(db.getSnapshot('deep')?.values['comp.threshold']).toBe(-30);

      client.send({ type: 'slot', slot: 'B' });
      await client.next((m) => m.type === 'status' && m.slot === 'B');
      client.send({ type: 'set', id: 'comp.threshold', value: -5 });
      await client.next(
        (m) => m.type === 'params' && m.changes.some((c) => c.id === 'comp.threshold' && c.value === -5),
      );
      client.send({ type: 'recall', name: 'deep' });
      await client.next(
        (m) =>
          m.type === 'params' &&
          m.changes.some((c) => c.id === 'comp.threshold' && c.value === -30 && c.origin === 'recall'),
      );
      client.send({ type: 'undo' });
      await client.next(
        (m) =>
          m.type === 'params' &&
          m.changes.some((c) => c.id === 'comp.threshold' && c.value === -5 && c.origin === 'undo'),
      );
      client.send({ type: 'recall', name: 'nothing' });
      expect((await client.error('action-failed')).message).toBe('recall: no snapshot named "nothing"');
    } finally {
      manager.close();
      await server.close();
      db.close();
    }
  });
});
