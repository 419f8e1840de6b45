/**
 * What `rig start` has opened, and the one routine that closes it. The command sets each part as
 * it opens; whichever way the rig ends (an error while starting; Ctrl-C, SIGTERM or the end of
 * --duration), `close` runs once and closes only what was opened, every part even if another fails.
 */
import type { SurfaceManager } from '../../controller/src/index.ts';
import type { DashboardServer } from '../../dashboard/server/index.ts';
import type { LiveAudio, LiveRecall, LoudnessAssist } from '../../engine/src/index.ts';
import type { StatusLine } from './status-line.ts';

export class LiveRig {
  recall?: LiveRecall;
  engine?: LiveAudio;
  assist?: LoudnessAssist;
  surfaces?: SurfaceManager;
  dashboard?: DashboardServer;
  status?: StatusLine;
  private durationTimer?: NodeJS.Timeout;
  private closed?: Promise<void>;

  /** Resolves on Ctrl-C, SIGTERM or, with a duration, when it has run that long. */
  stopRequested(durationS: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      // `on`, not `once`: a second Ctrl-C (or one from the terminal and one forwarded by the
      // filtering parent) must not kill the process before the recording is closed.
      process.on('SIGINT', () => resolve());
      process.on('SIGTERM', () => resolve());
      if (durationS !== undefined) this.durationTimer = setTimeout(resolve, durationS * 1000);
    });
  }

  /**
   * Exit code 0 (a requested stop) ends the terminal on the last status line and the health
   * summary, read while the engine still runs; otherwise an error is on its way to the terminal.
   * Rejects, once everything is closed, with the first part that failed to close.
   */
  close(exitCode: number): Promise<void> {
    return (this.closed ??= this.closeAll(exitCode));
  }

  private async closeAll(exitCode: number): Promise<void> {
    const steps: Array<() => void | Promise<void>> = [
      () => clearTimeout(this.durationTimer),
      () => this.status?.close(exitCode === 0),
      () => this.assist?.stop(),
      () => this.dashboard?.close(),
      () => this.surfaces?.close(),
      () => this.recall?.close(),
      () => this.engine?.stop(),
    ];
    let failure: { error: unknown } | undefined;
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (this.engine?.stuck) console.log('rig: the audio driver did not let go of its stream; left it behind');
    if (failure) throw failure.error;
  }
}
