/**
 * Interop with captured Fabric v2.4.9 traffic (../shared/fabric-vectors/gossip): state_info,
 * state_snapshot, state_info_pull_req and data_msg envelopes pass our channel receive path with
 * the vectors' certificates, MSPs and channel config (block_0), and what we produce for the same
 * inputs has the same fields, tags, channel placement and signature coverage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  HAVE_VECTORS,
  SKIP_VECTORS,
  peerDir,
  readVector,
  vectorIndex,
  vectorPath,
} from '../helpers/vectors.js';
import { parseChannelConfig } from '../../src/channelconfig/index.js';
import { loadSigningIdentity, MessageCryptoService } from '../../src/identity/index.js';
import { McsChannels } from '../../src/core/gossip/mcsadapter.js';
import { GossipChannel } from '../../src/core/channel/channel.js';
import { channelGossipConfig } from '../../src/core/channel/config.js';
import { joinInfoFromConfig } from '../../src/core/channel/join.js';
import { channelMac } from '../../src/core/channel/mac.js';
import type { BlockEvent, ChannelHost } from '../../src/core/channel/types.js';
import type { MemberInfo } from '../../src/core/discovery/types.js';
import type { ReceivedMessage } from '../../src/core/link/types.js';
import { ManualClock } from '../comm/fixtures.js';
import { FakeTransport } from '../helpers/fake-transport.js';
import { cryptoRng } from '../../src/base/real-clock.js';
import { silentLogger } from '../../src/base/log.js';
import { decodeEnvelope, openEnvelope, Tag } from '../../src/wire/gossip.js';
import type { Envelope } from '../../src/wire/gen/gossip/message_pb.js';
import { parseSerializedIdentity, serializeIdentity } from '../../src/identity/x509identity.js';

interface VPeer {
  readonly mspid: string;
  readonly endpoint: string;
  readonly pki_id: string;
  readonly cert: string;
}

function setup(receiver: string) {
  const idx = vectorIndex();
  const peers = idx.peers as Record<string, VPeer>;
  const me = peers[receiver]!;
  const [name, org] = [receiver.split('.')[0]!, receiver.split('.')[1]!];
  const local = loadSigningIdentity(join(peerDir(org, name), 'msp'), me.mspid, { now: new Date() });
  const channels = new McsChannels();
  const mcs = new MessageCryptoService(local, channels, () => new Date());
  const config = parseChannelConfig(readVector('blocks', 'block_0.pb'));
  channels.set('mychannel', config.cryptoContext());
  const identities = new Map<string, Uint8Array>();
  const members: MemberInfo[] = [];
  for (const p of Object.values(peers)) {
    const identity = serializeIdentity(p.mspid, new Uint8Array(readFileSync(vectorPath(p.cert))));
    identities.set(p.pki_id, identity);
    if (p.pki_id === me.pki_id) continue;
    members.push({
      pkiId: Buffer.from(p.pki_id, 'hex'),
      endpoint: p.endpoint,
      internalEndpoint: p.endpoint,
      mspId: p.mspid,
      state: 'alive',
      lastAlive: { incNum: 0n, seqNum: 0n },
      metadata: new Uint8Array(0),
      lastSeenMs: 0,
      envelope: {} as Envelope,
    });
  }
  const blocks: BlockEvent[] = [];
  const pushed: string[] = [];
  /** Envelopes handed to push, in order. */
  const pushedEnvelopes: Envelope[] = [];
  const drops: string[] = [];
  const host: ChannelHost = {
    selfPkiId: Buffer.from(me.pki_id, 'hex'),
    ownOrg: me.mspid,
    externalEndpoint: me.endpoint,
    signer: local.signer,
    crypto: mcs,
    identities: { get: (id) => identities.get(Buffer.from(id).toString('hex')) },
    membership: {
      aliveMembers: () => members,
      lookup: (id) => members.find((m) => Buffer.from(m.pkiId).equals(id)),
      orgOf: (id) => {
        const i = identities.get(Buffer.from(id).toString('hex'));
        return i && parseSerializedIdentity(i).mspId;
      },
    },
    transport: new FakeTransport(),
    clock: new ManualClock(),
    rng: cryptoRng,
    config: channelGossipConfig({ maxBlockCountToStore: 100 }),
    logger: silentLogger,
    push: (item) => {
      pushed.push(item.kind);
      pushedEnvelopes.push(item.envelope);
    },
    deliverBlock: (e) => blocks.push(e),
    deliverLeadership: () => {},
    drop: (reason) => drops.push(reason),
  };
  const channel = new GossipChannel(host, joinInfoFromConfig(config));
  const fromPeer = (from: string, envelope: Envelope): { m: ReceivedMessage; responses: Envelope[] } => {
    const responses: Envelope[] = [];
    const p = peers[from]!;
    const m: ReceivedMessage = {
      envelope,
      message: openEnvelope(envelope).message,
      conn: {
        pkiId: Buffer.from(p.pki_id, 'hex'),
        identity: identities.get(p.pki_id)!,
        endpoint: p.endpoint,
        auth: { signedData: new Uint8Array(0), signature: new Uint8Array(0) },
      },
      respond: (e) => responses.push(e),
      ack: () => {},
    };
    return { m, responses };
  };
  return { channel, blocks, pushed, pushedEnvelopes, drops, fromPeer, me, local, peers };
}

const entries = (type: string) =>
  HAVE_VECTORS
    ? vectorIndex().gossip.filter((e) => e.type === type && e.file && e.channel !== 'otherchannel')
    : [];

