import { describe, expect, it } from 'vitest';
import {
  LineAssembler,
  MAX_LINE_BYTES,
  crc8,
  encodeDeviceMessage,
  encodeHostMessage,
  frameLine,
  parseDeviceLine,
  parseHostLine,
  type DeviceMessage,
  type HostMessage,
  type LineFault,
} from '../../controller/src/serial/protocol.ts';

/** A line with a correct checksum around any payload, so faults behind the CRC can be reached. */
const framed = (payload: string) => `${payload}*${crc8(payload).toString(16).toUpperCase().padStart(2, '0')}`;
const faultOf = (result: { ok: boolean; fault?: LineFault }) => (result.ok ? 'ok' : result.fault);

const deviceMessages: DeviceMessage[] = [
  {
    type: 'hello',
    protocol: { major: 1, minor: 0 },
    kind: 'rig-knob-box',
    firmwareVersion: '1.0.0',
    serialNumber: 'RKB-3F9A21C4',
    knobs: 8,
    buttons: 4,
    encoders: 2,
    motors: 0,
  },
  { type: 'knob', index: 0, value: 0 },
  { type: 'knob', index: 7, value: 1023 },
  { type: 'encoder', index: 1, delta: -127 },
  { type: 'encoder', index: 0, delta: 3 },
  { type: 'button', index: 3, down: true },
  { type: 'button', index: 0, down: false },
  { type: 'pong', token: 65535 },
  { type: 'error', code: 'checksum', detail: '' },
  { type: 'error', code: 'version', detail: '1' },
];

const hostMessages: HostMessage[] = [
  { type: 'hello?', majors: [1] },
  { type: 'hello?', majors: [1, 2] },
  { type: 'ring', index: 9, value: 1023 },
  { type: 'ring', index: 0, value: 0 },
  { type: 'led', index: 2, on: true },
  { type: 'led', index: 3, on: false },
  { type: 'motor', index: 1, value: 512 },
  { type: 'ping?', token: 0 },
];

function collect(
  assembler: LineAssembler,
  chunks: Array<string | Uint8Array>,
): { lines: string[]; overlong: number[] } {
  const lines: string[] = [];
  const overlong: number[] = [];
  for (const chunk of chunks) {
    assembler.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk, {
      line: (text) => lines.push(text),
      overlong: (bytes) => overlong.push(bytes),
    });
  }
  return { lines, overlong };
}

describe('knob-box checksum', () => {
  it('is CRC-8/SMBUS: the catalogue check value and the worked example in PROTOCOL.md', () => {
    expect(crc8('123456789')).toBe(0xf4);
    expect(crc8('K 3 512')).toBe(0x9f);
    expect(frameLine('K 3 512')).toBe('K 3 512*9F\n');
  });

  it('catches swapped characters, which an XOR checksum would not', () => {
    const xor = (text: string) => [...text].reduce((sum, ch) => sum ^ ch.charCodeAt(0), 0);
    expect(xor('K 1 23')).toBe(xor('K 1 32'));
    expect(crc8('K 1 23')).not.toBe(crc8('K 1 32'));
  });

  it('refuses every single-byte corruption of every message, wherever it lands', () => {
    const lines = [...deviceMessages.map(encodeDeviceMessage), ...hostMessages.map(encodeHostMessage)].map(
      (line) => line.slice(0, -1),
    );
    let corruptions = 0;
    for (const line of lines) {
      for (let at = 0; at < line.length; at++) {
        for (let code = 0x20; code <= 0x7e; code++) {
          const replacement = String.fromCharCode(code);
          if (replacement === line[at]) continue;
          const corrupted = line.slice(0, at) + replacement + line.slice(at + 1);
          corruptions++;
          if (parseDeviceLine(corrupted).ok || parseHostLine(corrupted).ok)
            expect.fail(`accepted "${corrupted}", a corruption of "${line}"`);
        }
      }
    }
    expect(corruptions).toBeGreaterThan(20000);
  });
});

