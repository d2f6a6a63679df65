/**
 * Input generation of the adversarial suite's fuzzers, from the simulation's seeded generator (so
 * a failing input can be replayed from its seed and index): mutations of valid seed messages (bit flips, random bytes,
 * truncation, extension, duplicated or moved slices, two seeds spliced, protobuf-shaped garbage:
 * a field key with an absurd length), and valid seeds of gossip envelopes signed by a member.
 */
import { randomBytes } from 'node:crypto';
import { SeededRng } from '../../src/sim/rng.js';
import type { CommIdentity } from '../../src/core/link/types.js';
import { Tag, channelBytes, encodeEnvelope, signGossip, unsignedGossip } from '../../src/wire/gossip.js';

/** One mutant of a seed drawn from `seeds`. */
export function mutate(seeds: readonly Uint8Array[], rng: SeededRng): Uint8Array {
  const seed = seeds[rng.int(seeds.length)]!;
  const b = new Uint8Array(seed);
  const op = rng.int(8);
  switch (op) {
    case 0: {
      const flips = 1 + rng.int(8);
      for (let i = 0; i < flips && b.length > 0; i++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
      return b;
    }
    case 1: {
      const n = 1 + rng.int(16);
      for (let i = 0; i < n && b.length > 0; i++) b[rng.int(b.length)] = rng.int(256);
      return b;
    }
    case 2:
      return b.slice(0, rng.int(b.length + 1));
    case 3: {
      const tail = rng.bytes(1 + rng.int(64));
      const out = new Uint8Array(b.length + tail.length);
      out.set(b);
      out.set(tail, b.length);
      return out;
    }
    case 4: {
      if (b.length < 2) return b;
      const from = rng.int(b.length);
      const len = 1 + rng.int(Math.min(256, b.length - from));
      const at = rng.int(b.length);
      const out = new Uint8Array(b.length + len);
      out.set(b.subarray(0, at));
      out.set(b.subarray(from, from + len), at);
      out.set(b.subarray(at), at + len);
      return out;
    }
    case 5: {
      const other = seeds[rng.int(seeds.length)]!;
      const cut = rng.int(b.length + 1);
      const cut2 = rng.int(other.length + 1);
      const out = new Uint8Array(cut + other.length - cut2);
      out.set(b.subarray(0, cut));
      out.set(other.subarray(cut2), cut);
      return out;
    }
    case 6: {
      // a length-delimited field whose length says far more than follows
      if (b.length < 2) return b;
      const at = rng.int(b.length - 1);
      b[at] = ((1 + rng.int(15)) << 3) | 2;
      b[at + 1] = 0xff;
      return b;
    }
    default:
      return rng.bytes(rng.int(512));
  }
}

/** Valid gossip envelopes (encoded) of a member `id` for `channel`: the fuzzer's seeds. */
export function gossipSeeds(id: CommIdentity, endpoint: string, channel: string): Uint8Array[] {
  const ch = channelBytes(channel);
  const signed = [
    signGossip(
      {
        tag: Tag.EMPTY,
        nonce: 0n,
        content: {
          case: 'aliveMsg',
          value: {
            membership: { endpoint, pkiId: id.pkiId, metadata: new Uint8Array(0) },
            timestamp: { incNum: BigInt(Date.now()) * 1_000_000n, seqNum: 1n },
            identity: id.signer.serializedIdentity,
          },
        },
      },
      id.signer,
    ),
    signGossip(
      {
        tag: Tag.CHAN_AND_ORG,
        nonce: 0n,
        channel: ch,
        content: {
          case: 'leadershipMsg',
          value: {
            pkiId: id.pkiId,
            timestamp: { incNum: BigInt(Date.now()) * 1_000_000n, seqNum: 1n },
            isDeclaration: true,
          },
        },
      },
      id.signer,
    ),
  ];
  const unsigned = [
    unsignedGossip({ tag: Tag.EMPTY, nonce: 7n, content: { case: 'memReq', value: {} } }),
    unsignedGossip({
      tag: Tag.CHAN_AND_ORG,
      nonce: 0n,
      channel: ch,
      content: {
        case: 'dataMsg',
        value: { payload: { seqNum: 1_000_000n, data: new Uint8Array(randomBytes(2048)) } },
      },
    }),
    unsignedGossip({
      tag: Tag.CHAN_OR_ORG,
      channel: ch,
      nonce: 9n,
      content: { case: 'stateRequest', value: { startSeqNum: 0n, endSeqNum: 10n } },
    }),
    unsignedGossip({
      tag: Tag.CHAN_AND_ORG,
      channel: ch,
      nonce: 11n,
      content: { case: 'hello', value: { nonce: 11n, msgType: 1 } },
    }),
  ];
  return [...signed, ...unsigned].map((s) => encodeEnvelope(s.envelope));
}
