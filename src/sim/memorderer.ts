/**
 * An in-memory ordering service behind the deliver client's connection interface
 * (DeliverConnector), for the simulation and benchmarks: the real orderer is a gRPC server and
 * cannot run on the simulated transport, so this stands in for "Deliver of one channel".
 *
 *   cut(bytes): the next block (already signed, e.g. by makeChain) becomes available at once.
 *   connector(clock): a DeliverConnector for one peer incarnation. connect(endpoint, seek):
 *     after one latency (the peer's clock), refused when the endpoint is down or unknown; the
 *     SeekInfo is decoded (start = Specified(n)); a creator refused by `readers` gets a FORBIDDEN
 *     status and the stream ends, as our orderer answers. Otherwise blocks n, n+1, ... are sent
 *     as DeliverResponse frames, each no earlier than its cut time + latency, and the stream
 *     waits for new ones (BLOCK_UNTIL_READY).
 *   down(address): every stream of that endpoint ends (a killed orderer); up(address) revives it.
 *   egress: bytes of block frames sent, per endpoint.
 * Timers are the peer's clock, so a crashed peer's streams go quiet with it.
 */
import { parseSerializedIdentity } from '../identity/x509identity.js';
import type { Clock } from '../base/time.js';
import { GrapevineError } from '../base/errors.js';
import type { DeliverConnector, DeliverStream } from '../core/deliver/deliverer.js';
import type { Endpoint } from '../core/deliver/endpoints.js';
import { deliverBlockFrame, deliverStatusFrame } from '../wire/deliver-frames.js';
import { decode } from '../wire/codec.js';
import {
  EnvelopeSchema,
  PayloadSchema,
  SignatureHeaderSchema,
  Status,
} from '../wire/gen/common/common_pb.js';
import { SeekInfoSchema } from '../wire/gen/orderer/ab_pb.js';

export interface MemoryOrdererOptions {
  /** The shared clock (cut times). */
  readonly clock: Clock;
  /** Endpoints served ("host:port"). */
  readonly addresses: readonly string[];
  /** One-way latency orderer <-> peer, ms. Default 5. */
  readonly latencyMs?: number;
  /** Whether a SeekInfo creator (serialized identity) may read; default: everyone. */
  readonly readers?: (creator: Uint8Array, mspId: string) => boolean;
  /** Block 0 (genesis) and any blocks already cut. */
  readonly blocks?: readonly Uint8Array[];
}

interface Waiter {
  wake(): void;
}

export class MemoryOrderer {
  private readonly blocks: Uint8Array[];
  private readonly cutAt: number[];
  private readonly downSet = new Set<string>();
  private readonly waiters = new Set<Waiter>();
  readonly egress = new Map<string, number>();
  readonly latencyMs: number;
  /** Deliver streams opened, per endpoint. */
  readonly connects = new Map<string, number>();

  constructor(private readonly o: MemoryOrdererOptions) {
    this.blocks = [...(o.blocks ?? [])];
    this.cutAt = this.blocks.map(() => o.clock.now());
    this.latencyMs = o.latencyMs ?? 5;
    for (const a of o.addresses) this.egress.set(a, 0);
  }

  get height(): bigint {
    return BigInt(this.blocks.length);
  }

  /** The block at `seq` (its number must equal the current height). */
  cut(bytes: Uint8Array): bigint {
    const seq = BigInt(this.blocks.length);
    this.blocks.push(bytes);
    this.cutAt.push(this.o.clock.now());
    for (const w of [...this.waiters]) w.wake();
    return seq;
  }

  cutTime(seq: bigint): number | undefined {
    return this.cutAt[Number(seq)];
  }

  down(address: string): void {
    this.downSet.add(address);
    for (const w of [...this.waiters]) w.wake();
  }

  up(address: string): void {
    this.downSet.delete(address);
  }

  isUp(address: string): boolean {
    return this.o.addresses.includes(address) && !this.downSet.has(address);
  }

  totalEgress(): number {
    let n = 0;
    for (const v of this.egress.values()) n += v;
    return n;
  }

