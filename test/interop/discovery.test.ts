/**
 * Discovery against real Fabric v2.4.9 traffic (../shared/fabric-vectors/gossip):
 * - every captured alive_msg, mem_req and mem_res envelope passes our receive-side validation,
 *   with identities from crypto-config or from the alive message itself;
 * - what we produce for the same peer (alive, membership request, membership response) has the
 *   same protobuf field layout, tags, nonce rules and signature coverage as Fabric's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commCryptoFromMsps, loadCommIdentity } from '../../src/comm/identity.js';
import { pkiIdKey } from '../../src/base/pkiid.js';
import { Discovery, parseAlive, validateAlive, type DiscoveryCrypto } from '../../src/core/discovery/index.js';
import { SelfAlive } from '../../src/core/discovery/self.js';
import {
  fabricMspConfigFromFolder,
  loadMspFolder,
  mspFromFabricConfig,
  serializeIdentity,
  pkiIdOf,
} from '../../src/identity/index.js';
import { IdentityStore } from '../../src/identity/store.js';
import { NodeClock, SeededRng, VirtualClock } from '../../src/sim/index.js';
import { GossipMessage_Tag as Tag, type Envelope } from '../../src/wire/gen/gossip/message_pb.js';
import { decodeEnvelope, openEnvelope, secretInternalEndpoint, tagError } from '../../src/wire/gossip.js';
import { discoveryTransport } from '../discovery/fixtures.js';
import {
  SKIP_VECTORS,
  readVector,
  vectorIndex,
  vectorPath,
  type GossipIndexEntry,
} from '../helpers/vectors.js';
import { discoveryConfig } from '../../src/core/discovery/config.js';

const skip = { skip: SKIP_VECTORS };

interface PeerRow {
  mspid: string;
  endpoint: string;
  pki_id: string;
  cert: string;
}

function setup() {
  const index = vectorIndex();
  const peers = index.peers as Record<string, PeerRow>;
  const msps = [1, 2].map((o) => {
    const dir = vectorPath('crypto-config', 'peerOrganizations', `org${o}.example.com`, 'msp');
    return mspFromFabricConfig(fabricMspConfigFromFolder(loadMspFolder(dir), `Org${o}MSP`));
  });
  const entries = (type: string) => index.gossip.filter((e) => e.type === type && e.file);
  return { index, peers, msps, entries };
}

/** An identity store at the capture's time over the vectors' MSPs, optionally seeded with every peer. */
function storeAt(
  ms: number,
  msps: ReturnType<typeof setup>['msps'],
  peers: Record<string, PeerRow>,
  seeded: boolean,
) {
  const clock = new NodeClock(new VirtualClock(ms));
  const cc = commCryptoFromMsps(() => msps, clock);
  const self = Object.values(peers)[0];
  const selfId = serializeIdentity(self.mspid, readVector(self.cert));
  const store = new IdentityStore({
    self: { pkiId: pkiIdOf(selfId), identity: selfId },
    validator: cc,
    clock,
  });
  if (seeded) {
    for (const p of Object.values(peers)) {
      const id = serializeIdentity(p.mspid, readVector(p.cert));
      store.put(pkiIdOf(id), id);
    }
  }
  const crypto: DiscoveryCrypto = {
    verify: (id, sig, data) => cc.verifySignature(id, sig, data),
    orgOf: (id) => cc.orgOf(id),
  };
  return { store, crypto, clock, cc };
}

/** Capture time (epoch seconds) of an index entry. */
const timeOf = (e: GossipIndexEntry): number => e.time;
const envOf = (e: GossipIndexEntry): Envelope => decodeEnvelope(readVector(e.file!));
const orgOfName = (name: string) => name.split('.')[1];

/**
 * The protobuf field-number skeleton of a message: field numbers in wire order, recursing into
 * the given sub-message paths (`5` = alive_msg, ...). Values are ignored, presence is not.
 */
function skeleton(bytes: Uint8Array, nested: Record<string, true>, path = ''): string[] {
  const out: string[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
  };
  while (i < bytes.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wt = key & 7;
    const here = path ? `${path}.${field}` : `${field}`;
    out.push(here);
    if (wt === 0) varint();
    else if (wt === 1) i += 8;
    else if (wt === 5) i += 4;
    else if (wt === 2) {
      const len = Number(varint());
      if (nested[here]) out.push(...skeleton(bytes.subarray(i, i + len), nested, here));
      i += len;
    } else throw new Error(`wire type ${wt}`);
  }
  return out;
}

