/**
 * The items one pull instance holds (Fabric's pull state plus its item-id -> message map), keyed
 * by the raw item id bytes. Bounded: an add beyond `maxItems` is refused (the caller counts it).
 * An item that is already held keeps its first envelope (our own signed PeerIdentity is never
 * replaced by a copy that came back from a peer).
 */
import type { Envelope, GossipMessage } from '../../wire/gen/gossip/message_pb.js';

/** One pullable item: its id (digest bytes) and the envelope that is sent in DataUpdates. */
export interface PullItem {
  readonly id: Uint8Array;
  readonly envelope: Envelope;
  readonly message: GossipMessage;
}

export type AddResult = 'added' | 'exists' | 'full';

export function itemKey(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

export class PullItemStore {
  private readonly items = new Map<string, PullItem>();

  constructor(private readonly maxItems: number) {}

  get size(): number {
    return this.items.size;
  }

  has(id: Uint8Array): boolean {
    return this.items.has(itemKey(id));
  }

  get(id: Uint8Array): PullItem | undefined {
    return this.items.get(itemKey(id));
  }

  add(item: PullItem): AddResult {
    const key = itemKey(item.id);
    if (this.items.has(key)) return 'exists';
    if (this.items.size >= this.maxItems) return 'full';
    this.items.set(key, { ...item, id: new Uint8Array(item.id) });
    return 'added';
  }

  remove(id: Uint8Array): boolean {
    return this.items.delete(itemKey(id));
  }

  /** Item ids in insertion order. */
  ids(): Uint8Array[] {
    return [...this.items.values()].map((i) => i.id);
  }

  values(): PullItem[] {
    return [...this.items.values()];
  }
}
