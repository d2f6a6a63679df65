/**
 * What the link (link.ts) needs from a world: a duplex stream of gossip frames, and a way to
 * open one to an endpoint. The real world (src/comm) supplies a gRPC GossipStream over TLS and
 * a gRPC dialer + server; the simulation (src/sim) supplies a SimSocket over SimNetwork. All
 * comm behaviour (handshake, dedup, queues, acks, demux, presumed dead, counters) is the link's.
 *
 * Stream contract (both worlds):
 *   write(frame) hands one frame to the stream and returns whether it may be called again at
 *     once; false = wait for sink.onDrain. A write on a failed stream throws (a write error).
 *   attach(sink) routes incoming frames, drain and close to `sink` (replacing the previous one);
 *     a stream already closed calls sink.onClose at once.
 *   pause/resume: stop/restart delivering frames (receive back-pressure); may be no-ops.
 *   end(): half-close after what was written (a dialled stream retiring); close(): end it now.
 */
import { GrapevineError } from '../../base/errors.js';

/** Where a stream's events go. Members are called as plain functions (no `this`). */
export interface LinkSink {
  readonly onFrame: (frame: Uint8Array) => void;
  readonly onDrain: () => void;
  /** The stream ended (remote end, reset, error); `reason` says which. Called at most once. */
  readonly onClose: (reason: string) => void;
}

/** One end of a gossip stream (GossipStream in gRPC terms). */
export interface LinkStream {
  /** 'out' = we opened it (initiator), 'in' = accepted (responder). */
  readonly direction: 'in' | 'out';
  /** Remote address as seen locally. */
  readonly remoteEndpoint: string;
  /** DER of the TLS leaf the remote presented on this stream (undefined without TLS). */
  remoteCertDer(): Uint8Array | undefined;
  /** DER of our TLS leaf on this stream (client cert when dialling, server cert when accepting). */
  readonly ownCertDer?: Uint8Array;
  attach(sink: LinkSink): void;
  write(frame: Uint8Array): boolean;
  pause(): void;
  resume(): void;
  /** Half-close once written frames are out; the remote's end then closes the stream. */
  end(): void;
  /** Close now; idempotent. */
  close(reason?: string): void;
  /**
   * An accepted stream passed its handshake: the world no longer treats its connection as a
   * stranger's (connection limits shed strangers first). Optional: worlds without limits omit it.
   */
  authenticated?(): void;
}

/** The world under a link: opening streams, and what stop needs of the world. */
export interface LinkWorld {
  /** Connect and Ping (PROTOCOL.md §3.7 probe). Rejects with DialError. */
  ping(endpoint: string): Promise<void>;
  /** Connect, Ping and open a gossip stream (direction 'out'); `probe` = for a probe handshake. */
  open(endpoint: string, probe: boolean): Promise<LinkStream>;
  /**
   * Run `fn` soon, after the current batch of received frames (the real world: the next turn of
   * the event loop; the simulation: at once).
   */
  defer(fn: () => void): void;
  /** stop, step 1 (after every step in progress was aborted): stop accepting, close clients. */
  stopAccepting(): void;
  /**
   * stop, step 2: wait for work in progress to settle, at most `graceMs` (the world decides
   * whose time: real time for sockets; the simulation does not wait). True when all settled.
   */
  settle(inflight: Set<Promise<unknown>>, graceMs: number): Promise<boolean>;
  /** stop, step 3: release what is left. */
  released(): void;
}

export type DialStep = 'CONNECT' | 'PING' | 'STREAM' | 'STOPPED';

/** A dial that failed before the handshake; `code` = the step. */
export class DialError extends GrapevineError {}

export const stoppedError = (): DialError => new DialError('STOPPED', 'comm is stopping');
