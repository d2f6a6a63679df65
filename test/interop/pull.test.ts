/**
 * Pull messages captured from a real Fabric v2.4.9 network (../shared/fabric-vectors/gossip):
 * hello / data_dig / data_req / data_update of IDENTITY_MSG and BLOCK_MSG.
 *  - every envelope has the wire shape of §1.5/§6.4 and our builders reproduce its exact bytes;
 *  - identity updates verify with the vectors' certs (real MSPs, channel config of block_0);
 *  - as initiator, given the same nonce and digest, we send Fabric's exact DataRequest and accept
 *    Fabric's DataUpdate (identities into the identity store; blocks verified by VerifyBlock);
 *  - as responder, holding the same items, we answer Fabric's DataRequest with its exact DataUpdate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Rng } from '../../src/base/time.js';
import { parseChannelConfig } from '../../src/channelconfig/index.js';
import { MessageCryptoService, loadSigningIdentity, serializeIdentity } from '../../src/identity/index.js';
import { IdentityStore } from '../../src/identity/store.js';
import { VirtualClock } from '../../src/sim/index.js';
import { IdentityPuller, validateIdentityItem } from '../../src/core/gossip/identity-pull.js';
import { parseBlockDigest, type PulledBlock } from '../../src/core/pull/index.js';
import { standalonePuller } from '../gossip/blockpull-fixture.js';
import {
  digestEnvelope,
  helloEnvelope,
  requestEnvelope,
  updateEnvelope,
  type PullWireKind,
} from '../../src/core/pull/messages.js';
import { decodeBlock } from '../../src/wire/block.js';
import {
  PullMsgType,
  Tag,
  decodeEnvelope,
  encodeEnvelope,
  openEnvelope,
  tagError,
} from '../../src/wire/gossip.js';
import type { Envelope, GossipMessage } from '../../src/wire/gen/gossip/message_pb.js';
import { FakeNet } from '../gossip/fakenet.js';
import {
  SKIP_VECTORS,
  readVector,
  vectorIndex,
  vectorPath,
  type GossipIndexEntry,
} from '../helpers/vectors.js';

const CHANNEL = 'mychannel';
const PULL_TYPES = ['hello', 'data_dig', 'data_req', 'data_update'];
const KINDS: Record<string, PullWireKind> = {
  IDENTITY_MSG: { msgType: PullMsgType.IDENTITY_MSG, tag: Tag.EMPTY, channel: '' },
  BLOCK_MSG: { msgType: PullMsgType.BLOCK_MSG, tag: Tag.CHAN_AND_ORG, channel: CHANNEL },
};

interface Peer {
  readonly name: string;
  readonly mspid: string;
  readonly pkiId: string;
  readonly serialized: Uint8Array;
  readonly mspDir: string;
}

function peers(): Map<string, Peer> {
  const idx = vectorIndex();
  const out = new Map<string, Peer>();
  for (const [name, p] of Object.entries(idx.peers)) {
    const serialized = serializeIdentity(p.mspid, new Uint8Array(readFileSync(vectorPath(p.cert))));
    out.set(name, {
      name,
      mspid: p.mspid,
      pkiId: p.pki_id,
      serialized,
      mspDir: join(vectorPath(p.cert), '..', '..'),
    });
  }
  return out;
}

function captured(): {
  entry: GossipIndexEntry;
  envelope: Envelope;
  message: GossipMessage;
}[] {
  return vectorIndex()
    .gossip.filter((e) => PULL_TYPES.includes(e.type) && e.file)
    .map((e) => {
      const envelope = decodeEnvelope(readVector(e.file!));
      return {
        entry: e,
        envelope,
        message: openEnvelope(envelope).message,
      };
    });
}

const sub = (m: GossipMessage) =>
  m.content.value as unknown as {
    nonce: bigint;
    msgType: PullMsgType;
    digests: Uint8Array[];
    data: Envelope[];
  };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytesEqual = (a: Envelope, b: Envelope) =>
  Buffer.from(encodeEnvelope(a)).equals(Buffer.from(encodeEnvelope(b)));

let channelCtx: ReturnType<ReturnType<typeof parseChannelConfig>['cryptoContext']> | undefined;
const locals = new Map<string, ReturnType<typeof loadSigningIdentity>>();
/** The MessageCryptoService of a vectors peer at the capture time, with mychannel's config of block_0. */
function mcsOf(peer: Peer, at: Date): MessageCryptoService {
  const ctx = (channelCtx ??= parseChannelConfig(readVector('blocks', 'block_0.pb')).cryptoContext());
  let local = locals.get(peer.name);
  if (!local) {
    local = loadSigningIdentity(peer.mspDir, peer.mspid, { now: at });
    locals.set(peer.name, local);
  }
  return new MessageCryptoService(
    local,
    { get: (id) => (id === CHANNEL ? ctx : undefined), all: () => [ctx] },
    () => at,
  );
}

