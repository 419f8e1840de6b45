/**
 * What the dashboard's browser tests need: the built page, a running rig, headless Chromium (the
 * system's, never a downloaded one) and a plain WebSocket client that watches the rig from
 * outside the page.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import WebSocket from 'ws';
import type {
  ClientMessage,
  ParameterUpdate,
  ServerMessage,
  StatusMessage,
} from '../../dashboard/protocol.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Builds the page when dashboard/dist is missing (a fresh clone whose install skipped scripts). */
export function ensureDashboardBuilt(): void {
  if (existsSync(`${REPO_ROOT}dashboard/dist/index.html`)) return;
  const build = spawnSync(
    process.execPath,
    [`${REPO_ROOT}node_modules/vite/bin/vite.js`, 'build', '--config', 'dashboard/vite.config.ts'],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    },
  );
  if (build.status !== 0)
    throw new Error(
      `building the dashboard failed (exit ${build.status}):\n${build.stdout}\n${build.stderr}`,
    );
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install Debian's chromium package (apt-get install chromium)`,
    );
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RunningRig {
  /** The dashboard URL the rig printed (with its token when one is required). */
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Runs `rig start` with `args` and resolves once it prints its dashboard URL. `dataDir` is the
 * rig's own recall database and autosave: no other suite's last sound is restored into it.
 * `env` adds to the environment (e.g. RIG_CONFIG_DIR, so learned mappings stay in the test's folder).
 */
export async function startRig(
  args: string[],
  dataDir: string,
  { timeoutMs = 60_000, env = {} }: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<RunningRig> {
  // Node itself, not npx: a signal to npx would not reach the rig.
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', `${REPO_ROOT}bin/rig.ts`, 'start', ...args],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0', RIG_DATA_DIR: dataDir, ...env },
    },
  );
  let text = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`rig start printed no dashboard URL within ${timeoutMs} ms:\n${text}`)),
      timeoutMs,
    );
    const look = (chunk: Buffer) => {
      text += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:\d+\/\S*/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rig start exited (${code}) before printing a dashboard URL:\n${text}`));
    });
  });
  return {
    url,
    output: () => text,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

type Learned = Extract<ServerMessage, { type: 'learned' }>;

/**
 * A WebSocket client of the rig's dashboard, as a second page would be: it sends the page's
 * Origin, records every parameter update, status and learned binding, and keeps the latest meter
 * frame.
 */
export class RigSocket {
  readonly updates: ParameterUpdate[] = [];
  readonly learned: Learned[] = [];
  hello!: Extract<ServerMessage, { type: 'hello' }>;
  latestFrame: Float32Array | null = null;
  /** The latest status (the hello's until the first status message). */
  status!: Omit<StatusMessage, 'type'>;
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly socket: WebSocket) {}

  static async open(pageUrl: string): Promise<RigSocket> {
    const page = new URL(pageUrl);
    const url = new URL('/ws', page);
    url.protocol = 'ws:';
    const token = page.searchParams.get('token');
    if (token) url.searchParams.set('token', token);
    const socket = new WebSocket(url, { origin: page.origin });
    const client = new RigSocket(socket);
    const hello = new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.on('message', (data, isBinary) => {
        if (isBinary) {
          const bytes = data as Buffer;
          client.latestFrame = new Float32Array(
            bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
          );
        } else {
          const message = JSON.parse(String(data)) as ServerMessage;
          if (message.type === 'hello') {
            client.hello = message;
            client.status = message.status;
            resolve();
          } else if (message.type === 'params') {
            client.updates.push(...message.changes);
          } else if (message.type === 'status') {
            client.status = message;
          } else if (message.type === 'learned') {
            client.learned.push(message);
          }
        }
        for (const wake of client.waiters) wake();
      });
    });
    await hello;
    return client;
  }

  send(message: ClientMessage): void {
    this.socket.send(JSON.stringify(message));
  }

  /** The parameter's value as this client last heard it. */
  value(id: string): number {
    for (let i = this.updates.length - 1; i >= 0; i--)
      if (this.updates[i].id === id) return this.updates[i].value;
    return this.hello.values[id];
  }

  /** Resolves with the first update (from now on) of `id` that `accept` takes. */
  async nextUpdate(
    id: string,
    accept: (update: ParameterUpdate) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<ParameterUpdate> {
    const from = this.updates.length;
    return this.waitFor(
      () => this.updates.slice(from).find((u) => u.id === id && accept(u)),
      `an update of ${id}`,
      timeoutMs,
    );
  }

  /** Resolves once `probe` returns something other than undefined, re-checking on every message. */
  async waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
    const found = probe();
    if (found !== undefined) return found;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const check = () => {
        const value = probe();
        if (value === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      this.waiters.add(check);
    });
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.close();
    await closed;
  }
}