const GOSSIP_NESTED = { '5': true, '5.1': true, '5.2': true, '6': true, '7': true } as const;

test(
  'interop: every captured alive_msg passes validation (identity from the message or from crypto-config)',
  skip,
  () => {
    const { peers, msps, entries } = setup();
    const alive = entries('alive_msg');
    assert.ok(alive.length > 50);
    let withIdentity = 0;
    let withSecret = 0;
    for (const e of alive) {
      const env = envOf(e);
      const a = parseAlive(env);
      const { message } = openEnvelope(env);
      assert.equal(tagError(message), undefined, e.file!);
      assert.equal(message.tag, Tag.EMPTY);
      assert.equal(message.nonce, 0n);
      assert.equal(message.channel.length, 0);
      assert.equal(pkiIdKey(a.pkiId), e.details.pki_id);
      assert.equal(a.time.seqNum, BigInt(e.details.seq_num as string));
      // Seeded store: always resolvable.
      const seeded = storeAt(timeOf(e) * 1000, msps, peers, true);
      validateAlive(a, seeded.store, seeded.crypto);
      // Empty store: only messages that carry their identity validate; the others are unknown.
      const bare = storeAt(timeOf(e) * 1000, msps, peers, false);
      const hasIdentity = message.content.case === 'aliveMsg' && message.content.value.identity.length > 0;
      if (hasIdentity) {
        withIdentity++;
        validateAlive(a, bare.store, bare.crypto);
      } else if (
        pkiIdKey(a.pkiId) !==
        pkiIdKey(
          pkiIdOf(serializeIdentity(Object.values(peers)[0].mspid, readVector(Object.values(peers)[0].cert))),
        )
      ) {
        assert.throws(() => validateAlive(a, bare.store, bare.crypto), { code: 'unknown_identity' });
      }
      if (env.secretEnvelope) {
        withSecret++;
        assert.equal(
          secretInternalEndpoint(env.secretEnvelope),
          e.secret_envelope!.internal_endpoint,
        );
        assert.equal(orgOfName(e.from), orgOfName(e.to), 'secrets only inside an org');
      }
      // Tampering is caught.
      const forged = decodeEnvelope(readVector(e.file!));
      forged.signature = new Uint8Array(forged.signature);
      forged.signature[forged.signature.length - 3] ^= 1;
      assert.throws(() => validateAlive(parseAlive(forged), seeded.store, seeded.crypto), {
        code: 'bad_signature',
      });
    }
    assert.ok(withIdentity > 0 && withSecret > 0, `${withIdentity} with identity, ${withSecret} with secret`);
  },
);

test('interop: captured mem_req / mem_res pass validation; nonce rules; no secret across orgs', skip, () => {
  const { index, peers, msps, entries } = setup();
  const pkiOf = (name: string) => peers[name].pki_id;
  for (const e of entries('mem_req')) {
    const env = envOf(e);
    const { message } = openEnvelope(env);
    assert.equal(tagError(message), undefined);
    assert.equal(env.signature.length, 0, 'outer message unsigned');
    assert.equal(message.content.case, 'memReq');
    const req = message.content.value as { selfInformation?: Envelope; known: Uint8Array[] };
    assert.equal(req.known.length, 0);
    const self = parseAlive(req.selfInformation);
    assert.equal(pkiIdKey(self.pkiId), pkiOf(e.from), 'self_information is the sender (the connection)');
    const { store, crypto } = storeAt(timeOf(e) * 1000, msps, peers, true);
    validateAlive(self, store, crypto);
    if (orgOfName(e.from) !== orgOfName(e.to)) assert.equal(req.selfInformation!.secretEnvelope, undefined);
  }
  for (const e of entries('mem_res')) {
    const env = envOf(e);
    const { message } = openEnvelope(env);
    assert.equal(tagError(message), undefined);
    assert.equal(env.signature.length, 0);
    const res = message.content.value as { alive: Envelope[]; dead: Envelope[] };
    const { store, crypto } = storeAt(timeOf(e) * 1000, msps, peers, true);
    for (const x of [...res.alive, ...res.dead]) {
      validateAlive(parseAlive(x), store, crypto);
      if (orgOfName(e.from) !== orgOfName(e.to))
        assert.equal(x.secretEnvelope, undefined, 'no internal endpoint across orgs');
    }
    assert.equal(pkiIdKey(parseAlive(res.alive.at(-1)).pkiId), pkiOf(e.from), 'responder’s own alive last');
    // The nonce echoes a request from the receiver to the responder.
    const asked = index.gossip.some(
      (r) =>
        r.type === 'mem_req' &&
        r.from === e.to &&
        r.to === e.from &&
        r.nonce === e.nonce &&
        r.seq < e.seq,
    );
    assert.ok(asked, `${e.file} nonce ${e.nonce} answers a request`);
  }
});

