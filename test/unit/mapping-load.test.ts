import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MappingError,
  builtinMappingDir,
  decoderConfig,
  findMapping,
  loadMapping,
  loadMappings,
  userMappingDir,
} from '../../controller/src/mapping/load.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-mapping-load-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const knob = (controller: number, param = 'comp.threshold') => ({
  name: `knob ${controller}`,
  input: { kind: 'cc', channel: 1, controller },
  bind: { param, mode: 'absolute' },
});

function document(overrides: Record<string, unknown> = {}) {
  return {
    name: 'Test box',
    description: 'for the test',
    device: { kind: 'midi', portName: 'Test Box' },
    controls: [knob(1)],
    ...overrides,
  };
}

function write(name: string, content: unknown, into = dir): string {
  const file = path.join(into, name);
  fs.mkdirSync(into, { recursive: true });
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

function refusal(file: string): MappingError {
  try {
    loadMapping(file);
  } catch (error) {
    expect(error).toBeInstanceOf(MappingError);
    return error as MappingError;
  }
  throw new Error(`${file} was accepted`);
}

describe('loading one mapping', () => {
  it('reads a valid file and remembers where it came from', () => {
    const file = write('ok.json', document());
    const mapping = loadMapping(file);
    expect(mapping.file).toBe(file);
    expect(mapping.controls[0].name).toBe('knob 1');
  });

  it('a quick-slot button under the old action name "recall" still loads, as "slot"', () => {
    const button = { name: 'slot B', input: { kind: 'note', channel: 1, note: 3 } };
    const file = write(
      'old-names.json',
      document({
        layers: ['main', 'shift'],
        controls: [
          knob(1),
          {
            ...button,
            bind: { action: 'recall', slot: 'B' },
            onLayer: { shift: { action: 'recall', slot: 'D' } },
          },
        ],
      }),
    );
    const mapping = loadMapping(file);
    expect(mapping.controls[1].bind).toEqual({ action: 'slot', slot: 'B' });
    expect(mapping.controls[1].onLayer).toEqual({ shift: { action: 'slot', slot: 'D' } });
    expect(mapping.controls[0].bind).toEqual({ param: 'comp.threshold', mode: 'absolute' });
  });

  it('invalid JSON names the file, line and column', () => {
    const file = write('broken.json', '{\n  "name": "x",\n  "description": "y"\n  "device": {}\n}\n');
    const error = refusal(file);
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/invalid JSON at line 4, column 3/);
  });

  it('a schema violation names the JSON path and the reason', () => {
    const bad = document({ controls: [{ ...knob(1), input: { kind: 'cc', channel: 17, controller: 1 } }] });
    const error = refusal(write('channel.json', bad));
    expect(error.jsonPath).toBe('controls[0].input.channel');
    expect(error.message).toMatch(/controls\[0\]\.input\.channel: must be <= 16/);
  });

  it('an unknown property and a wrong mode are named', () => {
    expect(refusal(write('extra.json', document({ colour: 'red' }))).message).toMatch(
      /unknown property "colour"/,
    );
    const badMode = document({
      controls: [{ ...knob(1), bind: { param: 'comp.threshold', mode: 'absolut' } }],
    });
    const error = refusal(write('mode.json', badMode));
    expect(error.jsonPath).toBe('controls[0].bind.mode');
    expect(error.reason).toMatch(/must be one of "absolute"/);
  });

  it('an unknown parameter id suggests the closest real one', () => {
    const error = refusal(write('typo.json', document({ controls: [knob(1, 'comp.ration')] })));
    expect(error.message).toBe(
      `mapping "${path.join(dir, 'typo.json')}": controls[0].bind.param: unknown parameter "comp.ration" (did you mean "comp.ratio"?)`,
    );
  });

  it('two controls on the same message are a duplicate binding', () => {
    const error = refusal(
      write('dup.json', document({ controls: [knob(5), { ...knob(5, 'comp.knee'), name: 'other' }] })),
    );
    expect(error.jsonPath).toBe('controls[1].input');
    expect(error.reason).toMatch(/CC 5 on channel 1 is already bound by controls\[0\] "knob 5"/);
  });

  it('a 14-bit pair claims its LSB controller too', () => {
    const fader = {
      name: 'fader',
      input: { kind: 'cc14', channel: 1, controller: 7 },
      bind: { param: 'output.trim', mode: 'absolute' },
    };
    const error = refusal(write('lsb.json', document({ controls: [fader, knob(39)] })));
    expect(error.reason).toMatch(/CC 39 on channel 1 is already bound by controls\[0\] "fader"/);
  });

  it('NRPN framing controllers cannot also be plain knobs', () => {
    const nrpn = {
      name: 'n',
      input: { kind: 'nrpn', channel: 1, parameter: 3 },
      bind: { param: 'output.trim', mode: 'absolute' },
    };
    expect(refusal(write('nrpn.json', document({ controls: [nrpn, knob(6)] }))).reason).toMatch(
      /CC 6 carries NRPN framing/,
    );
  });

  it('a mode that does not fit the control is refused', () => {
    const relativeNote = {
      name: 'n',
      input: { kind: 'note', channel: 1, note: 1 },
      bind: { param: 'comp.threshold', mode: 'relative-twos-complement' },
    };
    expect(refusal(write('fit.json', document({ controls: [relativeNote] }))).reason).toBe(
      'mode "relative-twos-complement" does not fit a note input',
    );
    const stepContinuous = {
      name: 'n',
      input: { kind: 'note', channel: 1, note: 1 },
      bind: { param: 'comp.threshold', mode: 'step' },
    };
    expect(refusal(write('step.json', document({ controls: [stepContinuous] }))).reason).toMatch(
      /"step" needs a parameter with steps or choices/,
    );
  });

  it('toggle values outside the parameter range are refused', () => {
    const toggle = {
      name: 'n',
      input: { kind: 'note', channel: 1, note: 1 },
      bind: { param: 'limiter.ceiling', mode: 'toggle', on: 3 },
    };
    const error = refusal(write('range.json', document({ controls: [toggle] })));
    expect(error.jsonPath).toBe('controls[0].bind.on');
    expect(error.reason).toMatch(/out of range -3\.\.0 dBTP/);
  });

  it('a layer that is not declared is refused', () => {
    const layered = { ...knob(1), onLayer: { shfit: { param: 'comp.knee', mode: 'absolute' } } };
    const error = refusal(write('layer.json', document({ layers: ['main', 'shift'], controls: [layered] })));
    expect(error.jsonPath).toBe('controls[0].onLayer.shfit');
    expect(error.reason).toMatch(/layer "shfit" is not declared/);
  });

  it('a serial box cannot send MIDI, and an invalid port pattern is named', () => {
    const serial = document({ device: { kind: 'serial', deviceKind: 'rig-knob-box' } });
    expect(refusal(write('kind.json', serial)).reason).toBe('a serial device cannot send "cc"');
    expect(
      refusal(write('regex.json', document({ device: { kind: 'midi', portName: 'X(' } }))).jsonPath,
    ).toBe('device.portName');
  });
});

