/**
 * Live audio as the main thread sees it: start and stop the audio worker, change
 * parameters (one API for controllers, dashboard, recall and the CLI), read meters and health,
 * and record the master to WAV off the audio thread.
 */
import { Worker } from 'node:worker_threads';
import { METER_FRAME_LENGTH } from '../meter-layout.ts';
import { PARAMETERS, parameterIndex, type ParameterValues } from '../params.ts';
import type { ParameterStore } from '../parameter-store.ts';
import { WavWriter, type SampleFormat } from '../wav.ts';
import { RecordRing } from './record-ring.ts';
import { SharedMeters } from './shared-meters.ts';
import { SharedParams } from './shared-params.ts';
import type { WorkerConfig } from './worker-context.ts';

export interface LiveAudioOptions {
  sampleRate?: number;
  block?: number;
  source?: WorkerConfig['source'];
  values?: ParameterValues;
  record?: { file: string; format?: SampleFormat; input?: string };
  /** Which interface inputs (1-based) feed the stereo bus. */
  channels?: [number, number];
  /** Demo or file source: also play the master on this output device (name substring or id). */
  monitor?: string;
  /** Default true: the audio thread asks for a better nice value than the rest of the machine. */
  raisePriority?: boolean;
}

export class LiveAudio {
  readonly sampleRate: number;
  readonly block: number;
  private readonly params = new SharedParams();
  private readonly meters = new SharedMeters();
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private readonly ring?: RecordRing;
  private readonly inputRing?: RecordRing;
  private writer?: WavWriter;
  private inputWriter?: WavWriter;
  private drainTimer?: NodeJS.Timeout;
  private worker?: Worker;
  private unsubscribe?: () => void;
  private stopped?: Promise<void>;
  /** Write errors of the recorder, kept so the audio never notices them. */
  recordError?: Error;
  latencySamples = 0;
  /** The engine's own I/O buffering: the block, plus the output cushion with a device. The host's (PortAudio, driver) comes on top. */
  ioLatencySamples = 0;
  /** The audio thread's scheduling priority, as the worker could set it (e.g. "nice -11"). */
  audioPriority = 'normal';
  /** The interface in use (device mode), as PortAudio names it. */
  devices?: { input: string; output: string };
  /** The output device the demo (or file) also plays on, when one was asked for and opened. */
  monitorOutput?: string;
  /** Set when stop() had to abandon a worker blocked in the audio driver. */
  stuck = false;
  /** Stream errors the devices reported; the engine keeps running. */
  readonly deviceErrors: string[] = [];

  constructor(private readonly options: LiveAudioOptions = {}) {
    this.sampleRate = options.sampleRate ?? 48000;
    this.block = options.block ?? 512;
    for (const [id, value] of Object.entries(options.values ?? {}))
      this.params.write(parameterIndex(id), value);
    if (options.record) this.ring = new RecordRing();
    if (options.record?.input) this.inputRing = new RecordRing();
  }