/** An Rng whose nonces are the captured one. */
function fixedRng(nonce: bigint): Rng {
  return {
    int: () => 0,
    float: () => 0,
    u64: () => nonce,
    bytes: (n) => new Uint8Array(n),
    sample: (items, k) => items.slice(0, k),
  };
}

test(
  'captured pull envelopes: unsigned, outer nonce 0, legal tag and channel; our builders reproduce their bytes',
  { skip: SKIP_VECTORS },
  () => {
    const all = captured();
    const known = new Set([...peers().values()].map((p) => p.pkiId));
    const seen = new Set<string>();
    assert.ok(all.length >= 300, `${all.length} captured pull envelopes`);
    for (const { entry, envelope, message } of all) {
      const what = entry.file!;
      const kind = KINDS[String(entry.details.msg_type)]!;
      const v = sub(message);
      assert.equal(envelope.signature.length, 0, `${what}: unsigned`);
      assert.equal(message.nonce, 0n, `${what}: outer nonce 0`);
      assert.equal(tagError(message), undefined, what);
      assert.equal(message.tag, kind.tag, what);
      assert.equal(Buffer.from(message.channel).toString(), kind.channel, what);
      assert.equal(v.msgType, kind.msgType, what);
      assert.equal(v.nonce, BigInt(String(entry.details.nonce)), `${what}: nonce in the sub-message`);
      let ours: Envelope;
      if (message.content.case === 'hello') ours = helloEnvelope(kind, v.nonce);
      else if (message.content.case === 'dataDig') ours = digestEnvelope(kind, v.nonce, v.digests);
      else if (message.content.case === 'dataReq') ours = requestEnvelope(kind, v.nonce, v.digests);
      else ours = updateEnvelope(kind, v.nonce, v.data);
      assert.ok(bytesEqual(ours, envelope), `${what}: our ${message.content.case} has Fabric's exact bytes`);
      for (const d of message.content.case === 'dataDig' || message.content.case === 'dataReq'
        ? v.digests
        : []) {
        if (kind.msgType === PullMsgType.IDENTITY_MSG) {
          assert.equal(d.length, 32, `${what}: identity digests are raw PKI-IDs`);
          assert.ok(known.has(hex(d)), `${what}: digest is a known peer`);
        } else {
          assert.notEqual(
            parseBlockDigest(d),
            undefined,
            `${what}: block digests are decimal strings (${Buffer.from(d).toString()})`,
          );
        }
      }
      seen.add(`${entry.type}/${String(entry.details.msg_type)}`);
    }
    assert.equal(seen.size, 8, 'all four messages of both pull types were checked');
  },
);

test(
  'captured identity DataUpdates verify with the vectors certs (pki_id = hash(cert), signature, validation)',
  { skip: SKIP_VECTORS },
  () => {
    const ps = peers();
    let count = 0;
    for (const { entry, message } of captured().filter(
      (c) => c.entry.type === 'data_update' && c.entry.details.msg_type === 'IDENTITY_MSG',
    )) {
      const receiver = [...ps.values()].find((p) => p.name === entry.to)!;
      const mcs = mcsOf(receiver, new Date(entry.time * 1000));
      for (const env of sub(message).data) {
        const inner = openEnvelope(env).message;
        assert.equal(inner.content.case, 'peerIdentity');
        assert.equal(inner.tag, Tag.EMPTY, 'embedded PeerIdentity has tag EMPTY');
        const id = (inner.content.value as { pkiId: Uint8Array }).pkiId;
        validateIdentityItem(mcs, { id, envelope: env, message: inner });
        count++;
      }
    }
    assert.ok(count >= 18);
  },
);

/** The capture's DataRequest that precedes an update (same nonce, opposite direction). */
function requestFor(all: ReturnType<typeof captured>, upd: ReturnType<typeof captured>[number]) {
  return all.find(
    (c) =>
      c.entry.type === 'data_req' &&
      c.entry.details.nonce === upd.entry.details.nonce &&
      c.entry.from === upd.entry.to,
  )!;
}

