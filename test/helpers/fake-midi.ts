/**
 * A MIDI backend that behaves like easymidi's, for machines without an ALSA sequencer: devices
 * plug and unplug, ports fail once their device is gone, and every message passes through
 * easymidi's own parsing and serialising code.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { EasyMidiMessage, MidiBackend } from '../../controller/src/midi/ports.ts';

/*
 * The fake device speaks through easymidi's own message code: incoming bytes are parsed by
 * easymidi's Input.parseMessage and outgoing sends serialised by its Output.parseMessage (both
 * pure functions of their arguments). Only RtMidi, which needs an ALSA sequencer, is replaced.
 */
const easymidi = createRequire(import.meta.url)('easymidi') as {
  Input: { prototype: { parseMessage(bytes: number[]): { type: string; msg: EasyMidiMessage } } };
  Output: { prototype: { parseMessage(type: string, args: unknown): number[] } };
};

export class FakeInput extends EventEmitter {
  gone = false;
  closed = false;

  /** What easymidi's RtMidi callback does with one message from the wire. */
  deliver(bytes: number[]): void {
    const { type, msg } = easymidi.Input.prototype.parseMessage(bytes);
    msg._type = type;
    this.emit(type, msg);
    this.emit('message', msg);
  }

  close(): void {
    if (this.gone) throw new Error('RtMidi not initialised');
    this.closed = true;
  }
}

export class FakeOutput {
  gone = false;
  closed = false;
  readonly sends: Array<[string, unknown]> = [];
  readonly wire: number[] = [];

  send(type: string, args: unknown): void {
    if (this.gone) throw new Error('Internal RtMidi error');
    this.sends.push([type, structuredClone(args)]);
    this.wire.push(...easymidi.Output.prototype.parseMessage(type, args));
  }

  close(): void {
    if (this.gone) throw new Error('RtMidi not initialised');
    this.closed = true;
  }
}

export interface FakeDevice {
  inputName: string;
  outputName: string | null;
  inputs: FakeInput[];
  outputs: FakeOutput[];
}

export class FakeBackend implements MidiBackend {
  readonly devices = new Map<string, FakeDevice>();
  listingFailure: Error | null = null;
  openFailure: Error | null = null;

  plug(inputName: string, outputName: string | null = inputName): FakeDevice {
    const device = this.devices.get(inputName) ?? { inputName, outputName, inputs: [], outputs: [] };
    this.devices.set(inputName, device);
    return device;
  }

  /** The cable is pulled: the ports leave the lists and the open ones start failing. */
  unplug(inputName: string): void {
    const device = this.devices.get(inputName)!;
    this.devices.delete(inputName);
    for (const port of [...device.inputs, ...device.outputs]) port.gone = true;
  }

  /** The newest input port opened for a device: what the device "plays" into. */
  input(inputName: string): FakeInput {
    const device = this.devices.get(inputName)!;
    return device.inputs[device.inputs.length - 1];
  }

  output(inputName: string): FakeOutput {
    const device = this.devices.get(inputName)!;
    return device.outputs[device.outputs.length - 1];
  }

  getInputs(): string[] {
    if (this.listingFailure) throw this.listingFailure;
    return [...this.devices.keys()];
  }

  getOutputs(): string[] {
    return [...this.devices.values()].flatMap((d) => (d.outputName === null ? [] : [d.outputName]));
  }

  openInput(name: string): FakeInput {
    if (this.openFailure) throw this.openFailure;
    const device = this.devices.get(name);
    if (!device) throw new Error(`No MIDI input found with name: ${name}`);
    const port = new FakeInput();
    device.inputs.push(port);
    return port;
  }

  openOutput(name: string): FakeOutput {
    const device = [...this.devices.values()].find((d) => d.outputName === name);
    if (!device) throw new Error(`No MIDI output found with name: ${name}`);
    const port = new FakeOutput();
    device.outputs.push(port);
    return port;
  }
}
