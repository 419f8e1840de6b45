/**
 * A real pty pair from socat, the stand-in for a USB serial cable in the end-to-end tests: bytes
 * written to one link come out of the other, and killing socat is unplugging the cable. Every
 * socat started here is killed when the test process exits, whatever happened in the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

export interface SocatPair {
  /** Where the simulated box sits. */
  readonly deviceLink: string;
  /** Where the rig opens the "serial port". */
  readonly hostLink: string;
  readonly pid: number;
  /** Kills socat (SIGTERM, then SIGKILL after 2 s) and waits until it has exited. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startSocatPair(
  deviceLink: string,
  hostLink: string,
  timeoutMs = 5000,
): Promise<SocatPair> {
  const child = spawn('socat', [`pty,raw,echo=0,link=${deviceLink}`, `pty,raw,echo=0,link=${hostLink}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(killTimer);
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (fs.existsSync(deviceLink) && fs.existsSync(hostLink)) break;
    const failure = await Promise.race([
      spawnError,
      new Promise<undefined>((resolve) => setTimeout(resolve, 10)),
    ]);
    if (failure)
      throw new Error(`socat did not start (${failure.message}); install it with: apt-get install socat`);
    if (child.exitCode !== null) throw new Error(`socat exited with ${child.exitCode}: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `socat made no pty links at ${deviceLink} and ${hostLink} within ${timeoutMs} ms: ${stderr.trim()}`,
      );
    }
  }
  return { deviceLink, hostLink, pid: child.pid!, stop };
}

/** Kills every socat this process started that is still running. */
export async function stopAllSocat(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
