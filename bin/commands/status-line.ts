/**
 * `rig start`'s terminal view of the running engine: one status line (loudness, true peak, drive,
 * gain reduction, DSP load, xruns), redrawn in place on a terminal and printed once a second
 * otherwise; device events and a failed recording on lines of their own as they happen; the last
 * line and the health summary when the rig stops.
 */
import { DeviceState, meterValue, type LiveAudio, type ParameterStore } from '../../engine/src/index.ts';

export interface StatusLineOptions {
  block: number;
  sampleRate: number;
  /** The file being recorded, named if its recording stops. */
  record?: string;
}

export class StatusLine {
  private readonly frame: Float32Array;
  // The filtering parent (device mode) owns the terminal and says whether it is one.
  private readonly tty = process.stdout.isTTY || process.env.RIG_STATUS_TTY === '1';
  private timer?: NodeJS.Timeout;
  private reported = 0;
  private recordErrorShown = false;

  constructor(
    private readonly engine: LiveAudio,
    private readonly store: ParameterStore,
    private readonly options: StatusLineOptions,
  ) {
    this.frame = new Float32Array(engine.readMeters().length);
  }

  start(): void {
    this.timer = setInterval(() => this.refresh(), this.tty ? 250 : 1000);
  }

  /** Stops the refresh; with `summary` (a requested stop), ends on the last line and the health summary. */
  close(summary: boolean): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    // The line being redrawn ends, so whatever follows starts on a line of its own.
    if (this.tty) process.stdout.write('\n');
    if (!summary) return;
    console.log(this.line());
    console.log(this.health());
  }

  private refresh(): void {
    const { engine, tty } = this;
    // Device events (loss, reopen failures) on lines of their own, as they happen.
    for (; this.reported < engine.deviceErrors.length; this.reported++)
      process.stdout.write(`${tty ? '\r\x1b[K' : ''}device: ${engine.deviceErrors[this.reported]}\n`);
    if (engine.recordError && !this.recordErrorShown) {
      this.recordErrorShown = true;
      process.stdout.write(
        `${tty ? '\r\x1b[K' : ''}recording to ${this.options.record} stopped: ${engine.recordError.message} (the audio goes on; what was written is kept)\n`,
      );
    }
    if (tty) process.stdout.write(`\r${this.line()} `);
    else console.log(this.line());
  }

  private line(): string {
    const { engine, options } = this;
    const m = engine.readMeters(this.frame);
    const seconds = (meterValue(m, 'engine.blocks') * options.block) / options.sampleRate;
    return (
      `${fmt(seconds)} s  M in ${fmt(meterValue(m, 'input.momentaryLufs'))}  out ${fmt(meterValue(m, 'output.momentaryLufs'))} LUFS` +
      `  I ${fmt(meterValue(m, 'output.integratedLufs'))}  TP ${fmt(meterValue(m, 'output.truePeakMaxDbtp'))} dBTP` +
      `  S ${fmt(meterValue(m, 'output.shortTermLufs'))}  drive ${fmt(this.store.get('limiter.gain'))}  GR comp ${fmt(meterValue(m, 'comp.grDb'))} lim ${fmt(meterValue(m, 'limiter.grDb'))} dB` +
      `  DSP ${(meterValue(m, 'engine.dspLoadMean') * 100 || 0).toFixed(1)} %` +
      (engine.devices
        ? `  xruns ${meterValue(m, 'engine.inputOverflows') || 0}/${meterValue(m, 'engine.outputUnderflows') || 0}  ${stateText(meterValue(m, 'engine.deviceState'))}`
        : '')
    );
  }

  private health(): string {
    const { engine } = this;
    const m = engine.readMeters(this.frame);
    const pct = (v: number) => `${((v || 0) * 100).toFixed(1)} %`;
    return (
      `health: DSP load mean ${pct(meterValue(m, 'engine.dspLoadMean'))}, max ${pct(meterValue(m, 'engine.dspLoadMax'))}` +
      (engine.devices
        ? `; input overflows ${meterValue(m, 'engine.inputOverflows') || 0}, output underflows ${meterValue(m, 'engine.outputUnderflows') || 0}`
        : '') +
      (engine.deviceErrors.length ? `; device events: ${engine.deviceErrors.slice(-3).join(' | ')}` : '') +
      (engine.droppedRecordingFrames ? `; recorder dropped ${engine.droppedRecordingFrames} frames` : '')
    );
  }
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(1).padStart(6) : '     —');

/** The device state for the status line; a lost device in capitals, to be seen at a glance. */
function stateText(state: number): string {
  const name = DeviceState[state] ?? '';
  return state === DeviceState.Lost ? name.toUpperCase() : name.toLowerCase();
}
