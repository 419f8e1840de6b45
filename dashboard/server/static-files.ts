/**
 * The HTTP side of the dashboard: the built page (dashboard/dist) and nothing else. Read-only
 * (GET/HEAD), no directory listings, no dotfiles, and no path, however encoded or linked, that
 * leads outside the folder.
 */
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Same origin for everything; the socket is same-origin too (CSP3 'self' covers ws: of the page's
 * host). Inline styles are allowed because Svelte's style: directives and transitions write them.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  // The page's URL can carry the access token: it must never travel on as a Referer.
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function reply(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...headers,
  });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

/**
 * The file a request path names inside `root`, or undefined when it names none we serve.
 * Decodes once, then refuses anything that could climb out or hide: `..` and `.` segments,
 * dotfiles, backslashes, NUL; the caller still checks the real path against symlinks.
 */
export function resolveRequestPath(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').slice(1);
  if (segments.some((segment) => segment.startsWith('.'))) return undefined;
  const relative = decoded === '/' ? 'index.html' : segments.join('/');
  const file = path.resolve(root, relative);
  return file.startsWith(root + path.sep) ? file : undefined;
}

export class StaticFiles {
  private readonly root: string;

  constructor(staticDir: string) {
    this.root = path.resolve(staticDir);
  }

  get built(): boolean {
    return fs.existsSync(path.join(this.root, 'index.html'));
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      reply(response, 405, 'only GET and HEAD\n', { Allow: 'GET, HEAD' });
      return;
    }
    const urlPath = (request.url ?? '/').split('?')[0].split('#')[0];
    if (urlPath === '/' && !this.built) {
      reply(
        response,
        503,
        `the dashboard page is not built (no index.html in ${this.root}): run \`npm run build\`\n`,
      );
      return;
    }
    const file = resolveRequestPath(this.root, urlPath);
    if (!file) {
      reply(response, 404, 'not found\n');
      return;
    }
    this.sendFile(file, response);
  }

  private sendFile(file: string, response: ServerResponse): void {
    let realRoot: string;
    let realFile: string;
    let size: number;
    try {
      realRoot = fs.realpathSync(this.root);
      realFile = fs.realpathSync(file);
      const stat = fs.statSync(realFile);
      if (!stat.isFile() || !realFile.startsWith(realRoot + path.sep))
        throw new Error('not a file inside the dashboard folder');
      size = stat.size;
    } catch {
      reply(response, 404, 'not found\n');
      return;
    }
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': contentType(realFile),
      'Content-Length': size,
      // A local server answers in microseconds; revalidating every time means a rebuilt page always shows.
      'Cache-Control': 'no-cache',
    });
    if (response.req.method === 'HEAD') {
      response.end();
      return;
    }
    const stream = fs.createReadStream(realFile);
    stream.on('error', () => response.destroy());
    stream.pipe(response);
  }
}