function captured(
  peerName: string,
  type: string,
  pred: (e: GossipIndexEntry) => boolean = () => true,
): GossipIndexEntry {
  const { index } = setup();
  const e = index.gossip.find((x) => x.type === type && x.file && x.from === peerName && pred(x));
  assert.ok(e, `a captured ${type} from ${peerName}`);
  return e;
}

test('interop: our alive message has Fabric’s field layout, tag, nonce and signature coverage', skip, () => {
  const { peers, msps } = setup();
  const name = 'peer0.org1.example.com';
  const dir = vectorPath('crypto-config', 'peerOrganizations', 'org1.example.com', 'peers', name, 'msp');
  const me = loadCommIdentity(dir, 'Org1MSP');
  assert.equal(pkiIdKey(me.pkiId), peers[name].pki_id);
  const theirs = captured(
    name,
    'alive_msg',
    (e) => Boolean(e.secret_envelope) && e.signer === name,
  );
  const theirEnv = envOf(theirs);
  const t0 = timeOf(theirs) * 1000;
  const clock = new NodeClock(new VirtualClock(t0));
  const self = new SelfAlive({
    pkiId: me.pkiId,
    signer: me.signer,
    externalEndpoint: '127.0.0.1:7051',
    internalEndpoint: '127.0.0.1:7051',
    publishCertPeriodMs: 10_000,
    clock,
  });
  // Whether the identity is present depends on the publishCertPeriod: compare like with like.
  const theirMsg = openEnvelope(theirEnv).message;
  const theirHasIdentity = theirMsg.content.case === 'aliveMsg' && theirMsg.content.value.identity.length > 0;
  let ours = self.build(true);
  if (!theirHasIdentity) {
    const late = new SelfAlive({
      pkiId: me.pkiId,
      signer: me.signer,
      externalEndpoint: '127.0.0.1:7051',
      internalEndpoint: '127.0.0.1:7051',
      publishCertPeriodMs: 0,
      clock,
    });
    ours = late.build(true);
  }
  assert.deepEqual(skeleton(ours.payload, GOSSIP_NESTED), skeleton(theirEnv.payload, GOSSIP_NESTED));
  assert.deepEqual(
    skeleton(ours.secretEnvelope!.payload, {}),
    skeleton(theirEnv.secretEnvelope!.payload, {}),
  );
  assert.equal(secretInternalEndpoint(ours.secretEnvelope), secretInternalEndpoint(theirEnv.secretEnvelope));
  // Both verify with the same rule, over exactly the transmitted payload (and the secret's).
  const { store, crypto } = storeAt(t0, msps, peers, true);
  validateAlive(parseAlive(ours), store, crypto);
  validateAlive(parseAlive(theirEnv), store, crypto);
  const ourAlive = parseAlive(ours);
  assert.equal(ourAlive.endpoint, parseAlive(theirEnv).endpoint);
  assert.equal(ourAlive.time.seqNum, 1n);
  assert.ok(
    ourAlive.time.incNum > BigInt(Math.floor(t0) - 1) * 1_000_000n,
    'inc_num in ns, as the captured ones',
  );
  assert.ok(parseAlive(theirEnv).time.incNum > 10n ** 18n);
});