test(
  'as initiator: Fabric digests yield Fabric requests; Fabric identity updates land in the identity store',
  { skip: SKIP_VECTORS },
  async () => {
    const ps = peers();
    const all = captured();
    const updates = all.filter(
      (c) => c.entry.type === 'data_update' && c.entry.details.msg_type === 'IDENTITY_MSG',
    );
    for (const upd of updates) {
      const req = requestFor(all, upd);
      assert.ok(req, `request for ${upd.entry.file}`);
      const me = ps.get(upd.entry.to)!;
      const them = ps.get(upd.entry.from)!;
      const at = new Date(upd.entry.time * 1000);
      const clock = new VirtualClock(at.getTime());
      const mcs = mcsOf(me, at);
      const net = new FakeNet(clock);
      const mine = net.node(me.name, Buffer.from(me.pkiId, 'hex'), me.serialized);
      const peer = net.node(them.name, Buffer.from(them.pkiId, 'hex'), them.serialized);
      const store = new IdentityStore({
        self: { pkiId: mine.selfPkiId, identity: me.serialized },
        validator: mcs,
        clock,
      });
      const nonce = sub(req.message).nonce;
      const puller = new IdentityPuller({
        transport: mine,
        clock,
        rng: fixedRng(nonce),
        signer: mcs.local.signer,
        selfPkiId: mine.selfPkiId,
        selfOrg: me.mspid,
        identities: store,
        crypto: mcs,
        membership: () => [{ pkiId: peer.selfPkiId, endpoint: peer.endpoint }],
        hasExternalEndpoint: () => true,
      });
      puller.engine.initiatePull();
      assert.ok(bytesEqual(net.sent('hello')[0]!.envelope, helloEnvelope(KINDS.IDENTITY_MSG!, nonce)));
      puller.handleMessage(
        mine.received(digestEnvelope(KINDS.IDENTITY_MSG!, nonce, sub(req.message).digests), peer),
      );
      await clock.runFor(1000);
      const ourReq = net.sent('dataReq')[0];
      assert.ok(
        ourReq && bytesEqual(ourReq.envelope, req.envelope),
        `${req.entry.file}: our DataRequest has Fabric's bytes`,
      );
      puller.handleMessage(mine.received(upd.envelope, peer));
      for (const env of sub(upd.message).data) {
        const pkiId = (openEnvelope(env).message.content.value as { pkiId: Uint8Array }).pkiId;
        assert.ok(store.has(pkiId), `${upd.entry.file}: ${hex(pkiId)} stored`);
        assert.ok(puller.engine.has(pkiId));
      }
      puller.stop();
      store.stop();
    }
  },
);

test(
  'as initiator: Fabric block updates pass VerifyBlock and are delivered',
  { skip: SKIP_VECTORS },
  async () => {
    const ps = peers();
    const all = captured();
    const updates = all.filter(
      (c) => c.entry.type === 'data_update' && c.entry.details.msg_type === 'BLOCK_MSG',
    );
    assert.equal(updates.length, 2);
    for (const upd of updates) {
      const req = requestFor(all, upd);
      const me = ps.get(upd.entry.to)!;
      const them = ps.get(upd.entry.from)!;
      const at = new Date(upd.entry.time * 1000);
      const clock = new VirtualClock(at.getTime());
      const mcs = mcsOf(me, at);
      const net = new FakeNet(clock);
      const mine = net.node(me.name, Buffer.from(me.pkiId, 'hex'), me.serialized);
      const peer = net.node(them.name, Buffer.from(them.pkiId, 'hex'), them.serialized);
      const nonce = sub(req.message).nonce;
      const wanted = sub(req.message).digests.map((d) => parseBlockDigest(d)!);
      const delivered: PulledBlock[] = [];
      const puller = standalonePuller({
        channel: CHANNEL,
        transport: mine,
        clock,
        rng: fixedRng(nonce),
        membership: () => [{ pkiId: peer.selfPkiId, endpoint: peer.endpoint }],
        ledgerHeight: () => wanted.reduce((a, b) => (a < b ? a : b)),
        verifyBlock: (seq, data) => {
          const b = decodeBlock(data);
          mcs.verifyBlock(CHANNEL, seq, b);
          return b;
        },
        onBlock: (b) => delivered.push(b),
      });
      puller.engine.initiatePull();
      const below = Buffer.from(String(wanted.reduce((a, b) => (a < b ? a : b)) - 1n));
      puller.handleMessage(
        mine.received(digestEnvelope(KINDS.BLOCK_MSG!, nonce, [below, ...sub(req.message).digests]), peer),
      );
      await clock.runFor(1000);
      const ourReq = net.sent('dataReq')[0];
      assert.ok(
        ourReq && bytesEqual(ourReq.envelope, req.envelope),
        `${req.entry.file}: our DataRequest has Fabric's bytes (digest below height filtered)`,
      );
      puller.handleMessage(mine.received(upd.envelope, peer));
      assert.deepEqual(
        delivered.map((b) => b.seqNum),
        sub(upd.message).data.map(
          (e) => (openEnvelope(e).message.content.value as { payload: { seqNum: bigint } }).payload.seqNum,
        ),
        `${upd.entry.file}: every block verified and delivered`,
      );
      puller.stop();
    }
  },
);

