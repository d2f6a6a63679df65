import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  MessageCryptoService,
  createMspManager,
  createSigner,
  fabricMspConfigFromFolder,
  loadMspFolder,
  loadSigningIdentity,
  mspFromFabricConfig,
  serializeIdentity,
  pkiIdOf,
  BLOCK_VALIDATION_POLICY,
  READERS_POLICY,
  type ChannelCryptoContext,
  type LocalIdentity,
  type Msp,
  type PolicyEvaluator,
  type SignedData,
} from '../../src/identity/index.js';
import { GrapevineError, VerifyError } from '../../src/base/errors.js';
import {
  BlockSchema,
  ChannelHeaderSchema,
  EnvelopeSchema,
  HeaderType,
  MetadataSchema,
  PayloadSchema,
  SignatureHeaderSchema,
  type Block,
} from '../../src/wire/gen/common/common_pb.js';
import { blockDataHash, blockHeaderBytes, decodeBlock, encodeBlock } from '../../src/wire/index.js';
import { SKIP_VECTORS, peerDir, vectorBlocks, vectorPath } from '../helpers/vectors.js';
import { issue, mspConfig, type Issued } from './pki.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const MSG = new TextEncoder().encode('hello gossip');

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof GrapevineError, `GrapevineError, got ${e}`);
    return e.code;
  }
  return 'OK';
}

/**
 * A small policy engine for these tests: Readers = every signature is by a valid member of a
 * channel MSP and verifies; BlockValidation = some signature by a valid member of `ordererMsp`.
 */
function testPolicies(msps: Msp[], ordererMspId: string, calls: string[] = []): PolicyEvaluator {
  const mgr = createMspManager(msps);
  const ok = (s: SignedData, now?: Date, mspId?: string) => {
    try {
      const { msp, identity } = mgr.deserialize(s.identity);
      if (mspId && msp.id !== mspId) return false;
      msp.validate(identity, now ?? new Date());
      return identity.verify(s.data, s.signature);
    } catch {
      return false;
    }
  };
  return {
    evaluate(path, signed, now) {
      calls.push(path);
      const pass =
        path === READERS_POLICY
          ? signed.length > 0 && signed.every((s) => ok(s, now))
          : path === BLOCK_VALIDATION_POLICY && signed.some((s) => ok(s, now, ordererMspId));
      if (!pass) throw new VerifyError('POLICY', `policy ${path} not satisfied`);
    },
  };
}

function localOf(msp: Msp, c: Issued): LocalIdentity {
  const identity = msp.deserialize(serializeIdentity(msp.id, c.pem));
  return { msp, identity, signer: createSigner(c.privateKey, identity.serialized) };
}

interface World {
  a: Msp;
  b: Msp;
  o: Msp;
  localA: LocalIdentity;
  peerB: LocalIdentity;
  orderer: LocalIdentity;
  expiredB: Uint8Array;
  ctx: ChannelCryptoContext;
  calls: string[];
}

let world: Promise<World> | undefined;
function w(): Promise<World> {
  world ??= (async () => {
    const [ra, rb, ro] = await Promise.all(['ca.a', 'ca.b', 'ca.o'].map((cn) => issue({ cn, ca: true })));
    const a = mspFromFabricConfig(mspConfig({ mspId: 'AMSP', roots: [ra] }));
    const b = mspFromFabricConfig(mspConfig({ mspId: 'BMSP', roots: [rb] }));
    const o = mspFromFabricConfig(mspConfig({ mspId: 'OMSP', roots: [ro] }));
    const expired = await issue(
      { cn: 'old.b', ous: ['peer'], notAfter: new Date('2026-02-01T00:00:00Z') },
      rb,
    );
    const calls: string[] = [];
    return {
      a,
      b,
      o,
      localA: localOf(a, await issue({ cn: 'peer0.a', ous: ['peer'] }, ra)),
      peerB: localOf(b, await issue({ cn: 'peer0.b', ous: ['peer'] }, rb)),
      orderer: localOf(o, await issue({ cn: 'orderer0', ous: ['orderer'] }, ro)),
      expiredB: serializeIdentity('BMSP', expired.pem),
      ctx: {
        channelId: 'ch1',
        msps: createMspManager([a, b, o]),
        policies: testPolicies([a, b, o], 'OMSP', calls),
      },
      calls,
    };
  })();
  return world;
}

function provider(...ctxs: ChannelCryptoContext[]) {
  return { get: (id: string) => ctxs.find((c) => c.channelId === id), all: () => ctxs };
}

