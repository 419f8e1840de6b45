/**
 * PortAudio's and ALSA's chatter, kept out of the rig's terminal. naudiodon prints its stream
 * settings and every PortAudio status flag with printf, and ALSA prints its probing errors (on a
 * machine without a card, dozens) to stderr, all from native code in the audio worker where no
 * JavaScript stream can intercept them. `rig start` therefore runs the engine in a child process
 * whose stdout and stderr pass through this filter: the rig's own lines go on, the chatter is
 * dropped, and the xruns PortAudio reported are counted (naudiodon passes them on no other way).
 */

const CHATTER = [
  /^ALSA lib /,
  /^PortAudio V\d/,
  /^(Input|Output) audio options: /,
  /^(Input|Output) device name is /,
  /^AudioIO: /,
  /^Finishing (input|output) - /,
  /^Unexpected N-API status/,
  /^Expression '.*' failed in /,
  /^(Cannot connect to server|jack server is not running|JackShmReadWritePtr|Cannot lock down)/,
];

export function isChatter(line: string): boolean {
  return CHATTER.some((pattern) => pattern.test(line));
}

export class ChatterFilter {
  private pending = '';
  /** Output underflows PortAudio reported (one per status line: flags between writes merge). */
  outputUnderflows = 0;
  inputOverflows = 0;
  dropped = 0;

  /** `dropBlankLines` for stderr: the PortAudio/JACK probing leaves empty lines there, the rig never writes one. */
  constructor(private readonly options: { dropBlankLines?: boolean } = {}) {}

  /**
   * Text to pass on from this chunk. Lines are judged whole; a status line redrawn in place
   * (`\r...` without a newline) passes at once, since chatter never starts with `\r`.
   */
  push(text: string): string {
    this.pending += text;
    let out = '';
    for (;;) {
      const newline = this.pending.indexOf('\n');
      if (newline < 0) break;
      out += this.judge(this.pending.slice(0, newline + 1));
      this.pending = this.pending.slice(newline + 1);
    }
    if (this.pending.startsWith('\r')) {
      out += this.pending;
      this.pending = '';
    }
    return out;
  }

  /** Whatever is left when the stream ends. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest ? this.judge(rest) : '';
  }

  private judge(line: string): string {
    const body = line.slice(line.lastIndexOf('\r') + 1).replace(/\n$/, '');
    const blank = this.options.dropBlankLines && body.trim() === '' && !line.includes('\r');
    if (!blank && (!body || !isChatter(body))) return line;
    this.dropped++;
    if (/output underflow/.test(body)) this.outputUnderflows++;
    if (/input overflow/.test(body)) this.inputOverflows++;
    return line.slice(0, line.lastIndexOf('\r') + 1);
  }
}
