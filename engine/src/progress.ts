/** A progress bar for long offline jobs: drawn on a terminal's stderr, silent otherwise. */
export class ProgressBar {
  private lastDraw = 0;
  private readonly enabled: boolean;
  private readonly started = Date.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.stream = stream;
    this.enabled = Boolean(stream.isTTY) && total > 0;
  }
  private readonly stream: NodeJS.WriteStream;

  update(done: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const fraction = Math.min(1, done / this.total);
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - this.label.length - 30));
    const filled = Math.round(fraction * width);
    const elapsed = (now - this.started) / 1000;
    const eta = fraction > 0 ? elapsed / fraction - elapsed : 0;
    this.stream.write(
      `\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${eta.toFixed(0)}s left `,
    );
  }

  done(): void {
    if (this.enabled) this.stream.write('\r\x1b[2K');
  }
}