test('verify: local identities by plain ECDSA, foreign ones by the channel Readers policy', async () => {
  const x = await w();
  const mcs = new MessageCryptoService(x.localA, provider(x.ctx), () => NOW);
  const own = x.localA.identity.serialized;
  mcs.verify(own, mcs.sign(MSG), MSG);
  assert.equal(
    code(() => mcs.verify(own, mcs.sign(MSG), Uint8Array.of(1))),
    'BAD_SIGNATURE',
  );
  assert.deepEqual(x.calls, []);
  const b = x.peerB.identity.serialized;
  mcs.verify(b, x.peerB.signer.sign(MSG), MSG);
  assert.deepEqual(x.calls, [READERS_POLICY]);
  assert.equal(
    code(() => mcs.verify(b, x.peerB.signer.sign(MSG), Uint8Array.of(1))),
    'POLICY',
  );
  mcs.verifyByChannel('ch1', b, x.peerB.signer.sign(MSG), MSG);
  assert.equal(
    code(() => mcs.verifyByChannel('nope', b, x.peerB.signer.sign(MSG), MSG)),
    'UNKNOWN_CHANNEL',
  );
  // with no channels, only the local MSP can validate
  const alone = new MessageCryptoService(x.localA, provider(), () => NOW);
  alone.validateIdentity(own);
  assert.equal(
    code(() => alone.verify(b, x.peerB.signer.sign(MSG), MSG)),
    'UNKNOWN_IDENTITY',
  );
  assert.deepEqual(Buffer.from(mcs.pkiIdOf(b)), Buffer.from(x.peerB.identity.pkiId));
  assert.deepEqual(Buffer.from(pkiIdOf(b)), Buffer.from(x.peerB.identity.pkiId));
});

test('validateIdentity and expiration: expiry rejects but expiration() still reports NotAfter', async () => {
  const x = await w();
  const mcs = new MessageCryptoService(x.localA, provider(x.ctx), () => NOW);
  mcs.validateIdentity(x.peerB.identity.serialized);
  assert.equal(
    code(() => mcs.validateIdentity(x.expiredB)),
    'UNKNOWN_IDENTITY',
  );
  assert.equal(mcs.expiration(x.expiredB).toISOString(), '2026-02-01T00:00:00.000Z');
  assert.equal(
    code(() => mcs.validateIdentity(new Uint8Array())),
    'UNKNOWN_IDENTITY',
  );
  // an identity claiming the local MSP ID with a foreign certificate: the local MSP decides
  const forged2 = serializeIdentity('AMSP', x.peerB.identity.idBytes);
  assert.equal(
    code(() => mcs.validateIdentity(forged2)),
    'CHAIN',
  );
  // not well-formed (trailing newline) is an error even for a channel MSP
  const trailing = serializeIdentity('BMSP', new Uint8Array([...x.peerB.identity.idBytes, 0x0a]));
  assert.equal(
    code(() => mcs.validateIdentity(trailing)),
    'NOT_WELL_FORMED',
  );
});

function envelope(channelId: string, type = HeaderType.ENDORSER_TRANSACTION, data = MSG): Uint8Array {
  const payload = create(PayloadSchema, {
    header: {
      channelHeader: toBinary(
        ChannelHeaderSchema,
        create(ChannelHeaderSchema, { type, channelId, txId: 'tx' }),
      ),
      signatureHeader: toBinary(
        SignatureHeaderSchema,
        create(SignatureHeaderSchema, { creator: new Uint8Array([1]), nonce: new Uint8Array([2]) }),
      ),
    },
    data,
  });
  return toBinary(
    EnvelopeSchema,
    create(EnvelopeSchema, { payload: toBinary(PayloadSchema, payload), signature: Uint8Array.of(9) }),
  );
}

function makeBlock(number: bigint, txs: Uint8Array[], signers: LocalIdentity[]): Block {
  const header = { number, previousHash: new Uint8Array(32), dataHash: blockDataHash(txs) };
  const value = Uint8Array.of(0x0a, 0x00);
  const hb = blockHeaderBytes(create(BlockSchema, { header }).header!);
  const signatures = signers.map((s) => {
    const signatureHeader = toBinary(
      SignatureHeaderSchema,
      create(SignatureHeaderSchema, { creator: s.identity.serialized, nonce: Uint8Array.of(7) }),
    );
    return { signatureHeader, signature: s.signer.sign(Buffer.concat([value, signatureHeader, hb])) };
  });
  const md = toBinary(MetadataSchema, create(MetadataSchema, { value, signatures }));
  return create(BlockSchema, {
    header,
    data: { data: txs },
    metadata: { metadata: [md, new Uint8Array(), new Uint8Array(), new Uint8Array()] },
  });
}

