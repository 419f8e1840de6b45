/**
 * Plays a generated source through the chain paced by the wall clock, without an audio device:
 * what `rig start` runs until the real-time engine owns an interface. It keeps the chain busy at
 * exactly real-time rate so the meters move as they would live.
 */
import { MasteringChain } from './chain.ts';
import { DemoProgram } from './demo-program.ts';
import type { ParameterValues } from './params.ts';

export interface PacedPlayerOptions {
  sampleRate: number;
  block: number;
  values?: ParameterValues;
  /** Called after each block with the chain (meters are in chain.meters). */
  onBlock?: (chain: MasteringChain) => void;
}

export class PacedPlayer {
  readonly chain: MasteringChain;
  private readonly program: DemoProgram;
  private readonly left: Float32Array;
  private readonly right: Float32Array;
  private timer?: NodeJS.Timeout;
  private startedAt = 0n;
  private framesDone = 0;

  constructor(private readonly options: PacedPlayerOptions) {
    this.chain = new MasteringChain({ sampleRate: options.sampleRate, maxBlock: options.block, values: options.values });
    this.program = new DemoProgram(options.sampleRate);
    this.left = new Float32Array(options.block);
    this.right = new Float32Array(options.block);
  }

  get seconds(): number {
    return this.framesDone / this.options.sampleRate;
  }

  start(): void {
    this.startedAt = process.hrtime.bigint();
    // 5 ms ticks: each tick catches up with the clock, so timer jitter never drifts the rate.
    this.timer = setInterval(() => this.catchUp(), 5);
  }

  private catchUp(): void {
    const elapsedSeconds = Number(process.hrtime.bigint() - this.startedAt) / 1e9;
    const due = Math.floor(elapsedSeconds * this.options.sampleRate);
    while (this.framesDone + this.options.block <= due) {
      this.program.fill(this.left, this.right);
      this.chain.process(this.left, this.right);
      this.framesDone += this.options.block;
      this.options.onBlock?.(this.chain);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