describe('loading folders', () => {
  it('a user file replaces the built-in of the same file name or mapping name; bad files are reported, not fatal', () => {
    const builtin = path.join(dir, 'builtin');
    const user = path.join(dir, 'user');
    write('a.json', document({ name: 'Alpha', device: { kind: 'midi', portName: 'Alpha' } }), builtin);
    write('b.json', document({ name: 'Beta', device: { kind: 'midi', portName: 'Beta' } }), builtin);
    write('c.json', document({ name: 'Gamma', device: { kind: 'midi', portName: 'Gamma' } }), builtin);
    write(
      'a.json',
      document({ name: 'Alpha (mine)', device: { kind: 'midi', portName: 'Alpha' }, controls: [knob(9)] }),
      user,
    );
    write(
      'my-beta.json',
      document({ name: 'Beta', device: { kind: 'midi', portName: 'Beta' }, controls: [knob(8)] }),
      user,
    );
    write('broken.json', '{', user);

    const { mappings, errors } = loadMappings([builtin, user, path.join(dir, 'missing')]);
    expect(errors.map((e) => e.file)).toEqual([path.join(user, 'broken.json')]);
    expect(mappings.map((m) => [m.name, path.relative(dir, m.file!)])).toEqual([
      ['Alpha (mine)', path.join('user', 'a.json')],
      ['Beta', path.join('user', 'my-beta.json')],
      ['Gamma', path.join('builtin', 'c.json')],
    ]);
    expect(findMapping(mappings, { kind: 'midi', portName: 'alpha port 1' })?.name).toBe('Alpha (mine)');
  });

  it('the user folder follows RIG_CONFIG_DIR, then XDG_CONFIG_HOME, then ~/.config', () => {
    const saved = { rig: process.env.RIG_CONFIG_DIR, xdg: process.env.XDG_CONFIG_HOME };
    try {
      process.env.RIG_CONFIG_DIR = '/tmp/rig-conf';
      expect(userMappingDir()).toBe(path.join('/tmp/rig-conf', 'mappings'));
      delete process.env.RIG_CONFIG_DIR;
      process.env.XDG_CONFIG_HOME = '/tmp/xdg';
      expect(userMappingDir()).toBe(path.join('/tmp/xdg', 'rig', 'mappings'));
      delete process.env.XDG_CONFIG_HOME;
      expect(userMappingDir()).toBe(path.join(os.homedir(), '.config', 'rig', 'mappings'));
    } finally {
      for (const [key, value] of [
        ['RIG_CONFIG_DIR', saved.rig],
        ['XDG_CONFIG_HOME', saved.xdg],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('the built-in folder holds the schema the loader validates with', () => {
    expect(fs.existsSync(path.join(builtinMappingDir(), 'mapping.schema.json'))).toBe(true);
  });
});

describe('decoder configuration', () => {
  it('lists 14-bit pairs on wire channels and switches NRPN framing on only when used', () => {
    const controls = [
      {
        name: 'f',
        input: { kind: 'cc14', channel: 3, controller: 2 },
        bind: { param: 'output.trim', mode: 'absolute' },
      },
      knob(20),
    ];
    const plain = loadMapping(write('plain.json', document({ controls })));
    expect(decoderConfig(plain)).toEqual({ cc14: [{ channel: 2, controller: 2 }], nrpn: false });
    const nrpn = {
      name: 'n',
      input: { kind: 'nrpn', channel: 1, parameter: 3 },
      bind: { param: 'comp.knee', mode: 'absolute' },
    };
    expect(
      decoderConfig(loadMapping(write('nrpn.json', document({ controls: [...controls, nrpn] })))).nrpn,
    ).toBe(true);
  });
});