test(
  'interop: captured state_info messages pass the channel receive path; ours have the same shape',
  { skip: SKIP_VECTORS },
  () => {
    const list = entries('state_info');
    assert.ok(list.length > 10);
    let accepted = 0;
    for (const e of list) {
      const s = setup(e.to);
      const env = decodeEnvelope(readVector(e.file!));
      const { m } = s.fromPeer(e.from, env);
      if (
        Buffer.from((m.message.content.value as { pkiId: Uint8Array }).pkiId).toString('hex') === s.me.pki_id
      )
        continue;
      s.channel.handleStateInfo(m);
      assert.equal(s.channel.cache.size, 2, `${e.file} was not cached`);
      assert.deepEqual(s.pushed, ['stateInfo'], 'a new StateInfo is forwarded');
      accepted++;
    }
    assert.ok(accepted > 10);
    // ours for the same peer: same tag, no channel, nonce 0, MAC = SHA-256(pki ‖ channel), signed over the payload
    const e = list[0]!;
    const theirs = openEnvelope(decodeEnvelope(readVector(e.file!))).message;
    const s = setup(e.from);
    s.channel.updateLedgerHeight(5n);
    const ours = s.channel.self.latest;
    assert.equal(ours.message.tag, theirs.tag);
    assert.equal(ours.message.tag, Tag.CHAN_OR_ORG);
    assert.equal(ours.message.channel.length, 0);
    assert.equal(theirs.channel.length, 0);
    assert.equal(ours.message.nonce, 0n);
    const t = theirs.content.value as { pkiId: Uint8Array; channelMAC: Uint8Array };
    assert.ok(Buffer.from(ours.info.pkiId).equals(t.pkiId));
    assert.ok(Buffer.from(ours.info.channelMAC).equals(t.channelMAC));
    assert.ok(Buffer.from(t.channelMAC).equals(channelMac(t.pkiId, 'mychannel')));
    assert.equal(ours.properties!.ledgerHeight, 5n);
    assert.equal(ours.info.properties!.leftChannel, false);
    assert.ok(s.local.identity.verify(ours.envelope.payload, ours.envelope.signature));
    assert.equal(ours.envelope.secretEnvelope, undefined);
  },
);

test(
  'interop: captured state_info_pull_req is answered with a snapshot like Fabric sends',
  { skip: SKIP_VECTORS },
  () => {
    for (const e of entries('state_info_pull_req').slice(0, 10)) {
      const s = setup(e.to);
      const { m, responses } = s.fromPeer(e.from, decodeEnvelope(readVector(e.file!)));
      assert.equal(
        s.channel.matchesMac(
          m.conn.pkiId,
          (m.message.content.value as { channelMAC: Uint8Array }).channelMAC,
        ),
        true,
      );
      s.channel.handleStateInfoPullRequest(m);
      assert.equal(responses.length, 1);
      const snap = openEnvelope(responses[0]!).message;
      assert.equal(snap.content.case, 'stateSnapshot');
      assert.equal(snap.tag, Tag.CHAN_OR_ORG);
      assert.equal(Buffer.from(snap.channel).toString(), 'mychannel');
      assert.equal(responses[0]!.signature.length, 0, 'snapshots are unsigned');
    }
    const theirs = openEnvelope(decodeEnvelope(readVector(entries('state_snapshot')[0]!.file!))).message;
    assert.equal(theirs.tag, Tag.CHAN_OR_ORG);
    assert.equal(Buffer.from(theirs.channel).toString(), 'mychannel');
  },
);

test('interop: captured state_snapshot elements verify and are cached', { skip: SKIP_VECTORS }, () => {
  let cached = 0;
  for (const e of entries('state_snapshot').slice(0, 20)) {
    const s = setup(e.to);
    const { m } = s.fromPeer(e.from, decodeEnvelope(readVector(e.file!)));
    s.channel.handleStateSnapshot(m);
    cached += s.channel.cache.size - 1;
    assert.deepEqual(s.pushed, [], 'snapshot elements are not forwarded');
  }
  assert.ok(cached >= 10, `only ${cached} snapshot elements cached`);
});

test(
  'interop: captured data_msg blocks verify, are handed over once, and ours are byte-identical',
  { skip: SKIP_VECTORS },
  () => {
    const list = entries('data_msg');
    assert.ok(list.length > 10);
    const byTo = new Map<string, ReturnType<typeof setup>>();
    for (const e of list) {
      let s = byTo.get(e.to);
      if (!s) {
        s = setup(e.to);
        byTo.set(e.to, s);
      }
      const env = decodeEnvelope(readVector(e.file!));
      const { m } = s.fromPeer(e.from, env);
      const before = s.blocks.length;
      s.channel.dissemination.handlePushedBlock(m);
      const payload = (m.message.content.value as { payload: { seqNum: bigint; data: Uint8Array } }).payload;
      if (s.blocks.length > before) assert.equal(s.blocks.at(-1)!.seqNum, payload.seqNum);
      // what we would push for the same block: the very same envelope bytes
      const mine = setup(e.from);
      const pushedBefore = mine.pushedEnvelopes.length;
      mine.channel.dissemination.originate(payload.seqNum, payload.data);
      const mineEnv = mine.pushedEnvelopes.slice(pushedBefore).at(-1);
      assert.ok(mineEnv, 'originate pushed nothing');
      assert.ok(
        Buffer.from(mineEnv.payload).equals(env.payload),
        `our DataMessage for block ${payload.seqNum} differs from Fabric's`,
      );
      assert.equal(mineEnv.signature.length, 0);
    }
    let handed = 0;
    for (const s of byTo.values()) {
      const seqs = s.blocks.map((b) => b.seqNum);
      assert.equal(new Set(seqs).size, seqs.length, 'a block was handed over twice');
      handed += seqs.length;
      assert.deepEqual(s.drops, []);
    }
    assert.ok(handed >= 10);
  },
);