test(
  'as responder: holding the same items, we answer Fabric requests with Fabric updates byte for byte',
  { skip: SKIP_VECTORS },
  async () => {
    const ps = peers();
    const all = captured();
    for (const upd of all.filter((c) => c.entry.type === 'data_update')) {
      const req = requestFor(all, upd);
      const me = ps.get(upd.entry.from)!;
      const them = ps.get(upd.entry.to)!;
      const at = new Date(upd.entry.time * 1000);
      const clock = new VirtualClock(at.getTime());
      const net = new FakeNet(clock);
      const mine = net.node(me.name, Buffer.from(me.pkiId, 'hex'), me.serialized);
      const requester = net.node(them.name, Buffer.from(them.pkiId, 'hex'), them.serialized);
      const nonce = sub(req.message).nonce;
      const items = sub(upd.message).data.map((envelope) => ({
        envelope,
        message: openEnvelope(envelope).message,
      }));
      let engine;
      if (upd.entry.details.msg_type === 'IDENTITY_MSG') {
        const mcs = mcsOf(me, at);
        const store = new IdentityStore({
          self: { pkiId: mine.selfPkiId, identity: me.serialized },
          validator: mcs,
          clock,
        });
        for (const { message } of items) {
          const v = message.content.value as { pkiId: Uint8Array; cert: Uint8Array };
          store.put(v.pkiId, v.cert);
        }
        const puller = new IdentityPuller({
          transport: mine,
          clock,
          rng: fixedRng(1n),
          signer: mcs.local.signer,
          selfPkiId: mine.selfPkiId,
          selfOrg: me.mspid,
          identities: store,
          crypto: mcs,
          membership: () => [],
          hasExternalEndpoint: () => true,
        });
        for (const it of items)
          puller.engine.add({ id: (it.message.content.value as { pkiId: Uint8Array }).pkiId, ...it });
        engine = puller.engine;
      } else {
        const puller = standalonePuller({
          channel: CHANNEL,
          transport: mine,
          clock,
          rng: fixedRng(1n),
          membership: () => [],
          ledgerHeight: () => 0n,
          verifyBlock: () => undefined,
          onBlock: () => undefined,
        });
        for (const it of items) assert.ok(puller.addBlock(it.envelope, it.message));
        engine = puller.engine;
      }
      engine.handleMessage(
        mine.received(helloEnvelope(KINDS[String(upd.entry.details.msg_type)]!, nonce), requester),
      );
      engine.handleMessage(mine.received(req.envelope, requester));
      await clock.runFor(5);
      const ours = net.sent('dataUpdate')[0];
      assert.ok(ours, `${upd.entry.file}: we answered`);
      // Our own PeerIdentity is the one we signed (ECDSA signatures differ per signing): its payload
      // must be Fabric's exact bytes and its signature must verify; everything else is byte-identical.
      const selfId = Buffer.from(me.pkiId, 'hex');
      const oursData = sub(ours.message).data;
      const theirs = sub(upd.message).data;
      assert.equal(oursData.length, theirs.length);
      oursData.forEach((env, i) => {
        const inner = openEnvelope(env).message;
        const isSelf = inner.content.case === 'peerIdentity' && selfId.equals(inner.content.value.pkiId);
        assert.deepEqual(
          Buffer.from(env.payload),
          Buffer.from(theirs[i]!.payload),
          `${upd.entry.file}: element ${i} payload`,
        );
        if (isSelf) mcsOf(me, at).verify(me.serialized, env.signature, env.payload);
        else assert.ok(bytesEqual(env, theirs[i]!), `${upd.entry.file}: element ${i} as received`);
      });
      const { data: _d, ...restOurs } = sub(ours.message);
      const { data: _t, ...restTheirs } = sub(upd.message);
      assert.deepEqual(restOurs, restTheirs);
      assert.equal(ours.message.tag, upd.message.tag);
      assert.deepEqual(ours.message.channel, upd.message.channel);
      if (oursData.every((env, i) => bytesEqual(env, theirs[i]!)))
        assert.ok(bytesEqual(ours.envelope, upd.envelope), `${upd.entry.file}: Fabric's bytes`);
      engine.stop();
    }
  },
);
