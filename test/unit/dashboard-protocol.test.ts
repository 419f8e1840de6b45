import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_MESSAGE_BYTES, type ClientMessage } from '../../dashboard/protocol.ts';
import {
  generateToken,
  isLoopbackHost,
  judgeUpgrade,
  ownOrigins,
  tokensMatch,
} from '../../dashboard/server/access.ts';
import { ClientLimiter, DEFAULT_CLIENT_LIMITS } from '../../dashboard/server/rate-limit.ts';
import { resolveRequestPath } from '../../dashboard/server/static-files.ts';
import {
  CLIENT_MESSAGE_TYPES,
  MAX_NAME_LENGTH,
  MAX_NOTES_LENGTH,
  ProtocolError,
  parseClientMessage,
} from '../../dashboard/server/validate.ts';
import { getSpec } from '../../engine/src/params.ts';

/** The ProtocolError a frame is rejected with. */
function rejection(frame: unknown): ProtocolError {
  const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
  try {
    parseClientMessage(text);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error(`accepted: ${text}`);
}

const ceiling = getSpec('limiter.ceiling');

describe('client messages the server accepts', () => {
  const valid: ClientMessage[] = [
    { type: 'set', id: 'comp.threshold', value: -18 },
    { type: 'set', id: 'comp.ratio', value: 4 },
    { type: 'bypass', on: true },
    { type: 'bypass', on: false },
    { type: 'slot', slot: 'C' },
    { type: 'ab' },
    { type: 'undo' },
    { type: 'redo' },
    { type: 'recall', name: 'album master' },
    { type: 'save', name: 'album master' },
    { type: 'save', name: 'album master', notes: 'warmer\nless air' },
    { type: 'learn', id: 'limiter.gain' },
    { type: 'learnCancel' },
    { type: 'target', preset: 'spotify' },
    { type: 'target', preset: null },
    { type: 'target', preset: null, lufs: -12, ceilingDbtp: ceiling.min },
    { type: 'resetMeters' },
    { type: 'ping', t: 12345.678 },
  ];

  it('covers every message type of the protocol', () => {
    expect(new Set(valid.map((m) => m.type))).toEqual(new Set(CLIENT_MESSAGE_TYPES));
  });

  it.each(valid.map((m) => [JSON.stringify(m), m] as const))('accepts %s unchanged', (text, message) => {
    expect(parseClientMessage(text)).toEqual(message);
  });
});

describe('client messages the server rejects, naming the problem', () => {
  it('refuses text that is not JSON', () => {
    const error = rejection('{"type": "set", ');
    expect(error.code).toBe('bad-json');
    expect(error.message).toMatch(/not valid JSON/);
  });

  it.each([
    ['[1,2]', 'an array'],
    ['null', 'null'],
    ['42', 'number'],
    ['"set"', 'string'],
  ])('refuses JSON %s that is not an object', (text, described) => {
    const error = rejection(text);
    expect(error.code).toBe('bad-json');
    expect(error.message).toContain(described);
  });

  it('refuses a message without a type', () => {
    expect(rejection({ id: 'comp.ratio', value: 2 }).code).toBe('missing-field');
  });

  it('refuses an unknown type and lists the known ones', () => {
    const error = rejection({ type: 'delete' });
    expect(error.code).toBe('unknown-type');
    expect(error.message).toContain('"delete"');
    expect(error.message).toContain('set, bypass, slot');
  });

  it('refuses a type that is not a string', () => {
    expect(rejection({ type: 7 }).code).toBe('unknown-type');
    // An inherited property name is not a message type.
    expect(rejection({ type: 'toString' }).code).toBe('unknown-type');
  });

  // One invalid frame per message type: a wrong-typed field, or an extra field for those without any.
  const invalid: Array<[string, unknown, string, RegExp]> = [
    [
      'set with a string value',
      { type: 'set', id: 'comp.ratio', value: '2' },
      'bad-field',
      /set\.value: expected a number, got string/,
    ],
    ['set without a value', { type: 'set', id: 'comp.ratio' }, 'missing-field', /set: missing field "value"/],
    [
      'set with a mistyped id',
      { type: 'set', id: 'comp.ration', value: 2 },
      'unknown-parameter',
      /unknown parameter "comp\.ration" \(did you mean "comp\.ratio"\?\)/,
    ],
    [
      'set with a numeric id',
      { type: 'set', id: 3, value: 2 },
      'bad-field',
      /set\.id: expected a parameter id string/,
    ],
    [
      'set beyond the schema range',
      { type: 'set', id: 'limiter.ceiling', value: 3 },
      'out-of-range',
      /3 is out of range -3\.\.0 dBTP/,
    ],
    [
      'bypass with a number',
      { type: 'bypass', on: 1 },
      'bad-field',
      /bypass\.on: expected true or false, got number/,
    ],
    ['slot E', { type: 'slot', slot: 'E' }, 'bad-field', /slot\.slot: expected one of A, B, C, D, got "E"/],
    ['ab with a field', { type: 'ab', slot: 'A' }, 'unexpected-field', /ab: unexpected field "slot"/],
    ['undo with a field', { type: 'undo', steps: 2 }, 'unexpected-field', /undo: unexpected field "steps"/],
    ['redo with a field', { type: 'redo', steps: 2 }, 'unexpected-field', /redo: unexpected field "steps"/],
    [
      'recall of an empty name',
      { type: 'recall', name: '  ' },
      'bad-field',
      /recall\.name: must not be empty/,
    ],
    [
      'save with numeric notes',
      { type: 'save', name: 'x', notes: 5 },
      'bad-field',
      /save\.notes: expected a string, got number/,
    ],
    [
      'learn of an unknown parameter',
      { type: 'learn', id: 'limiter.gian' },
      'unknown-parameter',
      /did you mean "limiter\.gain"/,
    ],
    [
      'learnCancel with a field',
      { type: 'learnCancel', id: 'x' },
      'unexpected-field',
      /learnCancel: unexpected field "id"/,
    ],
    [
      'target without a preset field',
      { type: 'target', lufs: -14 },
      'missing-field',
      /target: missing field "preset"/,
    ],
    [
      'target of an unknown preset',
      { type: 'target', preset: 'napster' },
      'unknown-preset',
      /unknown preset "napster" \(one of: spotify, apple/,
    ],
    [
      'target with a string loudness',
      { type: 'target', preset: null, lufs: '-14' },
      'bad-field',
      /target\.lufs: expected a number/,
    ],
    [
      'resetMeters with a field',
      { type: 'resetMeters', which: 'all' },
      'unexpected-field',
      /resetMeters: unexpected field "which"/,
    ],
    ['ping without t', { type: 'ping' }, 'missing-field', /ping: missing field "t"/],
  ];

  it('has an invalid case for every message type', () => {
    expect(new Set(invalid.map(([, frame]) => (frame as { type: string }).type))).toEqual(
      new Set(CLIENT_MESSAGE_TYPES),
    );
  });

  it.each(invalid)('refuses %s', (_name, frame, code, message) => {
    const error = rejection(frame);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('refuses numbers JSON can only spell as overflow (1e999 parses to Infinity)', () => {
    const error = rejection('{"type":"set","id":"comp.threshold","value":1e999}');
    expect(error.code).toBe('bad-field');
    expect(error.message).toMatch(/Infinity is not a finite number/);
    expect(rejection('{"type":"ping","t":-1e999}').code).toBe('bad-field');
  });

  it('refuses an extra field on a message that has fields of its own', () => {
    expect(rejection({ type: 'set', id: 'comp.ratio', value: 2, origin: 'controller:x' }).message).toMatch(
      /set: unexpected field "origin"/,
    );
  });

  it('treats __proto__ as the extra field it is, not as a prototype', () => {
    const error = rejection('{"type":"bypass","on":true,"__proto__":{"polluted":1}}');
    expect(error.code).toBe('unexpected-field');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('bounds names and notes, and keeps control characters out of names', () => {
    expect(
      parseClientMessage(JSON.stringify({ type: 'save', name: 'n'.repeat(MAX_NAME_LENGTH) })),
    ).toBeTruthy();
    expect(rejection({ type: 'save', name: 'n'.repeat(MAX_NAME_LENGTH + 1) }).message).toMatch(
      /save\.name: 121 characters, at most 120/,
    );
    expect(rejection({ type: 'save', name: 'x', notes: 'n'.repeat(MAX_NOTES_LENGTH + 1) }).code).toBe(
      'bad-field',
    );
    expect(rejection({ type: 'recall', name: 'two\nlines' }).message).toMatch(/control characters/);
    // Every limit fits in one frame: the size limit is the socket's, these are about sanity.
    expect(
      JSON.stringify({ type: 'save', name: 'n'.repeat(MAX_NAME_LENGTH), notes: 'n'.repeat(MAX_NOTES_LENGTH) })
        .length,
    ).toBeLessThan(MAX_CLIENT_MESSAGE_BYTES);
  });

  it("checks a ceiling given with a target only as a number (the range is the action's, from the schema)", () => {
    expect(parseClientMessage(JSON.stringify({ type: 'target', preset: null, ceilingDbtp: -10 }))).toEqual({
      type: 'target',
      preset: null,
      ceilingDbtp: -10,
    });
  });
});

describe('who may open the socket', () => {
  const port = 8123;
  const loopback = {
    origins: ownOrigins('127.0.0.1', port),
    token: 'a-token-of-enough-length',
    tokenRequired: false,
  };
  const remote = {
    origins: ownOrigins('192.0.2.7', port),
    token: 'a-token-of-enough-length',
    tokenRequired: true,
  };

  it('knows loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '192.168.1.5', '::', 'rig.local', '127.0.0.1.evil.example'])
      expect(isLoopbackHost(host), host).toBe(false);
  });

  it('lets a loopback page in by any loopback spelling of its origin', () => {
    for (const origin of [
      `http://127.0.0.1:${port}`,
      `http://localhost:${port}`,
      `http://[::1]:${port}`,
      `http://LOCALHOST:${port}`,
    ]) {
      expect(judgeUpgrade({ origin, token: null }, loopback), origin).toEqual({ ok: true });
    }
  });

  it('turns away other origins with 403, whatever the token', () => {
    for (const origin of [
      `http://127.0.0.1:${port + 1}`,
      'http://evil.example',
      `https://127.0.0.1:${port}`,
      'null',
      `http://rebound.evil.example:${port}`,
    ]) {
      const verdict = judgeUpgrade({ origin, token: loopback.token }, loopback);
      expect(verdict.ok, origin).toBe(false);
      expect(!verdict.ok && verdict.status, origin).toBe(403);
    }
  });

  it('asks a client without an Origin (not a browser) for the token, 401 without it', () => {
    expect(judgeUpgrade({ origin: undefined, token: null }, loopback)).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(
      judgeUpgrade({ origin: undefined, token: 'wrong-token-of-enough-length' }, loopback),
    ).toMatchObject({ ok: false, status: 401, reason: 'wrong token' });
    expect(judgeUpgrade({ origin: undefined, token: loopback.token }, loopback)).toEqual({ ok: true });
  });

  it('asks every client for the token beyond loopback, even from its own origin', () => {
    const origin = `http://192.0.2.7:${port}`;
    expect(judgeUpgrade({ origin, token: null }, remote)).toMatchObject({ ok: false, status: 401 });
    expect(judgeUpgrade({ origin, token: remote.token }, remote)).toEqual({ ok: true });
    expect(judgeUpgrade({ origin: `http://localhost:${port}`, token: remote.token }, remote)).toMatchObject({
      ok: false,
      status: 403,
    });
  });

  it('takes further origins when told (a reverse proxy)', () => {
    const origins = ownOrigins('127.0.0.1', port, ['https://Rig.Example']);
    expect(judgeUpgrade({ origin: 'https://rig.example', token: null }, { ...loopback, origins })).toEqual({
      ok: true,
    });
  });

  it('makes tokens that differ and compares them exactly', () => {
    const a = generateToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(generateToken()).not.toBe(a);
    expect(tokensMatch(a, a)).toBe(true);
    expect(tokensMatch(a.slice(0, -1), a)).toBe(false);
    expect(tokensMatch(`${a}x`, a)).toBe(false);
    expect(tokensMatch(undefined, a)).toBe(false);
  });
});

describe('which files a request path may name', () => {
  const root = path.resolve('/srv/dashboard-dist');

  it('maps / to index.html and plain paths inside the folder', () => {
    expect(resolveRequestPath(root, '/')).toBe(path.join(root, 'index.html'));
    expect(resolveRequestPath(root, '/assets/app-1234.js')).toBe(path.join(root, 'assets/app-1234.js'));
    expect(resolveRequestPath(root, '/assets/a%20b.css')).toBe(path.join(root, 'assets/a b.css'));
  });

  it.each([
    '/../secret',
    '/..%2fsecret',
    '/%2e%2e/secret',
    '/%2e%2e%2fsecret',
    '/assets/../../secret',
    '/assets/%2e%2e%2f%2e%2e%2fsecret',
    '/..%5csecret',
    '//etc/passwd',
    '/%2fetc%2fpasswd',
    '/.git/config',
    '/assets/.env',
    '/index.html%00.png',
    '/%E0%A4%A',
    'assets/app.js',
  ])('refuses %s', (urlPath) => {
    expect(resolveRequestPath(root, urlPath)).toBeUndefined();
  });
});

describe('how much a client may send', () => {
  const limits = DEFAULT_CLIENT_LIMITS;

  it('allows the burst at once, then the sustained rate', () => {
    const limiter = new ClientLimiter(limits, 0);
    let accepted = 0;
    for (let i = 0; i < limits.burst + 10; i++) if (limiter.admit(0) === 'accept') accepted++;
    expect(accepted).toBe(limits.burst);
    // 1.5 s later the bucket has refilled 1.5 s of the sustained rate, more than a second's worth.
    let later = 0;
    for (let i = 0; i < limits.messagesPerSecond; i++) if (limiter.admit(1500) === 'accept') later++;
    expect(later).toBe(limits.messagesPerSecond);
  });

  it('reports the first rejection of a second only, so errors do not flood back', () => {
    const limiter = new ClientLimiter(limits, 0);
    for (let i = 0; i < limits.burst; i++) limiter.admit(0);
    expect(limiter.admit(1)).toEqual({ reject: 'rate', notify: true });
    expect(limiter.admit(2)).toEqual({ reject: 'rate', notify: false });
  });

  it('disconnects a client sending more than abuseFactor times the rate within a second', () => {
    const limiter = new ClientLimiter(limits, 0);
    const abuse = limits.abuseFactor * limits.messagesPerSecond;
    for (let i = 0; i < abuse; i++) expect(limiter.admit(i / abuse)).not.toHaveProperty('disconnect');
    expect(limiter.admit(999)).toHaveProperty('disconnect');
  });

  it('keeps an honest 60/s knob drag going for minutes', () => {
    const limiter = new ClientLimiter(limits, 0);
    for (let i = 0; i < 60 * 180; i++) expect(limiter.admit((i * 1000) / 60)).toBe('accept');
  });

  it('disconnects after repeated invalid frames but forgives the odd one', () => {
    const limiter = new ClientLimiter(limits, 0);
    for (let i = 0; i < limits.invalidBurst; i++) expect(limiter.recordInvalid(0)).toBeUndefined();
    expect(limiter.recordInvalid(0)).toMatch(/invalid messages/);
    const patient = new ClientLimiter(limits, 0);
    for (let i = 0; i < 1000; i++) expect(patient.recordInvalid(i * 1000)).toBeUndefined();
  });
});
