/** The filter between the engine's child process and the terminal in `rig start`. */
import { describe, expect, it } from 'vitest';
import { ChatterFilter } from '../../engine/src/realtime/chatter-filter.ts';

// Lines as naudiodon 2.3.6 and ALSA print them on this machine (copied from a run).
const OPEN = [
  'PortAudio V19.6.0-devel, revision unknown\n',
  'Input audio options: device 0, sample rate 48000, channels 2, bits per sample 32, max queue 2, frames per buffer 512, close on error false\n',
  'Input device name is pulse\n',
];

describe('chatter filter', () => {
  it("drops PortAudio's and ALSA's lines and passes the rig's own, split anywhere", () => {
    const filter = new ChatterFilter();
    const text = [
      ...OPEN,
      'rig: "pulse" -> "pulse" through the chain in real time (48 kHz, 512-frame blocks)\n',
      'ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM iec958:{AES0 0x6 AES1 0x82 AES2 0x0 AES3 0x2 CARD 0}\n',
      'AudioIO: portAudio status - output underflow \n',
      'health: DSP load mean 0.5 %\n',
      'Finishing input - 4096 bytes not available to fill the last buffer\n',
    ].join('');
    // Three bytes at a time: pipes cut wherever they like.
    let out = '';
    for (let i = 0; i < text.length; i += 3) out += filter.push(text.slice(i, i + 3));
    out += filter.flush();
    expect(out).toBe(
      'rig: "pulse" -> "pulse" through the chain in real time (48 kHz, 512-frame blocks)\nhealth: DSP load mean 0.5 %\n',
    );
    expect(filter.outputUnderflows).toBe(1);
  });

  it('passes a status line redrawn in place at once, without waiting for a newline', () => {
    const filter = new ChatterFilter();
    expect(filter.push('\r   1.0 s  M in  -21.7 ')).toBe('\r   1.0 s  M in  -21.7 ');
    expect(filter.push('\r   2.0 s  M in  -21.2 ')).toBe('\r   2.0 s  M in  -21.2 ');
    expect(filter.push('\n')).toBe('\n');
  });

  it("keeps the rig's error lines, which are not chatter", () => {
    const filter = new ChatterFilter();
    const error = 'rig start: no input device matches "scarlett" (input devices: 0: pulse)\n';
    expect(filter.push(error)).toBe(error);
    expect(filter.dropped).toBe(0);
  });
});

describe('chatter filter on stderr', () => {
  it('drops the blank lines the JACK and ALSA probing leaves, keeps error text', () => {
    const filter = new ChatterFilter({ dropBlankLines: true });
    const out = filter.push(
      '\n\njack server is not running or cannot be started\nrig start: --block 7: use 16 to 8192 frames\n',
    );
    expect(out).toBe('rig start: --block 7: use 16 to 8192 frames\n');
  });
});