test(
  'interop: our membership request and response match Fabric’s layout; the response answers a captured request',
  skip,
  async () => {
    const { peers, msps } = setup();
    const name = 'peer0.org1.example.com';
    const dir = vectorPath('crypto-config', 'peerOrganizations', 'org1.example.com', 'peers', name, 'msp');
    const me = loadCommIdentity(dir, 'Org1MSP');
    // A captured bootstrap request (random nonce) from peer1.org1 to us, and Fabric's response to it.
    const req = captured('peer1.org1.example.com', 'mem_req', (e) => e.to === name && e.nonce !== '0');
    const theirRes = captured(
      name,
      'mem_res',
      (e) => e.to === 'peer1.org1.example.com' && e.nonce === req.nonce,
    );
    const vc = new VirtualClock(timeOf(req) * 1000);
    const clock = new NodeClock(vc);
    const { store, crypto } = (() => {
      const cc = commCryptoFromMsps(() => msps, clock);
      const s = new IdentityStore({
        self: { pkiId: me.pkiId, identity: me.signer.serializedIdentity },
        validator: cc,
        clock,
      });
      return {
        store: s,
        crypto: {
          verify: (id: Uint8Array, sig: Uint8Array, data: Uint8Array) => cc.verifySignature(id, sig, data),
          orgOf: (id: Uint8Array) => cc.orgOf(id),
        },
      };
    })();
    const t = discoveryTransport(me.pkiId, store);
    const d = new Discovery({
      transport: t,
      identityStore: store,
      crypto,
      signer: me.signer,
      mspId: 'Org1MSP',
      config: discoveryConfig({ endpoint: '127.0.0.1:7051', externalEndpoint: '127.0.0.1:7051' }),
      clock,
      rng: new SeededRng(1),
    });
    d.start();
    const requester = peers['peer1.org1.example.com'];
    const requesterId = serializeIdentity(requester.mspid, readVector(requester.cert));
    t.deliver(envOf(req), {
      pkiId: pkiIdOf(requesterId),
      serialized: requesterId,
      name: 'peer1.org1.example.com',
    });
    const [ours] = t.ofKind('memRes');
    assert.ok(ours, 'answered');
    assert.equal(ours.message.nonce, BigInt(req.nonce), 'nonce echoed');
    const theirEnv = envOf(theirRes);
    const nested = { '7': true } as const;
    const shape = (env: Envelope) => [...new Set(skeleton(env.payload, nested))];
    assert.deepEqual(
      shape(ours.envelope),
      shape(theirEnv),
      'nonce, tag, mem_res{alive...} in the same field layout',
    );
    const ourAlive = (ours.message.content.value as { alive: Envelope[] }).alive;
    assert.equal(
      pkiIdKey(parseAlive(ourAlive.at(-1)).pkiId),
      peers[name].pki_id,
      'our alive last, as Fabric',
    );
    assert.ok(
      ourAlive.at(-1)!.secretEnvelope,
      'same-org requester gets our internal endpoint, as in the capture',
    );
    assert.ok(
      (openEnvelope(theirEnv).message.content.value as { alive: Envelope[] }).alive.at(-1)!.secretEnvelope,
    );
    // Our own request (sync: nonce 0) matches a captured sync request's layout.
    const sync = captured(name, 'mem_req', (e) => e.nonce === '0' && orgOfName(e.to) === 'org1');
    t.deliver(
      envOf(
        captured(
          'peer1.org1.example.com',
          'alive_msg',
          (e) => e.to === name && e.signer === 'peer1.org1.example.com',
        ),
      ),
      {
        pkiId: pkiIdOf(requesterId),
        serialized: requesterId,
        name: 'peer1.org1.example.com',
      },
    );
    await vc.runFor(4_000);
    const [ourReq] = t.ofKind('memReq');
    assert.ok(ourReq, 'membership sync request sent');
    assert.equal(ourReq.message.nonce, 0n);
    const reqNested = { '6': true, '6.1': true } as const;
    const theirReq = envOf(sync);
    const withoutIdentity = (s: string[]) => s.filter((f) => f !== '6.1.4'); // identity field depends on the publishCertPeriod
    const sk = (env: Envelope) => withoutIdentity(skeleton(env.payload, reqNested));
    assert.deepEqual(sk(ourReq.envelope), sk(theirReq));
    d.stop();
    store.stop();
  },
);