  /** `alive`: false once the peer incarnation using it is gone (its streams then end quietly). */
  connector(clock: Clock, alive: () => boolean = () => true): DeliverConnector {
    return {
      connect: async (endpoint: Endpoint, seekEnvelope: Uint8Array): Promise<DeliverStream> => {
        await clock.sleep(this.latencyMs * 2);
        if (!alive()) throw new GrapevineError('CONNECT', 'peer is down');
        const address = endpoint.address;
        if (!this.isUp(address)) throw new GrapevineError('CONNECT', `could not dial endpoint '${address}'`);
        this.connects.set(address, (this.connects.get(address) ?? 0) + 1);
        const { start, creator } = parseSeek(seekEnvelope);
        let mspId = '';
        try {
          mspId = parseSerializedIdentity(creator).mspId;
        } catch {
          /* refused below */
        }
        const allowed = mspId !== '' && (this.o.readers?.(creator, mspId) ?? true);
        return new MemStream(this, clock, address, allowed ? start : undefined, alive);
      },
    };
  }

  /** @internal */
  blockAt(seq: number): Uint8Array | undefined {
    return this.blocks[seq];
  }

  /** @internal */
  addWaiter(w: Waiter): () => void {
    this.waiters.add(w);
    return () => this.waiters.delete(w);
  }

  /** @internal */
  countEgress(address: string, n: number): void {
    this.egress.set(address, (this.egress.get(address) ?? 0) + n);
  }
}

function parseSeek(envelope: Uint8Array): { start: bigint; creator: Uint8Array } {
  const env = decode(EnvelopeSchema, envelope, 'common.Envelope');
  const payload = decode(PayloadSchema, env.payload, 'common.Payload');
  const shdr = decode(
    SignatureHeaderSchema,
    payload.header?.signatureHeader ?? new Uint8Array(0),
    'common.SignatureHeader',
  );
  const seek = decode(SeekInfoSchema, payload.data, 'orderer.SeekInfo');
  const t = seek.start?.Type;
  const start = t?.case === 'specified' ? t.value.number : 0n;
  return { start, creator: shdr.creator };
}

class MemStream implements DeliverStream {
  private closed = false;
  private forbiddenSent = false;
  private next: number;
  private pending: ((f: Uint8Array | undefined) => void) | undefined;

  constructor(
    private readonly ord: MemoryOrderer,
    private readonly clock: Clock,
    private readonly address: string,
    start: bigint | undefined,
    private readonly alive: () => boolean,
  ) {
    this.next = start === undefined ? -1 : Number(start);
  }

  async recv(): Promise<Uint8Array | undefined> {
    if (this.closed || !this.alive() || !this.ord.isUp(this.address)) return undefined;
    if (this.next < 0) {
      if (this.forbiddenSent) return undefined;
      this.forbiddenSent = true;
      await this.clock.sleep(this.ord.latencyMs);
      return this.closed ? undefined : deliverStatusFrame(Status.FORBIDDEN);
    }
    for (;;) {
      const bytes = this.ord.blockAt(this.next);
      if (bytes) {
        const due = (this.ord.cutTime(BigInt(this.next)) ?? 0) + this.ord.latencyMs;
        const wait = due - this.clock.now();
        if (wait > 0) await this.clock.sleep(wait);
        if (this.closed || !this.alive() || !this.ord.isUp(this.address)) return undefined;
        this.next++;
        const frame = deliverBlockFrame(bytes);
        this.ord.countEgress(this.address, frame.byteLength);
        return frame;
      }
      const ok = await new Promise<boolean>((resolve) => {
        const remove = this.ord.addWaiter({
          wake: () => {
            remove();
            this.pending = undefined;
            resolve(true);
          },
        });
        this.pending = (f) => {
          remove();
          resolve(f !== undefined);
        };
      });
      if (!ok || this.closed || !this.alive() || !this.ord.isUp(this.address)) return undefined;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const p = this.pending;
    this.pending = undefined;
    p?.(undefined);
  }
}