  /** Starts the audio worker; resolves once the chain is running. */
  async start(): Promise<void> {
    if (this.options.record) {
      // A header refreshed every second: a killed process still leaves a playable file.
      this.writer = new WavWriter(this.options.record.file, {
        sampleRate: this.sampleRate,
        channels: 2,
        format: this.options.record.format ?? 'float32',
        headerRefreshFrames: this.sampleRate,
      });
      if (this.options.record.input) {
        // The raw input in float: a safety copy, whatever the master's format.
        this.inputWriter = new WavWriter(this.options.record.input, {
          sampleRate: this.sampleRate,
          channels: 2,
          format: 'float32',
          headerRefreshFrames: this.sampleRate,
        });
      }
      this.drainTimer = setInterval(() => this.drainRecording(), 50);
    }
    const config: WorkerConfig = {
      sampleRate: this.sampleRate,
      block: this.block,
      source: this.options.source ?? { kind: 'demo' },
      params: this.params.buffer,
      meters: this.meters.buffer,
      control: this.control.buffer as SharedArrayBuffer,
      record: this.ring?.buffer,
      recordInput: this.inputRing?.buffer,
      channels: this.options.channels,
      monitor: this.options.monitor,
      raisePriority: this.options.raisePriority,
    };
    const worker = new Worker(new URL('./audio-worker-boot.mjs', import.meta.url), { workerData: config });
    this.worker = worker;
    this.stopped = new Promise((resolve) => worker.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      worker.on(
        'message',
        (message: {
          type: string;
          latencySamples?: number;
          ioLatencySamples?: number;
          message?: string;
          input?: string;
          output?: string;
          priority?: string;
        }) => {
          if (message.type === 'ready') {
            this.latencySamples = message.latencySamples ?? 0;
            this.ioLatencySamples = message.ioLatencySamples ?? this.block;
            this.audioPriority = message.priority ?? 'normal';
            this.devices = message.input ? { input: message.input, output: message.output ?? '' } : undefined;
            this.monitorOutput = message.input ? undefined : message.output;
            resolve();
          } else if (message.type === 'error') {
            reject(new Error(`audio engine: ${message.message}`));
          } else if (message.type === 'device-error') {
            this.deviceErrors.push(message.message ?? 'unknown device error');
          }
        },
      );
      worker.once('error', reject);
    });
  }

  /** Sets a parameter (clamped to the schema); the chain glides to it on its next block. */
  set(id: string, value: number): number {
    return this.params.write(parameterIndex(id), value);
  }

  get(id: string): number {
    return this.params.read(parameterIndex(id));
  }

  /** Follows a parameter store: every change, whatever its origin, reaches the chain. */
  attach(store: ParameterStore): void {
    PARAMETERS.forEach((spec, i) => this.params.write(i, store.get(spec.id)));
    this.unsubscribe = store.subscribe((change) => this.params.write(change.index, change.value));
  }

  /** A consistent copy of the latest meter frame (engine health included). */
  /** Integrated loudness, LRA and every maximum start again at the next block. */
  resetMeters(): void {
    Atomics.add(this.control, 1, 1);
  }

  readMeters(into?: Float32Array): Float32Array {
    return this.meters.read(into ?? new Float32Array(METER_FRAME_LENGTH));
  }

  get droppedRecordingFrames(): number {
    return this.ring?.droppedFrames ?? 0;
  }

  private drainRecording(): void {
    if (this.recordError) return;
    try {
      for (const [ring, writer] of [
        [this.ring, this.writer],
        [this.inputRing, this.inputWriter],
      ] as const) {
        if (!ring || !writer) continue;
        const samples = ring.drain();
        if (samples.length > 0) writer.write(samples);
      }
    } catch (error) {
      // Disk full, unplugged drive: the recording stops, the audio goes on.
      this.recordError = error as Error;
    }
  }

  async stop(): Promise<void> {
    if (!this.worker) return;
    Atomics.store(this.control, 0, 1);
    // A device stream that lost its server can leave the worker blocked in native code (PortAudio
    // waiting on a dead connection), where neither its own exit nor terminate() gets through.
    // Give it 1.5 s, ask for termination, and then let go: the caller's process can still exit.
    const wait = (ms: number) =>
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref());
    const exited = await Promise.race([this.stopped!.then(() => true), wait(1500)]);
    if (!exited) {
      this.stuck = true;
      await Promise.race([this.worker.terminate().then(() => true), wait(1000)]);
    }
    this.worker = undefined;
    this.unsubscribe?.();
    clearInterval(this.drainTimer);
    if (this.writer) {
      this.drainRecording();
      for (const writer of [this.writer, this.inputWriter]) {
        if (!writer) continue;
        // Even after a write error (disk full) the file keeps what was written: an hour of a
        // live set is worth more than a clean failure. If even closing fails, the partial file
        // stays, playable up to its last header refresh.
        try {
          writer.close();
        } catch (error) {
          this.recordError ??= error as Error;
        }
      }
      this.writer = this.inputWriter = undefined;
    }
  }
}
