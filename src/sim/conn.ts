/**
 * The simulation's only part of a gossip connection: a SimSocket (network.ts) as the link's
 * LinkStream (src/core/link/stream.ts). Everything else (handshake, queues, dedup, acks, ...)
 * is the shared link, the same code as on real sockets.
 *
 *   write(frame): one frame at a time. It is on the wire after the link's serialization time
 *     (socket.write resolves), then the sink's onDrain asks for the next: a flood faster than the
 *     link fills the link's send queue and overflows, as on a real socket. Returns false always
 *     (wait for drain). A write on a closed socket throws (a write error).
 *   pause/resume: no-ops (frames are handed over as they arrive; the link's receive queue is
 *     drained at once). end(): nothing to do (a retired duplicate is closed at once in the sim).
 */
import type { LinkSink, LinkStream } from '../core/link/stream.js';
import { SimNetError, type SimSocket } from './network.js';

export class SimLinkStream implements LinkStream {
  private sink?: LinkSink;
  private ended?: string;
  /** Writes not yet on the wire; the sink hears of a drain when none is left. */
  private writing = 0;
  readonly ownCertDer = undefined;

  constructor(
    private readonly socket: SimSocket,
    readonly direction: 'in' | 'out',
  ) {
    socket.onClose = (why) => this.end_(why);
  }

  get remoteEndpoint(): string {
    return this.socket.remote;
  }

  remoteCertDer(): Uint8Array | undefined {
    return undefined;
  }

  attach(sink: LinkSink): void {
    this.sink = sink;
    this.socket.onFrame = sink.onFrame;
    if (this.ended !== undefined) sink.onClose(this.ended);
  }

  write(frame: Uint8Array): boolean {
    if (this.socket.closed)
      throw new SimNetError(
        'STREAM_CLOSED',
        `stream ${this.socket.local} -> ${this.socket.remote} is closed`,
      );
    this.writing++;
    this.socket.write(frame).then(this.drained, this.drained);
    return false;
  }

  pause(): void {}

  resume(): void {}

  end(): void {}

  close(reason = 'closed'): void {
    this.socket.close(reason);
  }

  private readonly drained = (): void => {
    if (--this.writing === 0) this.sink?.onDrain();
  };

  private end_(why: string): void {
    if (this.ended !== undefined) return;
    this.ended = why;
    this.sink?.onClose(why);
  }
}
