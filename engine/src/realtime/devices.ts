/**
 * Audio interfaces through naudiodon (PortAudio). PortAudio and ALSA print their probing to
 * the process's own stdout and stderr, so devices are enumerated in a short-lived child process
 * whose output is parsed: the rig's terminal stays readable, and a broken sound system costs a
 * clear error instead of a crash.
 */
import { execFileSync } from 'node:child_process';

export interface AudioDevice {
  id: number;
  name: string;
  maxInputChannels: number;
  maxOutputChannels: number;
  defaultSampleRate: number;
  hostAPIName: string;
}

const MARK = '@@rig-devices@@';
const PROBE = `
const portAudio = require('naudiodon');
const devices = portAudio.getDevices().map((d) => ({ id: d.id, name: d.name, maxInputChannels: d.maxInputChannels,
  maxOutputChannels: d.maxOutputChannels, defaultSampleRate: d.defaultSampleRate, hostAPIName: d.hostAPIName }));
process.stdout.write('${MARK}' + JSON.stringify(devices) + '${MARK}');
`;

export function listDevices(): AudioDevice[] {
  let output: string;
  try {
    output = execFileSync(process.execPath, ['-e', PROBE], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15000,
      cwd: import.meta.dirname,
    });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '')
      .split('\n')
      .filter((l) => /error/i.test(l))
      .slice(-2)
      .join('; ');
    throw new Error(`cannot list audio devices: PortAudio did not start${stderr ? ` (${stderr})` : ''}`);
  }
  const start = output.indexOf(MARK);
  const end = output.lastIndexOf(MARK);
  if (start < 0 || end <= start)
    throw new Error('cannot list audio devices: the PortAudio probe printed no device list');
  return JSON.parse(output.slice(start + MARK.length, end)) as AudioDevice[];
}

/** A device by id, or by a case-insensitive substring of its name. */
export function findDevice(
  devices: AudioDevice[],
  wanted: string,
  direction: 'input' | 'output',
): AudioDevice {
  const usable = devices.filter(
    (d) => (direction === 'input' ? d.maxInputChannels : d.maxOutputChannels) >= 1,
  );
  const byId = /^\d+$/.test(wanted) ? usable.find((d) => d.id === Number(wanted)) : undefined;
  const match = byId ?? usable.find((d) => d.name.toLowerCase().includes(wanted.toLowerCase()));
  if (!match) {
    const names = usable.map((d) => `${d.id}: ${d.name}`).join(', ') || 'none';
    throw new Error(`no ${direction} device matches "${wanted}" (${direction} devices: ${names})`);
  }
  return match;
}
