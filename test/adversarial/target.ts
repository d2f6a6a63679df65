/**
 * The target of the adversarial suite: a `grapevine network up` network (orderer + 2 orgs x 3 peers,
 * each its own process, TLS, transactions flowing) started in-process with LocalNetwork, plus what
 * an attacker and a judge need from outside: a process's RSS, a metric from an operations
 * endpoint, /healthz, every peer's height, a legit gossip handshake (probe), raw Deliver and
 * Broadcast clients over the orderer's and peers' TLS, and TCP/TLS connections from other loopback
 * source addresses (127.0.0.2 and up: the per-address caps count each source apart, as they would
 * count the hosts of a real attack).
 */
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { LocalNetwork } from '../../src/network/network.js';
import { peerCryptoDir, ordererCryptoDir, userMspDir, type PeerSpec } from '../../src/network/layout.js';
import { loadSigningIdentity } from '../../src/identity/signer.js';
import type { Signer } from '../../src/wire/signer.js';
import { RawAtomicBroadcastService } from '../../src/comm/deliver/frames.js';
import { channelCredentials, leafDer, sslCredentials, tlsTargetOptions } from '../../src/comm/tls.js';
import { loadCommIdentity, loadCommTls } from '../../src/comm/identity.js';
import { clientChannelOptions } from '../../src/comm/dialer.js';
import { commConfig } from '../../src/core/link/comm-config.js';
import { RawGossipService } from '../../src/comm/stream.js';
import { buildConnEstablish } from '../../src/core/link/handshake.js';
import type { CommIdentity } from '../../src/core/link/types.js';
import { encodeEnvelope } from '../../src/wire/gossip.js';
import { cryptoDir } from '../../src/network/layout.js';
import { userCryptoPath } from '../../src/network/crypto-layout.js';
import { parseDeliverResponse } from '../../src/wire/deliver-frames.js';
import { decode, encode } from '../../src/wire/codec.js';
import { BroadcastResponseSchema } from '../../src/wire/gen/orderer/ab_pb.js';
import { EnvelopeSchema, HeaderType } from '../../src/wire/gen/common/common_pb.js';
import { encodeSeekInfo, seekSpecified, SeekBehavior, signedEnvelope } from '../../src/wire/orderer.js';
import { probe } from '../../src/cli/commands/probe.js';
import { until } from '../helpers/until.js';

export const FULL = process.env.GRAPEVINE_TEST_FULL === '1';

export interface Target {
  readonly net: LocalNetwork;
  readonly user: Signer;
  readonly channel: string;
  peer(name: string): PeerSpec;
  /** The pid of a child (peer name or 'orderer'), while it runs. */
  pid(name: string): number;
  opsUrl(name: string): string;
  /** PEM of the TLS CA of the org of `name` (or the orderer's). */
  tlsCa(name: string): Buffer;
  stop(): Promise<void>;
}

export async function startTarget(dir: string): Promise<Target> {
  const net = await LocalNetwork.up({
    dir,
    rate: 10,
    log: () => undefined,
    readyTimeoutMs: 120_000,
    // the crash loop kills children over and over: restart them at once, every time
    restartBackoff: { firstMs: 200, maxMs: 200 },
  });
  const l = net.layout;
  const user = loadSigningIdentity(userMspDir(l, 1), 'Org1MSP', { now: new Date() }).signer;
  const peer = (name: string): PeerSpec => {
    const p = l.peers.find((s) => s.name === name);
    if (!p) throw new Error(`no peer ${name}`);
    return p;
  };
  return {
    net,
    user,
    channel: l.channel,
    peer,
    pid(name) {
      const child = net.children.list().find((c) => c.name === (name === 'orderer' ? l.orderer.name : name));
      if (child?.proc.pid === undefined || child.exitInfo !== undefined)
        throw new Error(`${name} is not running`);
      return child.proc.pid;
    },
    opsUrl(name) {
      if (name === 'orderer') {
        if (!net.ordererOperationsUrl) throw new Error('the orderer has no operations URL');
        return net.ordererOperationsUrl;
      }
      return `http://127.0.0.1:${peer(name).opsPort}`;
    },
    tlsCa(name) {
      const dir = name === 'orderer' ? ordererCryptoDir(l) : peerCryptoDir(l, peer(name));
      return readFileSync(join(dir, 'tls', 'ca.crt'));
    },
    stop: () => net.stop(),
  };
}

/** Resident set of a process in bytes (/proc/<pid>/status VmRSS). */
export function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}

/** A metric's value summed over the series whose labels include `labels`; -1 unreachable. */
export async function metric(
  opsUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const res = await fetch(`${opsUrl}/metrics`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
  if (!res?.ok) return -1;
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of (await res.text()).split('\n')) {
    if (!(line.startsWith(`${name} `) || line.startsWith(`${name}{`))) continue;
    if (want.every((w) => line.includes(w))) sum += Number(line.split(' ').pop());
  }
  return sum;
}

