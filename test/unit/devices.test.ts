import { describe, expect, it } from 'vitest';
import { findDevice, listDevices, type AudioDevice } from '../../engine/src/realtime/devices.ts';

const devices: AudioDevice[] = [
  {
    id: 0,
    name: 'pulse',
    maxInputChannels: 32,
    maxOutputChannels: 32,
    defaultSampleRate: 44100,
    hostAPIName: 'ALSA',
  },
  {
    id: 3,
    name: 'Scarlett 2i2 USB: Audio (hw:1,0)',
    maxInputChannels: 2,
    maxOutputChannels: 2,
    defaultSampleRate: 48000,
    hostAPIName: 'ALSA',
  },
  {
    id: 4,
    name: 'HDMI 0',
    maxInputChannels: 0,
    maxOutputChannels: 8,
    defaultSampleRate: 48000,
    hostAPIName: 'ALSA',
  },
];

describe('audio devices', () => {
  it('finds a device by id or by part of its name, for the right direction', () => {
    expect(findDevice(devices, '3', 'input').name).toMatch(/Scarlett/);
    expect(findDevice(devices, 'scarlett', 'output').id).toBe(3);
    expect(findDevice(devices, 'hdmi', 'output').id).toBe(4);
    expect(() => findDevice(devices, 'hdmi', 'input')).toThrow(
      /no input device matches "hdmi" \(input devices: 0: pulse, 3: Scarlett/,
    );
  });

  it('lists what PortAudio sees without its probe chatter reaching the terminal', () => {
    // This machine may have no sound system at all: an empty list, not an error.
    const list = listDevices();
    expect(Array.isArray(list)).toBe(true);
    for (const d of list) expect(typeof d.name).toBe('string');
  });
});