describe('knob-box messages', () => {
  it('encodes the lines PROTOCOL.md shows', () => {
    expect(encodeHostMessage({ type: 'hello?', majors: [1] })).toBe('HELLO? 1*BE\n');
    expect(encodeHostMessage({ type: 'ring', index: 3, value: 512 })).toBe('R 3 512*79\n');
    expect(encodeHostMessage({ type: 'led', index: 2, on: true })).toBe('L 2 1*9E\n');
    expect(encodeHostMessage({ type: 'ping?', token: 7 })).toBe('PING? 7*68\n');
    expect(encodeDeviceMessage(deviceMessages[0])).toBe(
      'HELLO 1.0 rig-knob-box 1.0.0 RKB-3F9A21C4 8 4 2 0*96\n',
    );
    expect(encodeDeviceMessage({ type: 'encoder', index: 1, delta: -2 })).toBe('E 1 -2*BA\n');
    expect(encodeDeviceMessage({ type: 'button', index: 0, down: true })).toBe('B 0 1*1A\n');
    expect(encodeDeviceMessage({ type: 'pong', token: 7 })).toBe('PONG 7*F4\n');
    expect(encodeDeviceMessage({ type: 'error', code: 'hello', detail: '' })).toBe('ERR hello*CB\n');
  });

  it('reads back every device and host message it writes', () => {
    for (const message of deviceMessages)
      expect(parseDeviceLine(encodeDeviceMessage(message).slice(0, -1))).toEqual({ ok: true, message });
    for (const message of hostMessages)
      expect(parseHostLine(encodeHostMessage(message).slice(0, -1))).toEqual({ ok: true, message });
  });

  it('ignores fields a later minor version appends, so 1.1 devices still work', () => {
    const hello = parseDeviceLine(framed('HELLO 1.1 rig-knob-box 1.2.0 RKB-1 8 4 2 0 24 ws2812'));
    expect(hello.ok && hello.message.type === 'hello' && hello.message.protocol).toEqual({
      major: 1,
      minor: 1,
    });
    expect(parseDeviceLine(framed('K 3 512 extra'))).toEqual({
      ok: true,
      message: { type: 'knob', index: 3, value: 512 },
    });
  });

  it('refuses to encode what could not be read back, naming the field', () => {
    expect(() => encodeHostMessage({ type: 'ring', index: 3, value: 1024 })).toThrow(
      /ring value 1024 is not an integer in 0\.\.1023/,
    );
    expect(() => encodeHostMessage({ type: 'ring', index: 3, value: 12.5 })).toThrow(/ring value 12.5/);
    expect(() => encodeDeviceMessage({ type: 'encoder', index: 0, delta: 0 })).toThrow(/delta 0/);
    expect(() => encodeDeviceMessage({ type: 'encoder', index: 0, delta: 128 })).toThrow(/encoder delta 128/);
    expect(() => frameLine('R 1*2')).toThrow(/without "\*"/);
    expect(() => frameLine('x'.repeat(78))).toThrow(/longer than 80 bytes/);
  });
});