/** GET /healthz: the status code, or 0 when it could not be reached within 5 s. */
export async function healthz(opsUrl: string): Promise<number> {
  const res = await fetch(`${opsUrl}/healthz`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
  return res?.status ?? 0;
}

/** Every peer's ledger height from its operations endpoint (-1 where unreachable). */
export async function heights(t: Target): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const p of t.net.layout.peers)
    out.set(p.name, await metric(t.opsUrl(p.name), 'ledger_blockchain_height', { channel: t.channel }));
  return out;
}

/** Resolves once every peer's height grew by `blocks` from now (legit blocks keep flowing). */
export async function blocksFlow(t: Target, blocks: number, timeoutMs = 60_000): Promise<void> {
  const start = await heights(t);
  await until(
    async () => {
      const now = await heights(t);
      return [...start].every(([name, h]) => (now.get(name) ?? -1) >= h + blocks);
    },
    `every peer to commit ${blocks} more blocks`,
    { timeoutMs, intervalMs: 250 },
  );
}

/** A legit gossip handshake (probe) with peer `as`'s identity against peer `name`: the rtt, or throws. */
export async function legitHandshake(t: Target, name: string, as: string): Promise<number> {
  const l = t.net.layout;
  const dir = peerCryptoDir(l, t.peer(as));
  const target = t.peer(name);
  const trust = l.peers
    .filter((p) => p.org !== t.peer(as).org)
    .slice(0, 1)
    .map((p) => `${join(peerCryptoDir(l, p), 'msp')}:${p.mspId}`);
  const r = await probe(`127.0.0.1:${target.port}`, {
    msp: join(dir, 'msp'),
    mspid: t.peer(as).mspId,
    tls: join(dir, 'tls'),
    trust,
    timeout: '5s',
  });
  return r.rttMs;
}

/** A gRPC client of orderer.AtomicBroadcast on `port` (the orderer's or a peer's) over TLS. */
export function broadcastClient(port: number, ca: Buffer): grpc.Client {
  const address = `127.0.0.1:${port}`;
  return new grpc.Client(address, sslCredentials(ca), tlsTargetOptions(address));
}

/** Blocks [from, to] from a Deliver server, as the bytes it sent; rejects on a non-SUCCESS status. */
export function deliverRange(
  client: grpc.Client,
  channel: string,
  signer: Signer,
  from: number,
  to: number,
): Promise<Uint8Array[]> {
  const env = signedEnvelope(
    {
      type: HeaderType.DELIVER_SEEK_INFO,
      channelId: channel,
      data: encodeSeekInfo({
        start: seekSpecified(BigInt(from)),
        stop: seekSpecified(BigInt(to)),
        behavior: SeekBehavior.BLOCK_UNTIL_READY,
      }),
      nowMs: Date.now(),
    },
    signer,
  );
  const m = RawAtomicBroadcastService.Deliver;
  const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, {
    deadline: Date.now() + 60_000,
  });
  const blocks: Uint8Array[] = [];
  return new Promise((resolve, reject) => {
    call.on('data', (b: Buffer) => {
      const r = parseDeliverResponse(b);
      if (r.case === 'block') blocks.push(r.block);
      else if (r.case === 'status') {
        call.end();
        if (r.status === 200) resolve(blocks);
        else reject(new Error(`Deliver status ${r.status}`));
      }
    });
    call.on('error', (e) => reject(e));
    call.write(Buffer.from(encode(EnvelopeSchema, env)));
  });
}

/** Send raw Broadcast requests on one stream; resolves with the statuses answered (and the gRPC end). */
export function rawBroadcast(
  client: grpc.Client,
  requests: readonly Uint8Array[],
): Promise<{ statuses: number[]; grpcCode: number }> {
  const m = RawAtomicBroadcastService.Broadcast;
  const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, {
    deadline: Date.now() + 30_000,
  });
  const statuses: number[] = [];
  return new Promise((resolve) => {
    call.on('data', (b: Buffer) => {
      statuses.push(decode(BroadcastResponseSchema, b, 'orderer.BroadcastResponse').status);
    });
    call.on('status', (s: grpc.StatusObject) => resolve({ statuses, grpcCode: s.code }));
    call.on('error', () => undefined);
    for (const r of requests) call.write(Buffer.from(r));
    call.end();
  });
}