test('verifyBlock: accepts a block signed by the orderer org; each check fails with its code', async () => {
  const x = await w();
  const mcs = new MessageCryptoService(x.localA, provider(x.ctx), () => NOW);
  const txs = [envelope('ch1'), envelope('ch1')];
  const good = makeBlock(5n, txs, [x.orderer]);
  mcs.verifyBlock('ch1', 5n, good);
  assert.equal(x.calls.at(-1), BLOCK_VALIDATION_POLICY);
  const clone = () => decodeBlock(encodeBlock(good));
  assert.equal(
    code(() => mcs.verifyBlock('ch1', 6n, good)),
    'HEADER_MISMATCH',
  );
  assert.equal(
    code(() => mcs.verifyBlock('ch1', 5n, create(BlockSchema, { data: good.data, metadata: good.metadata }))),
    'HEADER_MISMATCH',
  );
  assert.equal(
    code(() => mcs.verifyBlock('ch2', 5n, good)),
    'WRONG_CHANNEL',
  );
  const noMeta = clone();
  noMeta.metadata = undefined;
  assert.equal(
    code(() => mcs.verifyBlock('ch1', 5n, noMeta)),
    'NO_METADATA',
  );
  const badHash = clone();
  badHash.header!.dataHash[0] ^= 1;
  assert.equal(
    code(() => mcs.verifyBlock('ch1', 5n, badHash)),
    'DATA_HASH',
  );
  assert.equal(
    code(() => mcs.verifyBlock('ch1', 5n, makeBlock(5n, txs, []))),
    'NO_SIGNATURES',
  );
  assert.equal(
    code(() => mcs.verifyBlock('ch1', 5n, makeBlock(5n, txs, [x.peerB]))),
    'POLICY',
  );
  const tampered = clone();
  tampered.header!.previousHash[0] ^= 1; // covered by the signature, not by the data hash
  assert.equal(
    code(() => mcs.verifyBlock('ch1', 5n, tampered)),
    'POLICY',
  );
  const emptyTx = makeBlock(
    5n,
    [envelope('ch1'), toBinary(EnvelopeSchema, create(EnvelopeSchema, { payload: MSG }))],
    [x.orderer],
  );
  assert.equal(
    code(() => mcs.verifyBlock('ch1', 5n, emptyTx)),
    'MALFORMED_TX',
  );
  const trailing = makeBlock(
    5n,
    [envelope('ch1'), new Uint8Array([...envelope('ch1'), 0x00, 0x00])],
    [x.orderer],
  );
  assert.equal(
    code(() => mcs.verifyBlock('ch1', 5n, trailing)),
    'MALFORMED_TX',
  );
  assert.equal(
    code(() => mcs.verifyBlock('ch1', 5n, makeBlock(5n, [], [x.orderer]))),
    'MALFORMED_TX',
  );
  // a config block is exempt from the re-encoding check
  mcs.verifyBlock('ch1', 5n, makeBlock(5n, [envelope('ch1', HeaderType.CONFIG)], [x.orderer]));
  assert.equal(
    code(() => new MessageCryptoService(x.localA, provider(), () => NOW).verifyBlock('ch1', 5n, good)),
    'UNKNOWN_CHANNEL',
  );
});

test(
  'verifyBlock on the real blocks 1-26 with the vectors orderer MSP; tampering fails',
  { skip: SKIP_VECTORS },
  () => {
    const now = new Date('2027-01-01T00:00:00Z');
    const cc = vectorPath('crypto-config');
    const msp = (dir: string, id: string) =>
      mspFromFabricConfig(fabricMspConfigFromFolder(loadMspFolder(join(cc, dir, 'msp')), id));
    const msps = [
      msp('peerOrganizations/org1.example.com', 'Org1MSP'),
      msp('peerOrganizations/org2.example.com', 'Org2MSP'),
      msp('ordererOrganizations/example.com', 'OrdererMSP'),
    ];
    const ctx = {
      channelId: 'mychannel',
      msps: createMspManager(msps),
      policies: testPolicies(msps, 'OrdererMSP'),
    };
    const local = loadSigningIdentity(join(peerDir('org1', 'peer0'), 'msp'), 'Org1MSP', { now });
    const mcs = new MessageCryptoService(local, provider(ctx), () => now);
    const blocks = vectorBlocks().filter((b) => b.n >= 1);
    assert.equal(blocks.length, 26);
    for (const { n, bytes } of blocks) mcs.verifyBlock('mychannel', BigInt(n), decodeBlock(bytes));
    const b = decodeBlock(blocks[0].bytes);
    b.header!.number = 2n;
    assert.equal(
      code(() => mcs.verifyBlock('mychannel', 2n, b)),
      'POLICY',
    );
    // the genesis block carries no signatures
    assert.equal(
      code(() => mcs.verifyBlock('mychannel', 0n, decodeBlock(vectorBlocks()[0].bytes))),
      'NO_SIGNATURES',
    );
  },
);

test('fast-check: deserialize, verify and verifyBlock throw only GrapevineErrors on arbitrary bytes', async () => {
  const x = await w();
  const mcs = new MessageCryptoService(x.localA, provider(x.ctx), () => NOW);
  const good = encodeBlock(makeBlock(3n, [envelope('ch1')], [x.orderer]));
  const typed = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof GrapevineError)) throw e;
    }
  };
  const mutate = fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), fc.nat(good.length));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), mutate, (bytes, [i, xor, cut]) => {
      typed(() => x.a.deserialize(bytes));
      typed(() => mcs.validateIdentity(bytes));
      typed(() => mcs.verify(bytes, bytes, bytes));
      typed(() => mcs.expiration(bytes));
      typed(() => mcs.verifyBlock('ch1', 3n, decodeBlock(bytes)));
      const m = Uint8Array.from(good);
      m[i] ^= xor;
      typed(() => mcs.verifyBlock('ch1', 3n, decodeBlock(m)));
      typed(() => mcs.verifyBlock('ch1', 3n, decodeBlock(good.subarray(0, cut))));
    }),
    { numRuns: 500 },
  );
});
