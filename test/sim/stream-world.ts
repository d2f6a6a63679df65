/**
 * The stream layer alone at scale (1,000 peers): what the full GossipService world (e2e-world.ts)
 * cannot simulate on one core (its membership opens N^2/2 gossip connections; see the bench).
 * Per host: a SimDisk ledger, the real Deliver serving logic over the sim rpc (sim/deliver.ts,
 * LedgerDeliverSource, the sim Readers policy), the real StreamFollower (core/stream) with a
 * SimUpstreamConnector, blocks verified with the sim crypto, an in-order commit buffer of 20
 * blocks whose addPayload blocks when full (the state layer's flow control).
 * Stand-ins: membership is an oracle (the org's live peers), and each peer's height is what its
 * StateInfo would carry under the streaming throttle (the last multiple of lagBlocks / 2 it
 * reached); peer 0 of each org is the static leader, pulling from the MemoryOrderer with a plain
 * Deliver loop (as do acting sources).
 */
import { SimNetwork, simCrypto, simOrg, simPeer, SimTrust, type SimIdentity } from '../../src/sim/index.js';
import { SimGossipCrypto } from '../../src/sim/crypto.js';
import { SimUpstreamConnector, serveSimDeliver, withSimReaders } from '../../src/sim/deliver.js';
import { MemoryOrderer } from '../../src/sim/memorderer.js';
import { makeChain } from '../../src/sim/blockmaker.js';
import { LedgerDeliverSource } from '../../src/service/deliversource.js';
import { StreamFollower } from '../../src/core/stream/follower.js';
import { streamConfig } from '../../src/core/stream/config.js';
import type { StreamMember } from '../../src/core/stream/tree.js';
import { deliverSeekEnvelope } from '../../src/wire/orderer.js';
import { encode } from '../../src/wire/codec.js';
import { EnvelopeSchema } from '../../src/wire/gen/common/common_pb.js';
import { decodeBlock } from '../../src/wire/block.js';
import { parseDeliverResponse } from '../../src/wire/deliver-frames.js';
import { SimDisk } from './e2e-world.js';

export const STREAM_CHANNEL = 'streamchannel';
const ORDERER = 'orderer0.example.com:7050';

export interface StreamPeer {
  readonly endpoint: string;
  readonly org: number;
  readonly identity: SimIdentity;
  readonly disk: SimDisk;
  follower?: StreamFollower;
  /** Full block copies received (stream and orderer frames). */
  copies: number;
  /** Stream bytes that are not block bytes (as e2e-world counts them). */
  overhead: number;
  published: bigint;
  acting: boolean;
}

export interface StreamWorld {
  readonly net: SimNetwork;
  readonly peers: StreamPeer[];
  readonly orderer: MemoryOrderer;
  readonly chain: Uint8Array[];
  cut(): bigint;
  behind(height: bigint): number;
}

