/**
 * Bytes from the box, as valid device messages. Lines are assembled in a fixed buffer and parsed
 * (PROTOCOL.md); whatever else arrives is counted by why and dropped, so nothing the device sends
 * can grow memory without bound.
 */
import {
  LINE_FAULTS,
  LineAssembler,
  parseDeviceLine,
  type DeviceMessage,
  type LineFault,
} from './protocol.ts';

export interface ReceiverStats {
  /** Valid lines from the device. */
  linesAccepted: number;
  /** Lines refused, by why (PROTOCOL.md, "Bad lines"). */
  faults: Record<LineFault, number>;
  /** Bytes in refused lines, including overlong ones that were never buffered. */
  discardedBytes: number;
  /** Bytes of a partial line held right now, and the most that can ever be held. */
  bufferedBytes: number;
  bufferCapacity: number;
}

/** What the receiver needs from the surface it feeds. */
export interface ReceiverHost {
  isSession(): boolean;
  /** A line refused in a session; the log counts these (PROTOCOL.md, "Bad lines"). */
  badLine(fault: LineFault, reason: string): void;
  /** A line is being dropped that has not ended yet, `bytesSoFar` of it by now. */
  unterminated(bytesSoFar: number): void;
}

export class LineReceiver {
  linesAccepted = 0;
  readonly faults = Object.fromEntries(LINE_FAULTS.map((fault) => [fault, 0])) as Record<LineFault, number>;
  discardedBytes = 0;

  private readonly assembler = new LineAssembler();
  private readonly lineSink = {
    line: (text: string) => this.line(text),
    overlong: (bytes: number) => this.refuse('overlong', `a line of ${bytes} bytes`, bytes),
  };

  constructor(
    private readonly host: ReceiverHost,
    private readonly onMessage: (message: DeviceMessage) => void,
  ) {}

  get bufferedBytes(): number {
    return this.assembler.bufferedBytes;
  }

  get bufferCapacity(): number {
    return this.assembler.capacity;
  }

  push(chunk: Buffer): void {
    this.assembler.push(chunk, this.lineSink);
    // NULs or noise with no LF are counted only once their line ends, which may take long.
    const dropping = this.assembler.discardingBytes;
    if (dropping > 0 && this.host.isSession()) this.host.unterminated(dropping);
  }

  /** Counts a refused line; during the handshake only the timeout's error tells of them. */
  refuse(fault: LineFault, reason: string, bytes: number): void {
    this.faults[fault]++;
    this.discardedBytes += bytes;
    if (this.host.isSession()) this.host.badLine(fault, reason);
  }

  reset(): void {
    this.assembler.reset();
  }

  private line(text: string): void {
    const parsed = parseDeviceLine(text);
    if (!parsed.ok) return this.refuse(parsed.fault, parsed.reason, text.length);
    this.linesAccepted++;
    this.onMessage(parsed.message);
  }
}
