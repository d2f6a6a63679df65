/**
 * Acknowledgements (PROTOCOL.md §3.8). sendWithAck stamps a fresh random nonce; a waiter per
 * (nonce, peer) resolves when that peer's Ack with that nonce arrives (error text = failure),
 * or on timeout. Acks are intercepted before demultiplexing; an Ack nobody waits for is dropped.
 * After failAll (stop) every waiter, present or future, resolves at once with the stop error.
 */
import { clone } from '@bufbuild/protobuf';
import {
  GossipMessageSchema,
  GossipMessage_Tag as Tag,
  type GossipMessage,
} from '../../wire/gen/gossip/message_pb.js';
import { unsignedGossip } from '../../wire/gossip.js';
import type { Clock, TimerHandle } from '../../base/time.js';
import type { Envelope } from '../../wire/gen/gossip/message_pb.js';

interface Waiter {
  readonly timer: TimerHandle;
  readonly resolve: (error: string | undefined) => void;
}

export class AckRegistry {
  private readonly waiters = new Map<string, Waiter>();
  private failed?: string;

  constructor(private readonly clock: Clock) {}

  get pending(): number {
    return this.waiters.size;
  }

  /** Wait for the Ack of `nonce` from peer `key`; resolves with undefined (success) or an error text. */
  expect(
    nonce: bigint,
    key: string,
    timeoutMs: number,
  ): { promise: Promise<string | undefined>; cancel: (error: string) => void } {
    if (this.failed !== undefined) return { promise: Promise.resolve(this.failed), cancel: () => undefined };
    const id = `${nonce}:${key}`;
    let resolveFn!: (error: string | undefined) => void;
    const promise = new Promise<string | undefined>((resolve) => {
      resolveFn = resolve;
    });
    const finish = (error: string | undefined) => {
      const w = this.waiters.get(id);
      if (!w) return;
      this.clock.clearTimer(w.timer);
      this.waiters.delete(id);
      resolveFn(error);
    };
    const timer = this.clock.setTimeout(
      () => finish(`timed out waiting for ack after ${timeoutMs} ms`),
      timeoutMs,
    );
    this.waiters.set(id, { timer, resolve: finish });
    return { promise, cancel: finish };
  }

  /** An Ack arrived from `key`; true when someone was waiting for it. */
  deliver(message: GossipMessage, key: string): boolean {
    if (message.content.case !== 'ack') return false;
    const w = this.waiters.get(`${message.nonce}:${key}`);
    if (!w) return false;
    const err = message.content.value.error;
    w.resolve(err === '' ? undefined : err);
    return true;
  }

  /** Forget every waiter without resolving it, and release its timer (a simulated crash). */
  dropAll(): void {
    this.failed = 'comm stopped';
    for (const w of this.waiters.values()) this.clock.clearTimer(w.timer);
    this.waiters.clear();
  }

  /** Resolve every waiter with `error` (stop). */
  failAll(error: string): void {
    this.failed = error;
    for (const w of [...this.waiters.values()]) w.resolve(error);
  }
}

/** The Ack for a message: nonce echoed, tag UNDEFINED, no channel, unsigned. */
export function ackEnvelope(nonce: bigint, error = ''): Envelope {
  return unsignedGossip({ nonce, tag: Tag.UNDEFINED, content: { case: 'ack', value: { error } } }).envelope;
}

/** `message` with a fresh nonce, re-encoded unsigned (sendWithAck). */
export function withNonce(message: GossipMessage, nonce: bigint): Envelope {
  const copy = clone(GossipMessageSchema, message);
  copy.nonce = nonce;
  return unsignedGossip(copy).envelope;
}