export async function streamWorld(
  seed: number,
  o: { orgs: number; peersPerOrg: number; blocks: number; txCount: number; txBytes: number; fanout?: number },
): Promise<StreamWorld> {
  const crypto = await simCrypto({ orgs: o.orgs, peersPerOrg: o.peersPerOrg });
  const ordererOrg = await simOrg(0, { domain: 'example.com', mspId: 'OrdererMSP' });
  const ordererId = await simPeer(ordererOrg, 0);
  const chain = makeChain({
    channel: STREAM_CHANNEL,
    orderer: ordererId.signer,
    from: 0n,
    n: o.blocks + 1,
    txCount: o.txCount,
    txBytes: o.txBytes,
  });
  const net = new SimNetwork({ seed });
  const mspIds = new Set(crypto.orgs.map((x) => x.mspId));
  const channels = new Map([[STREAM_CHANNEL, mspIds]]);
  const orderer = new MemoryOrderer({ clock: net.clock, addresses: [ORDERER], blocks: [chain[0]!] });
  const config = streamConfig({ fanout: o.fanout ?? 4 });
  const step = BigInt(Math.max(1, Math.floor(config.lagBlocks / 2)));
  const peers: StreamPeer[] = crypto.peers.map((identity) => ({
    endpoint: `${identity.name}:7051`,
    org: crypto.orgs.indexOf(identity.org) + 1,
    identity,
    disk: new SimDisk(chain[0]!, net.clock),
    copies: 0,
    overhead: 0,
    published: 1n,
    acting: false,
  }));
  const byOrg = new Map<number, StreamPeer[]>();
  for (const p of peers) byOrg.set(p.org, [...(byOrg.get(p.org) ?? []), p]);
  const isLeader = (p: StreamPeer) => byOrg.get(p.org)![0] === p;

  function boot(p: StreamPeer): void {
    const clock = net.hostClock(p.endpoint);
    const trust = new SimTrust([...crypto.orgs, ordererOrg], clock);
    const gc = new SimGossipCrypto(trust, channels);
    const ledger = p.disk.open();
    const source = new LedgerDeliverSource(STREAM_CHANNEL, ledger);
    serveSimDeliver({
      net,
      endpoint: p.endpoint,
      clock,
      source: (ch) => (ch === STREAM_CHANNEL ? withSimReaders(source, gc) : undefined),
    });
    // in-order commit buffer; addPayload waits while 20 blocks are buffered
    const buffer = new Map<bigint, Uint8Array>();
    const waiters: (() => void)[] = [];
    const commit = async () => {
      for (let h = p.disk.height, b = buffer.get(h); b; h = p.disk.height, b = buffer.get(h)) {
        buffer.delete(h);
        await ledger.append(b);
        if (p.disk.height / step !== p.published / step) p.published = p.disk.height;
        source.committed(p.disk.height);
      }
      for (const w of waiters.splice(0)) w();
    };
    const addPayload = async (seq: bigint, bytes: Uint8Array) => {
      while (buffer.size >= 20 && seq >= p.disk.height + 20n) await new Promise<void>((r) => waiters.push(r));
      if (seq < p.disk.height || buffer.has(seq)) return;
      buffer.set(seq, bytes);
      await commit();
    };
    const seek = (h: bigint) =>
      encode(EnvelopeSchema, deliverSeekEnvelope(STREAM_CHANNEL, h, p.identity.signer, clock.now()));
    // the orderer loop of the leader / an acting source
    let pulling: { stop: boolean } | undefined;
    const conn = orderer.connector(clock, () => net.isUp(p.endpoint));
    const pull = async (state: { stop: boolean }) => {
      while (!state.stop && net.isUp(p.endpoint)) {
        try {
          const s = await conn.connect({ address: ORDERER } as never, seek(p.disk.height));
          for (;;) {
            const f = await s.recv();
            if (!f || state.stop) break;
            const r = parseDeliverResponse(f);
            if (r.case !== 'block') break;
            p.copies++;
            const b = decodeBlock(r.block);
            gc.verifyBlock(STREAM_CHANNEL, b.header!.number, b);
            await addPayload(b.header!.number, r.block);
          }
          s.close();
        } catch {
          await clock.sleep(100);
        }
      }
    };
    const setPulling = (on: boolean) => {
      if (on && !pulling) void pull((pulling = { stop: false }));
      if (!on && pulling) {
        pulling.stop = true;
        pulling = undefined;
      }
    };
    if (isLeader(p)) setPulling(true);
    const connector = new SimUpstreamConnector(net, p.endpoint);
    const open = connector.open.bind(connector);
    connector.open = async (endpoint, env) => {
      const s = await open(endpoint, env);
      p.overhead += env.length + 7 + 32;
      return {
        recv: async () => {
          const f = await s.recv();
          if (f) {
            p.overhead += 1 + 5 / 8;
            if (f[0] === 0x12) p.copies++;
            else p.overhead += f.length;
          }
          return f;
        },
        close: () => s.close(),
      };
    };
    p.follower = new StreamFollower({
      channelId: STREAM_CHANNEL,
      selfPkiId: p.identity.pkiId,
      clock,
      config,
      connector,
      members: () =>
        byOrg
          .get(p.org)!
          .filter((m) => m !== p && net.isUp(m.endpoint))
          .map((m): StreamMember => ({
            pkiId: m.identity.pkiId,
            endpoint: m.endpoint,
            height: m.published,
            role: isLeader(m) ? 'leader' : m.acting ? 'source' : undefined,
          })),
      ledgerHeight: () => p.disk.height,
      isLeader: () => isLeader(p),
      seekEnvelope: seek,
      verify: (seq, bytes) => {
        gc.verifyBlock(STREAM_CHANNEL, seq, decodeBlock(bytes));
        return { seq, bytes };
      },
      add: (v) => addPayload(v.seq, v.bytes),
      setActingSource: (on) => {
        p.acting = on;
        setPulling(on || isLeader(p));
      },
    });
    p.follower.start();
    net.onCrash(p.endpoint, () => {
      p.follower?.stop();
      setPulling(false);
      p.disk.close();
    });
  }
  for (const p of peers) net.addHost(p.endpoint, () => boot(p));
  let next = 1;
  return {
    net,
    peers,
    orderer,
    chain,
    cut: () => orderer.cut(chain[next++]!),
    behind: (h) => peers.filter((p) => net.isUp(p.endpoint) && p.disk.height < h).length,
  };
}
