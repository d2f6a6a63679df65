/**
 * Signature-independent demultiplexing (PROTOCOL.md §3.6): every received message (acks were
 * intercepted before, conn/empty never get here) is offered to each subscriber whose predicate
 * matches. A subscriber that throws is logged and does not affect the others.
 */
import type { Logger } from '../../base/log.js';
import type { ReceivedMessage, Unsubscribe } from './types.js';

interface Subscriber {
  readonly predicate: (m: ReceivedMessage) => boolean;
  readonly handler: (m: ReceivedMessage) => void;
}

export class Demux {
  private subs: Subscriber[] = [];

  constructor(private readonly log?: Logger) {}

  subscribe(predicate: (m: ReceivedMessage) => boolean, handler: (m: ReceivedMessage) => void): Unsubscribe {
    const sub = { predicate, handler };
    this.subs = [...this.subs, sub];
    return () => {
      this.subs = this.subs.filter((s) => s !== sub);
    };
  }

  /** Hand `m` to every matching subscriber; returns how many took it. */
  dispatch(m: ReceivedMessage): number {
    let n = 0;
    for (const s of this.subs) {
      try {
        if (!s.predicate(m)) continue;
        n++;
        s.handler(m);
      } catch (e) {
        this.log?.warn({ err: e }, 'gossip subscriber failed');
      }
    }
    return n;
  }

  clear(): void {
    this.subs = [];
  }
}
