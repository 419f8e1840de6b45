/**
 * Who may open the dashboard socket. A browser always sends the page's Origin, so checking it
 * against the server's own origins keeps other web pages (and DNS-rebinding tricks) out of a
 * loopback rig; a non-browser client can forge any Origin, so it must bring the token instead,
 * and so must everyone when the rig listens beyond loopback.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import os from 'node:os';

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

function isWildcardHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === '0.0.0.0' || bare === '::' || bare === '';
}

/** `host:port` as it appears in a URL (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare.includes(':') ? `[${bare}]:${port}` : `${bare}:${port}`;
}

/**
 * The origins a page served by this server can have. Loopback: every loopback spelling (the
 * browser keeps whatever the user typed). A wildcard bind: every address of this machine and its
 * host name, since the user reaches it by any of them. Never derived from the request's Host
 * header: a rebound attacker's name would match itself.
 */
export function ownOrigins(host: string, port: number, extra: readonly string[] = []): Set<string> {
  const hosts = new Set<string>([host]);
  if (isLoopbackHost(host)) for (const name of ['localhost', '127.0.0.1', '::1']) hosts.add(name);
  if (isWildcardHost(host)) {
    for (const name of ['localhost', '127.0.0.1', '::1', os.hostname(), `${os.hostname()}.local`])
      hosts.add(name);
    for (const addresses of Object.values(os.networkInterfaces()))
      for (const a of addresses ?? []) hosts.add(a.address);
  }
  hosts.delete('');
  return new Set([
    ...[...hosts].map((h) => `http://${hostPort(h, port)}`.toLowerCase()),
    ...extra.map((o) => o.toLowerCase()),
  ]);
}

/** A fresh token: 144 random bits, URL-safe. */
export function generateToken(): string {
  return randomBytes(18).toString('base64url');
}

/** Compares in time independent of where the strings differ (hashing first evens out the lengths). */
export function tokensMatch(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export type UpgradeVerdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/**
 * The rule for a WebSocket upgrade: a present Origin must be one of ours (else 403); the token is
 * needed when the server requires one, and always from a client that sends no Origin (else 401).
 */
export function judgeUpgrade(
  request: { origin: string | undefined; token: string | null },
  server: { origins: ReadonlySet<string>; token: string; tokenRequired: boolean },
): UpgradeVerdict {
  if (request.origin !== undefined && !server.origins.has(request.origin.toLowerCase())) {
    return {
      ok: false,
      status: 403,
      reason: `origin ${request.origin.slice(0, 100)} is not this dashboard's`,
    };
  }
  if (server.tokenRequired || request.origin === undefined) {
    if (request.token === null)
      return {
        ok: false,
        status: 401,
        reason: 'a token is required: open the URL rig start printed (it carries ?token=)',
      };
    if (!tokensMatch(request.token, server.token)) return { ok: false, status: 401, reason: 'wrong token' };
  }
  return { ok: true };
}
