/** `rig surfaces` and `rig learn` against a knob box simulated on a real pty pair. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnobBoxSimulator } from '../../controller/src/serial/simulator.ts';
import { loadMapping } from '../../controller/src/mapping/load.ts';
import { startSocatPair, type SocatPair } from '../helpers/socat-pair.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-surfaces-cli-'));
const configDir = path.join(dir, 'config');
let pair: SocatPair;
let box: KnobBoxSimulator;

beforeAll(async () => {
  pair = await startSocatPair(path.join(dir, 'box'), path.join(dir, 'host'));
  box = await KnobBoxSimulator.open(pair.deviceLink, { serialNumber: 'T-0042' });
});
afterAll(async () => {
  await box?.close();
  await pair?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function rig(
  args: string[],
  onOutput?: (text: string) => void,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin/rig.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, RIG_CONFIG_DIR: configDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onOutput?.(stdout);
    });
    child.once('close', (code) => resolve({ code, stdout }));
  });
}

describe('surfaces on the command line', () => {
  it('lists the knob box it finds by handshake, with its mapping', async () => {
    const { code, stdout } = await rig(['surfaces', '--serial', pair.hostLink, '--no-serial-scan', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.serial).toEqual([
      expect.objectContaining({
        path: pair.hostLink,
        mapping: loadMapping(path.join(ROOT, 'mappings/rig-knob-box.json')).name,
        identity: expect.objectContaining({ kind: 'rig-knob-box', serialNumber: 'T-0042', knobs: 8 }),
      }),
    ]);
  });

  it('learns the next control moved into a user mapping file', async () => {
    let asked = false;
    const { code, stdout } = await rig(
      ['learn', 'character.drive', '--serial', pair.hostLink, '--no-serial-scan', '--timeout', '20'],
      (text) => {
        // Once the rig is listening, turn knob index 7 (the eighth) through part of its travel.
        if (!asked && text.includes('move a control')) {
          asked = true;
          let value = 100;
          const turn = setInterval(() => {
            value += 40;
            box.turnKnob(7, value);
            if (value > 500) clearInterval(turn);
          }, 30);
        }
      },
    );
    expect(stdout, stdout).toMatch(/knob 7 on serial:.* now turns character\.drive/i);
    expect(code).toBe(0);
    const saved = loadMapping(path.join(configDir, 'mappings', 'rig-knob-box.json'));
    const control = saved.controls.find((c) => c.input.kind === 'knob' && c.input.index === 7);
    expect(control?.bind).toEqual({ param: 'character.drive', mode: 'absolute' });
  });

  it('names the parameter it does not know', async () => {
    const { code } = await rig([
      'learn',
      'character.drvie',
      '--serial',
      pair.hostLink,
      '--no-serial-scan',
      '--timeout',
      '2',
    ]);
    expect(code).toBe(2);
  });
});
