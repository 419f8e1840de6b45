/** `rig start` until the real-time engine lands: the demo program through the chain, paced by the clock. */
import { parseArgs } from 'node:util';
import { meterValue } from '../../engine/src/meter-layout.ts';
import { PacedPlayer } from '../../engine/src/paced-player.ts';
import { parseNumber, parseSet } from './common.ts';

export function commandStart(args: string[]): void {
  const { values: flags } = parseArgs({
    args,
    options: { duration: { type: 'string' }, set: { type: 'string', multiple: true, default: [] }, demo: { type: 'boolean', default: true } },
  });
  const duration = parseNumber('--duration', flags.duration);
  const player = new PacedPlayer({ sampleRate: 48000, block: 512, values: parseSet(flags.set ?? []) });
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(1).padStart(6) : '    —');
  const line = () => {
    const m = player.chain.meters;
    return `${player.seconds.toFixed(0).padStart(5)} s  in ${fmt(meterValue(m, 'input.shortTermLufs'))} LUFS  out ${fmt(meterValue(m, 'output.shortTermLufs'))} LUFS` +
      `  (I ${fmt(meterValue(m, 'output.integratedLufs'))})  TP ${fmt(meterValue(m, 'output.truePeakMaxDbtp'))} dBTP` +
      `  GR comp ${fmt(meterValue(m, 'comp.grDb'))}  lim ${fmt(meterValue(m, 'limiter.grDb'))} dB`;
  };
  console.log(`rig: no audio interface engine yet; playing the built-in demo program through the chain (48 kHz, 512-frame blocks, latency ${player.chain.latencySamples} samples)`);
  console.log('     Ctrl-C stops.');
  player.start();
  const tty = process.stdout.isTTY;
  const status = setInterval(() => (tty ? process.stdout.write(`\r${line()} `) : console.log(line())), tty ? 250 : 1000);
  const stop = () => {
    clearInterval(status);
    player.close();
    if (tty) process.stdout.write('\n');
    console.log(line());
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (duration !== undefined) setTimeout(stop, duration * 1000);
}
