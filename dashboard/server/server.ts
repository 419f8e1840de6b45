/**
 * The dashboard server: one HTTP listener serving the built page, with the WebSocket at /ws.
 * Loopback only unless told otherwise; beyond loopback a token is required, and the Origin is
 * checked on every upgrade (see access.ts for the rule).
 */
import { createServer, STATUS_CODES, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import type { ParameterStore } from '../../engine/src/index.ts';
import { MAX_CLIENT_MESSAGE_BYTES, type ServerMessage } from '../protocol.ts';
import { generateToken, hostPort, isLoopbackHost, judgeUpgrade, ownOrigins } from './access.ts';
import { DashboardHub, type DashboardActions, type DashboardStatus } from './hub.ts';
import { DEFAULT_CLIENT_LIMITS, type ClientLimitOptions } from './rate-limit.ts';
import { StaticFiles } from './static-files.ts';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8080;
export const DEFAULT_STATIC_DIR = fileURLToPath(new URL('../dist', import.meta.url));
export const DEFAULT_METER_HZ = 30;
// Below 10 Hz meters look broken; above 60 Hz no screen shows the difference.
export const METER_HZ_RANGE = [10, 60] as const;
export const WS_PATH = '/ws';

export interface DashboardOptions {
  store: ParameterStore;
  /** Copies the current meter frame (METER_LAYOUT order) into `into` and returns it. */
  readMeters: (into: Float32Array) => Float32Array;
  status: () => DashboardStatus;
  /** Actions left out answer the client with an `unavailable` error. */
  actions?: Partial<DashboardActions>;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks any free port. */
  port?: number;
  /** Access token; a random one when not given. */
  token?: string;
  /** Require the token from every client; default: when the host is not loopback. */
  requireToken?: boolean;
  /** The built page; default dashboard/dist. */
  staticDir?: string;
  /** Meter frames per second, 10..60 (clamped); default 30. */
  meterHz?: number;
  /** Further origins a page may come from (a reverse proxy's name), e.g. `https://rig.example`. */
  allowedOrigins?: string[];
  heartbeatMs?: number;
  limits?: Partial<ClientLimitOptions>;
  /** Connections beyond this are refused with 503. */
  maxClients?: number;
  /** Told when a meter tick fails (the meter source threw); default: one line on stderr per distinct error. */
  onError?: (error: Error) => void;
}

export interface DashboardServer {
  /** What to open in a browser; carries `?token=` when the token is required. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly token: string;
  readonly tokenRequired: boolean;
  clientCount(): number;
  /** Sends a message to every client (e.g. `learned` when a surface control was bound). */
  broadcast(message: ServerMessage): void;
  close(): Promise<void>;
}

/** Listening failed (port taken, address not ours, privileged port); the message says which. */
export class DashboardListenError extends Error {
  constructor(
    readonly code: string,
    readonly host: string,
    readonly port: number,
    message: string,
  ) {
    super(message);
    this.name = 'DashboardListenError';
  }
}

function listenProblem(code: string | undefined, host: string, port: number): string {
  if (code === 'EADDRINUSE') return `port ${port} on ${host} is already in use`;
  if (code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine`;
  if (code === 'EACCES') return `not allowed to listen on port ${port} (ports below 1024 need privileges)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host ${host} does not resolve`;
  return `cannot listen on ${hostPort(host, port)}`;
}

/** The address to print: the host itself, or for a wildcard bind this machine's first LAN address. */
function displayHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host;
  for (const addresses of Object.values(os.networkInterfaces())) {
    const lan = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (lan) return lan.address;
  }
  return '127.0.0.1';
}

/**
 * Calls `tick` `hz` times a second, held to the clock (setInterval truncates its period to whole
 * milliseconds: 60 Hz would run at 62.5). A tick that throws is reported once per distinct
 * message and the ticking goes on: the dashboard must never take the rig down.
 */
function startTicker(hz: number, tick: () => void, report: (error: Error) => void): () => void {
  const periodMs = 1000 / hz;
  const reported = new Set<string>();
  let next = performance.now() + periodMs;
  let timer: NodeJS.Timeout;
  const run = () => {
    try {
      tick();
    } catch (error) {
      const message = (error as Error).message;
      if (!reported.has(message)) {
        reported.add(message);
        report(error as Error);
      }
    }
    const now = performance.now();
    next += periodMs;
    // After a stall (a suspended laptop) start afresh rather than fire a burst to catch up.
    if (next < now) next = now + periodMs;
    timer = setTimeout(run, next - now);
  };
  timer = setTimeout(run, periodMs);
  return () => clearTimeout(timer);
}

function refuse(socket: Duplex, status: number, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export async function startDashboard(options: DashboardOptions): Promise<DashboardServer> {
  const host = options.host ?? DEFAULT_HOST;
  const requestedPort = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
    throw new RangeError(`dashboard port ${requestedPort}: use 1 to 65535, or 0 for any free port`);
  }
  const meterHz = Math.min(
    METER_HZ_RANGE[1],
    Math.max(METER_HZ_RANGE[0], Number.isFinite(options.meterHz) ? options.meterHz! : DEFAULT_METER_HZ),
  );
  const tokenRequired = options.requireToken ?? !isLoopbackHost(host);
  const token = options.token ?? generateToken();
  if (token.length < 16)
    throw new RangeError('dashboard token: use at least 16 characters (or let the rig make one)');
  const files = new StaticFiles(options.staticDir ?? DEFAULT_STATIC_DIR);

  const http = createServer((request, response) => files.handle(request, response));
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) =>
      reject(
        new DashboardListenError(
          error.code ?? 'UNKNOWN',
          host,
          requestedPort,
          `dashboard: ${listenProblem(error.code, host, requestedPort)}`,
        ),
      );
    http.once('error', failed);
    http.listen(requestedPort, host, () => {
      http.off('error', failed);
      resolve();
    });
  });
  // After listening, a failing connection is that connection's problem, never the rig's.
  http.on('error', () => undefined);
  http.on('clientError', (_error, socket) => socket.destroy());
  const port = (http.address() as AddressInfo).port;
  const origins = ownOrigins(host, port, options.allowedOrigins);

  const hub = new DashboardHub({
    store: options.store,
    readMeters: options.readMeters,
    status: options.status,
    actions: options.actions ?? {},
    limits: { ...DEFAULT_CLIENT_LIMITS, ...options.limits },
  });
  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    perMessageDeflate: false,
    clientTracking: false,
  });
  const maxClients = options.maxClients ?? 32;

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://dashboard.invalid');
    } catch {
      return refuse(socket, 400, 'malformed request path');
    }
    if (url.pathname !== WS_PATH) return refuse(socket, 404, `the dashboard socket is at ${WS_PATH}`);
    const verdict = judgeUpgrade(
      { origin: request.headers.origin, token: url.searchParams.get('token') },
      { origins, token, tokenRequired },
    );
    if (!verdict.ok) return refuse(socket, verdict.status, verdict.reason);
    if (hub.clientCount >= maxClients)
      return refuse(socket, 503, `${maxClients} dashboards are connected already`);
    sockets.handleUpgrade(request, socket, head, (ws) => hub.add(ws));
  });

  const stopTicking = startTicker(
    meterHz,
    () => hub.tick(),
    options.onError ?? ((error) => console.error(`dashboard: ${error.message}`)),
  );
  const heartbeat = setInterval(() => hub.heartbeat(), options.heartbeatMs ?? 10_000);

  let closing: Promise<void> | undefined;
  const url = `http://${hostPort(displayHost(host), port)}/${tokenRequired ? `?token=${encodeURIComponent(token)}` : ''}`;
  return {
    url,
    port,
    host,
    token,
    tokenRequired,
    clientCount: () => hub.clientCount,
    broadcast: (message) => hub.broadcast(message),
    close: () =>
      (closing ??= (async () => {
        stopTicking();
        clearInterval(heartbeat);
        await hub.close();
        sockets.close();
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections();
        await stopped;
      })()),
  };
}
