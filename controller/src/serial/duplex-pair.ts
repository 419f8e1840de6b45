/**
 * Two connected in-memory streams: what one writes, the other reads, a byte pipe with no framing,
 * like a serial link. Lets the simulator stand in for a knob box inside one process (tests, or a
 * demo rig without hardware). Destroying either end ends both, as unplugging a cable would.
 */
import { Duplex } from 'node:stream';

export function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const makeEnd = (peerIndex: number): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        const peer = ends[peerIndex];
        // Delivered on a later turn, as bytes from a device are: a writer never re-enters its reader.
        setImmediate(() => {
          if (!peer.destroyed) peer.push(chunk);
          callback();
        });
      },
      destroy(error, callback) {
        const peer = ends[peerIndex];
        if (!peer.destroyed) setImmediate(() => peer.destroy());
        callback(error);
      },
    });
  ends.push(makeEnd(1), makeEnd(0));
  return [ends[0], ends[1]];
}
