/**
 * MIDI ports as the surface adapter sees them: a backend that lists and opens ports by name.
 * The real backend is easymidi (RtMidi); tests and machines without a MIDI system supply their
 * own. Port objects keep easymidi's shapes, so a backend is a thin wrapper, never a translation.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * A message as easymidi's Input emits it: `_type` is easymidi's event name ('cc', 'noteon',
 * 'pitch', 'sysex', ...), the other fields depend on the type (see node_modules/easymidi).
 */
export interface EasyMidiMessage {
  _type: string;
  channel?: number;
  note?: number;
  velocity?: number;
  controller?: number;
  value?: number;
  pressure?: number;
  number?: number;
  song?: number;
  /** MTC quarter-frame piece (0..7); easymidi calls it `type`. */
  type?: number;
  bytes?: number[];
}

/** Behaves like easymidi's Input: emits every message as 'message' (and as its own type). */
export interface MidiInputPort {
  on(event: 'message', listener: (message: EasyMidiMessage) => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  removeListener(event: 'message', listener: (message: EasyMidiMessage) => void): unknown;
  close(): void;
}

/** Behaves like easymidi's Output: `send('cc', { channel, controller, value })` etc. */
export interface MidiOutputPort {
  send(type: string, message: unknown): void;
  close(): void;
}

export interface MidiBackend {
  /** Input port names, unique within one listing (easymidi numbers duplicates). Throws when MIDI is unavailable. */
  getInputs(): string[];
  getOutputs(): string[];
  openInput(name: string): MidiInputPort;
  openOutput(name: string): MidiOutputPort;
}

/** The machine has no usable MIDI system; the message is one line a user can act on. */
export class MidiUnavailableError extends Error {
  override readonly name = 'MidiUnavailableError';
}

interface EasyMidiModule {
  getInputs(): string[];
  getOutputs(): string[];
  Input: new (name: string) => MidiInputPort;
  Output: new (name: string) => MidiOutputPort;
}

export interface EasyMidiBackendOptions {
  /**
   * Checked before RtMidi is touched, on Linux: without it RtMidi fails anyway, after printing
   * ALSA's complaints to stderr on every poll. `null` skips the check.
   */
  alsaSequencerPath?: string | null;
}

const DEFAULT_ALSA_SEQUENCER = '/dev/snd/seq';

/** easymidi over RtMidi. Every failure to reach the MIDI system becomes a MidiUnavailableError. */
export class EasyMidiBackend implements MidiBackend {
  private module: EasyMidiModule | null = null;
  private readonly alsaSequencerPath: string | null;

  constructor(options: EasyMidiBackendOptions = {}) {
    this.alsaSequencerPath =
      options.alsaSequencerPath !== undefined
        ? options.alsaSequencerPath
        : process.platform === 'linux'
          ? DEFAULT_ALSA_SEQUENCER
          : null;
  }

  getInputs(): string[] {
    return this.call('list MIDI inputs', (midi) => midi.getInputs());
  }

  getOutputs(): string[] {
    return this.call('list MIDI outputs', (midi) => midi.getOutputs());
  }

  openInput(name: string): MidiInputPort {
    return this.call(`open MIDI input "${name}"`, (midi) => new midi.Input(name));
  }

  openOutput(name: string): MidiOutputPort {
    return this.call(`open MIDI output "${name}"`, (midi) => new midi.Output(name));
  }

  private call<T>(what: string, action: (midi: EasyMidiModule) => T): T {
    if (this.alsaSequencerPath !== null && !existsSync(this.alsaSequencerPath)) {
      throw new MidiUnavailableError(
        `MIDI unavailable: ALSA sequencer not present (${this.alsaSequencerPath} is missing; load the snd-seq kernel module)`,
      );
    }
    const midi = this.load();
    try {
      return action(midi);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // RtMidi's only word for "no MIDI service" (no ALSA sequencer, no CoreMIDI server).
      if (/Failed to initialise RtMidi/i.test(reason))
        throw new MidiUnavailableError(
          `MIDI unavailable: RtMidi could not reach the system MIDI service (${reason})`,
        );
      throw new Error(`cannot ${what}: ${reason}`);
    }
  }

  /** Loaded on first use, so a missing or broken native binary costs an error, not the rig. */
  private load(): EasyMidiModule {
    if (this.module) return this.module;
    try {
      this.module = createRequire(import.meta.url)('easymidi') as EasyMidiModule;
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new MidiUnavailableError(`MIDI unavailable: easymidi did not load (${reason})`);
    }
    return this.module;
  }
}

// Direction words in port names: "In", "IN 1", "Input", Windows' "MIDIIN2 (device)". A word
// boundary on the right is any non-letter, so easymidi's duplicate counter ("Port In1") still counts.
const DIRECTION_WORD = /(^|[^A-Za-z])(MIDI)?(in|In|IN)(put|PUT)?(?![A-Za-z])/g;
const OUT_FOR_IN: Record<string, string> = { in: 'out', In: 'Out', IN: 'OUT', put: 'put', PUT: 'PUT' };
// ALSA port names end in "client:port" numbers, e.g. "X-TOUCH MINI:X-TOUCH MINI MIDI 1 20:0".
const ALSA_ADDRESS = /\s+\d+:\d+$/;

function swapInForOut(name: string): string {
  return name.replace(
    DIRECTION_WORD,
    (_match, before: string, midi: string | undefined, word: string, put: string | undefined) =>
      `${before}${midi ?? ''}${OUT_FOR_IN[word]}${put ? OUT_FOR_IN[put] : ''}`,
  );
}

function deviceKey(name: string): string {
  return name
    .replace(ALSA_ADDRESS, '')
    .replace(/(^|[^A-Za-z])(MIDI)?(in|out)(put)?(?![A-Za-z])/gi, '$1')
    .replace(/(^|[^A-Za-z])MIDI(?![A-Za-z])/gi, '$1')
    .replace(/[\s\d_\-:()]+$/, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

/**
 * The output that talks back to the device behind input `inputName`, or null. In order:
 * 1. an output with exactly the same name (ALSA and CoreMIDI name both directions alike);
 * 2. the name with its direction word swapped: "In" -> "Out", "Input" -> "Output",
 *    "MIDIIN2 (x)" -> "MIDIOUT2 (x)", case kept;
 * 3. the only output with the same device name once direction words, the word "MIDI", ALSA
 *    client:port numbers and trailing port numbers are stripped. Two such outputs are ambiguous: none is chosen,
 *    since feedback to the wrong unit of a pair would be worse than none.
 */
export function findFeedbackPort(inputName: string, outputs: readonly string[]): string | null {
  if (outputs.includes(inputName)) return inputName;
  const swapped = swapInForOut(inputName);
  if (swapped !== inputName && outputs.includes(swapped)) return swapped;
  const key = deviceKey(inputName);
  if (!key) return null;
  const sameDevice = outputs.filter((output) => deviceKey(output) === key);
  return sameDevice.length === 1 ? sameDevice[0] : null;
}