describe('knob-box bad lines', () => {
  const cases: Array<[string, string, LineFault]> = [
    ['a line longer than 80 bytes', framed('K 1 1 ' + 'x'.repeat(74)), 'overlong'],
    ['no checksum at all', 'K 3 512', 'frame'],
    ['lower-case checksum digits', 'HELLO? 1*be', 'frame'],
    ['a checksum that is not hex', 'K 3 512*9G', 'frame'],
    ['a control byte', framed('K 3\x01 512'), 'frame'],
    ['a byte above 0x7E', framed('K 3 5\u00e9'), 'frame'],
    ['a star in the payload', 'K 3*5 *00', 'frame'],
    ['only a checksum', '*00', 'frame'],
    ['a wrong checksum', 'K 3 512*9E', 'checksum'],
    ['a changed digit', 'K 3 513*9F', 'checksum'],
    ['a doubled space', framed('K  3 512'), 'syntax'],
    ['a trailing space', framed('K 3 512 '), 'syntax'],
    ['a missing value', framed('K 3'), 'syntax'],
    ['letters for a number', framed('K three 512'), 'syntax'],
    ['six digits', framed('K 3 000512'), 'syntax'],
    ['a HELLO with too few fields', framed('HELLO 1.0 rig-knob-box 1.0.0 RKB-1 8 4 2'), 'syntax'],
    ['a HELLO with a bad version', framed('HELLO 1 rig-knob-box 1.0.0 RKB-1 8 4 2 0'), 'syntax'],
    [
      'a HELLO whose kind is not lower-case letters, digits and dashes',
      framed('HELLO 1.0 Rig_Box 1.0.0 RKB-1 8 4 2 0'),
      'syntax',
    ],
    ['ERR without a code', framed('ERR'), 'syntax'],
    ['an unknown verb', framed('X 1 2'), 'unknown'],
    ['a host verb from the device', framed('R 1 2'), 'unknown'],
    ['knob value 1024', framed('K 3 1024'), 'range'],
    ['a negative knob value', framed('K 3 -1'), 'range'],
    ['index 64', framed('K 64 0'), 'range'],
    ['button state 2', framed('B 0 2'), 'range'],
    ['an encoder delta of 0', framed('E 0 0'), 'range'],
    ['an encoder delta of 128', framed('E 0 128'), 'range'],
    ['a pong token above 65535', framed('PONG 65536'), 'range'],
    ['a HELLO with more motors than knobs', framed('HELLO 1.0 rig-knob-box 1.0.0 RKB-1 2 4 2 3'), 'range'],
    ['a HELLO with 70 rings', framed('HELLO 1.0 rig-knob-box 1.0.0 RKB-1 40 4 30 0'), 'range'],
  ];
  it.each(cases)('the device side refuses %s', (_what, line, fault) => {
    const result = parseDeviceLine(line);
    expect(faultOf(result)).toBe(fault);
    expect(result.ok ? '' : result.reason).not.toBe('');
  });

  it('the host side refuses device verbs, bad majors, bad LED states and tokens', () => {
    expect(faultOf(parseHostLine(framed('K 1 2')))).toBe('unknown');
    expect(faultOf(parseHostLine(framed('HELLO?')))).toBe('syntax');
    expect(faultOf(parseHostLine(framed('HELLO? 0')))).toBe('range');
    expect(faultOf(parseHostLine(framed('L 0 2')))).toBe('range');
    expect(faultOf(parseHostLine(framed('R 3 1024')))).toBe('range');
    expect(faultOf(parseHostLine(framed('PING? x')))).toBe('syntax');
    expect(faultOf(parseHostLine('R 3 512*78'))).toBe('checksum');
  });

  it('names the problem in the reason', () => {
    const result = parseDeviceLine('K 3 512*9E');
    expect(result.ok ? '' : result.reason).toBe('checksum 9E, payload gives 9F');
    const range = parseDeviceLine(framed('K 3 2000'));
    expect(range.ok ? '' : range.reason).toMatch(/K value 2000 is not 0\.\.1023/);
  });
});

describe('knob-box line assembler', () => {
  it('joins a line split across reads and strips a CR', () => {
    const { lines } = collect(new LineAssembler(), ['K 3 5', '12*9F', '\r', '\nB 0 1*1A\n']);
    expect(lines).toEqual(['K 3 512*9F', 'B 0 1*1A']);
  });

  it('skips blank lines without calling them faults', () => {
    expect(collect(new LineAssembler(), ['\n\r\n\n'])).toEqual({ lines: [], overlong: [] });
  });

  it('takes an 80-byte line with its CRLF and refuses an 81-byte one', () => {
    const { lines, overlong } = collect(new LineAssembler(), [
      'x'.repeat(MAX_LINE_BYTES) + '\r\n',
      'y'.repeat(MAX_LINE_BYTES + 1) + '\n',
    ]);
    expect(lines).toEqual(['x'.repeat(MAX_LINE_BYTES)]);
    expect(overlong).toEqual([MAX_LINE_BYTES + 1]);
  });

  it('holds no more than one line of a megabyte without newlines, reports it once, then resynchronises', () => {
    const assembler = new LineAssembler();
    let most = 0;
    const noise = new Uint8Array(4096);
    let seed = 12345;
    const chunks: Uint8Array[] = [];
    for (let chunk = 0; chunk < 256; chunk++) {
      for (let i = 0; i < noise.length; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        noise[i] = seed % 256 === 0x0a ? 0x20 : seed % 256;
      }
      chunks.push(noise.slice());
    }
    const lines: string[] = [];
    const overlong: number[] = [];
    for (const chunk of chunks) {
      assembler.push(chunk, { line: (text) => lines.push(text), overlong: (bytes) => overlong.push(bytes) });
      most = Math.max(most, assembler.bufferedBytes);
    }
    expect(most).toBeLessThanOrEqual(assembler.capacity);
    expect(assembler.capacity).toBe(MAX_LINE_BYTES + 1);
    const after = collect(assembler, ['\nK 3 512*9F\n']);
    expect(lines).toEqual([]);
    expect(after.overlong).toEqual([256 * 4096]);
    expect(after.lines).toEqual(['K 3 512*9F']);
  });
});