/** Idle connections to 127.0.0.1:`port` from source addresses 127.0.0.2...: `count` in all, `perSource` each. */
export async function holdConnections(
  port: number,
  count: number,
  perSource: number,
  tls: boolean,
): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const opening: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const localAddress = `127.0.0.${2 + Math.floor(i / perSource)}`;
    const tcp = netConnect({ host: '127.0.0.1', port, localAddress });
    tcp.on('error', () => undefined);
    // TLS without a client certificate: what any stranger can complete
    const s = tls ? tlsConnect({ socket: tcp, rejectUnauthorized: false, ALPNProtocols: ['h2'] }) : tcp;
    s.on('error', () => undefined);
    s.resume();
    sockets.push(s);
    opening.push(
      new Promise<void>((resolve) => {
        s.once(tls ? 'secureConnect' : 'connect', () => resolve());
        s.once('close', () => resolve());
      }),
    );
    // a burst, not a storm: the accept queue (backlog 511) is not the thing under test
    if (i % 200 === 199) await Promise.all(opening.splice(0));
  }
  await Promise.all(opening);
  return sockets;
}

/** Sockets of `held` still open. */
export const stillOpen = (held: readonly Socket[]): number =>
  held.filter((s) => !s.destroyed && !s.closed).length;

/** A GossipStream to peer `name` over TLS with the client certificate of `tlsDir` (trusting the target's CA). */
function openGossipStream(t: Target, name: string, tlsDir: string) {
  const tls = loadCommTls(tlsDir, [new Uint8Array(t.tlsCa(name))]);
  const address = `127.0.0.1:${t.peer(name).port}`;
  const client = new grpc.Client(address, channelCredentials(tls), {
    ...clientChannelOptions(commConfig()),
    ...tlsTargetOptions(address),
  });
  const s = RawGossipService.GossipStream;
  const call = client.makeBidiStreamRequest(s.path, s.requestSerialize, s.responseDeserialize);
  return { client, call, tls };
}

/**
 * An authenticated GossipStream to peer `name` as User1 of Org1 (a member of the channel's org, not
 * one of its peers, so no real peer's connection is replaced): after the handshake, `send` writes
 * raw frames. `ended()` once the target closed it.
 */
export async function memberGossipStream(
  t: Target,
  name: string,
): Promise<{ id: CommIdentity; send(frame: Uint8Array): boolean; ended(): boolean; close(): void }> {
  const l = t.net.layout;
  const userDir = userCryptoPath(cryptoDir(l), 1, 'User1');
  const id = loadCommIdentity(join(userDir, 'msp'), 'Org1MSP');
  const { client, call, tls } = openGossipStream(t, name, join(userDir, 'tls'));
  let ended = false;
  let why = '';
  let greeted!: () => void;
  const greeting = new Promise<void>((r) => (greeted = r));
  const end = (reason: string) => {
    ended = true;
    why ||= reason;
    greeted();
  };
  call.on('data', () => greeted());
  call.on('error', (e: Error) => end(e.message));
  call.on('end', () => end('ended'));
  call.on('close', () => end('closed'));
  call.write(
    Buffer.from(
      encodeEnvelope(buildConnEstablish({ pkiId: id.pkiId, signer: id.signer }, leafDer(tls.certPem), false)),
    ),
  );
  const timer = setTimeout(() => end('no answer to the handshake within 10 s'), 10_000);
  await greeting;
  clearTimeout(timer);
  if (ended) {
    client.close();
    throw new Error(`${name} refused the handshake of User1@org1: ${why}`);
  }
  return {
    id,
    send: (frame) => call.write(Buffer.from(frame)),
    ended: () => ended,
    close: () => {
      call.end();
      client.close();
    },
  };
}

/**
 * One gossip handshake attempt on peer `name`'s port: TLS with the client certificate of `tlsDir`
 * (trusting the target's CA), then `hello` (a ConnEstablish frame) as the first message. Resolves
 * with how the target answered: 'accepted' (the stream stays open) or 'refused' (it ended).
 */
export async function handshakeAttempt(
  t: Target,
  name: string,
  tlsDir: string,
  hello: (ownLeafDer: Uint8Array) => Uint8Array,
): Promise<'accepted' | 'refused'> {
  const { client, call, tls } = openGossipStream(t, name, tlsDir);
  try {
    // the target sends its own ConnEstablish whatever it makes of ours (both ends send at once),
    // so a refusal is the stream ending; a stream still open 2 s after the greeting was accepted
    return await new Promise<'accepted' | 'refused'>((resolve) => {
      let timer = setTimeout(() => resolve('refused'), 15_000);
      call.on('data', () => {
        clearTimeout(timer);
        timer = setTimeout(() => resolve('accepted'), 2000);
      });
      for (const ev of ['error', 'end', 'close'])
        call.on(ev, () => (clearTimeout(timer), resolve('refused')));
      call.write(Buffer.from(hello(leafDer(tls.certPem))));
    });
  } finally {
    call.cancel();
    client.close();
  }
}

/** A ConnEstablish of the identity in `mspDir`, bound to the TLS leaf given (encoded). */
export function connEstablishOf(mspDir: string, mspId: string, leaf: Uint8Array): Uint8Array {
  const id = loadCommIdentity(mspDir, mspId);
  return encodeEnvelope(buildConnEstablish({ pkiId: id.pkiId, signer: id.signer }, leaf, false));
}
