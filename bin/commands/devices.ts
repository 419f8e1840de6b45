/** `rig devices`: the audio interfaces PortAudio sees, with channels and sample rates. */
import { parseArgs } from 'node:util';
import { listDevices } from '../../engine/src/index.ts';

export function commandDevices(args: string[]): void {
  const { values: flags } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const devices = listDevices();
  if (flags.json) return void console.log(JSON.stringify(devices, null, 2));
  if (devices.length === 0)
    return void console.log('no audio devices (the engine plays its demo program without one)');
  console.log(
    `${'id'.padStart(3)}  ${'name'.padEnd(36)} ${'in'.padStart(3)} ${'out'.padStart(4)}  ${'rate'.padStart(7)}  api`,
  );
  for (const d of devices) {
    console.log(
      `${String(d.id).padStart(3)}  ${d.name.slice(0, 36).padEnd(36)} ${String(d.maxInputChannels).padStart(3)} ${String(d.maxOutputChannels).padStart(4)}  ${String(d.defaultSampleRate).padStart(7)}  ${d.hostAPIName}`,
    );
  }
}
