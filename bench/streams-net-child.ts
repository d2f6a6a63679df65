/**
 * A process of its own for the catch-up figure of bench/streams-net.ts (as a peer is, in a real
 * network): argv[2] is a JSON job on stdin-free argv, one of
 *   { kind: 'peer', net, org, index, height }: start peer<index>.org<org> with streams (e2e-world)
 *     and report when its ledger reaches `height`;
 *   { kind: 'raw', net, org, index, endpoint, height }: open a raw Deliver stream on `endpoint`
 *     with that peer's identity from block 1 and report when block height-1 arrived.
 * Prints one JSON line { ms, streamed? } on stdout (ms from the start of the catch-up).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GrpcUpstreamConnector } from '../src/comm/deliver/grpc.js';
import { loadCommTls } from '../src/comm/identity.js';
import { resolveDeliverConfig } from '../src/core/deliver/index.js';
import { silentLogger } from '../src/base/log.js';
import { loadSigningIdentity } from '../src/identity/index.js';
import { encode } from '../src/wire/codec.js';
import { parseDeliverResponse } from '../src/wire/deliver-frames.js';
import { EnvelopeSchema } from '../src/wire/gen/common/common_pb.js';
import { deliverSeekEnvelope } from '../src/wire/orderer.js';
import { testOrgMspDir, testPeerDir } from '../test/helpers/crypto.js';
import { CHANNEL, startPeer, type NetChannel } from '../test/net/e2e-world.js';

interface Job {
  readonly kind: 'peer' | 'raw';
  readonly net: Omit<NetChannel, 'genesis'> & { readonly genesis: string };
  readonly org: number;
  readonly index: number;
  readonly height: string;
  readonly endpoint?: string;
}

const job = JSON.parse(process.argv[2]!) as Job;
const net: NetChannel = { ...job.net, genesis: new Uint8Array(Buffer.from(job.net.genesis, 'base64')) };
const height = BigInt(job.height);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (job.kind === 'peer') {
  const p = await startPeer(net, job.org, job.index, { streams: true, logger: silentLogger });
  const t0 = performance.now();
  while (p.ledger.height() < height) await sleep(2);
  const ms = performance.now() - t0;
  const streamed = await p.metrics.value('grapevine_stream_blocks_total');
  process.stdout.write(`${JSON.stringify({ ms, streamed })}\n`);
  await p.stop();
} else {
  const dir = testPeerDir(net.root, job.org, job.index);
  const d = join(testOrgMspDir(net.root, job.org), 'tlscacerts');
  const ca = readFileSync(join(d, readdirSync(d).filter((x) => !x.startsWith('.'))[0]!));
  const c = new GrpcUpstreamConnector(resolveDeliverConfig({}), loadCommTls(join(dir, 'tls'), [ca]));
  const signer = loadSigningIdentity(join(dir, 'msp'), `Org${job.org}MSP`, { now: new Date() }).signer;
  const t0 = performance.now();
  const raw = await c.open(
    job.endpoint!,
    encode(EnvelopeSchema, deliverSeekEnvelope(CHANNEL, 1n, signer, Date.now(), c.tlsCertHash)),
  );
  let got = 0n;
  while (got < height - 1n) {
    const f = await raw.recv();
    if (!f) throw new Error('raw stream ended');
    if (parseDeliverResponse(f).case === 'block') got++;
  }
  const ms = performance.now() - t0;
  process.stdout.write(`${JSON.stringify({ ms })}\n`);
  raw.close();
  c.closeAll();
}
process.exit(0);
