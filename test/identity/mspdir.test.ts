import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  fabricMspConfigFromFolder,
  loadMspFolder,
  pkiIdOf,
  serializeIdentity,
  certToPem,
  pemDecode,
} from '../../src/identity/index.js';
import { FabricMSPConfigSchema, MSPConfigSchema } from '../../src/wire/gen/msp/msp_config_pb.js';
import { configEnvelopeOf, decodeBlock } from '../../src/wire/index.js';
import { SKIP_VECTORS, peerDir, readVector, vectorIndex, vectorPath } from '../helpers/vectors.js';

/** Every folder named `msp` under crypto-config. */
export function allMspDirs(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (!statSync(p).isDirectory()) continue;
      if (name === 'msp') out.push(p);
      else walk(p);
    }
  };
  walk(root);
  return out.sort();
}

test('every MSP folder of the vectors loads', { skip: SKIP_VECTORS }, () => {
  const dirs = allMspDirs(vectorPath('crypto-config'));
  assert.equal(dirs.length, 14);
  for (const dir of dirs) {
    const f = loadMspFolder(dir);
    assert.equal(f.cacerts.length, 1, dir);
    assert.equal(f.tlscacerts.length, 1, dir);
    assert.equal(f.nodeOUs?.enable, true, dir);
    assert.equal(f.nodeOUs?.peer?.organizationalUnitIdentifier, 'peer');
    assert.deepEqual(Buffer.from(f.nodeOUs!.client!.certificate!), Buffer.from(f.cacerts[0].bytes));
    const signing = /\/(peers|users|orderers)\//.test(dir);
    assert.equal(f.signcerts.length, signing ? 1 : 0, dir);
    assert.equal(f.keystore.length, signing ? 1 : 0, dir);
  }
});

test(
  'fabricMspConfigFromFolder is byte-identical to the MSP config configtxgen put in block 0',
  { skip: SKIP_VECTORS },
  () => {
    const block = decodeBlock(readVector('blocks', 'block_0.pb'));
    const groups = configEnvelopeOf(block).config!.channelGroup!.groups;
    const dirs: Record<string, string> = {
      OrdererOrg: vectorPath('crypto-config', 'ordererOrganizations', 'example.com', 'msp'),
      Org1MSP: vectorPath('crypto-config', 'peerOrganizations', 'org1.example.com', 'msp'),
      Org2MSP: vectorPath('crypto-config', 'peerOrganizations', 'org2.example.com', 'msp'),
    };
    let n = 0;
    for (const group of Object.values(groups)) {
      for (const [org, og] of Object.entries(group.groups)) {
        const embedded = fromBinary(MSPConfigSchema, og.values.MSP.value).config;
        const mspId = fromBinary(FabricMSPConfigSchema, embedded).name;
        const ours = toBinary(
          FabricMSPConfigSchema,
          fabricMspConfigFromFolder(loadMspFolder(dirs[org]), mspId),
        );
        assert.deepEqual(Buffer.from(ours), Buffer.from(embedded), org);
        n++;
      }
    }
    assert.equal(n, 3);
  },
);

test('PKI-IDs of the 5 peers match the vectors README', { skip: SKIP_VECTORS }, () => {
  const expected: [string, string, string][] = [
    ['org1', 'peer0', 'c0bf47da5e94c9f5b5d336b835b5956257a99000c8ec12fb336a557ea689bfff'],
    ['org1', 'peer1', '6766232372f071e423324584d94dd058b73884821fdb81dd3b633fcf76a6e510'],
    ['org1', 'peer2', '8e0581d570d83889c6e5387baad530cff52df6f9b63784dc3f7e67bd02156f68'],
    ['org2', 'peer0', '10d8ec4deca5a4d58f224ccb32aeae859dc69a2929d6f4dc75a6dd87c14c075f'],
    ['org2', 'peer1', '60093a0737732581acc6ba3de0b892a1538d354474df0d876520afb3e8db2e3f'],
  ];
  for (const [org, peer, hex] of expected) {
    const f = loadMspFolder(join(peerDir(org, peer), 'msp'));
    const pem = f.signcerts[0].bytes;
    // the file is exactly what Go's PEM encoder writes
    assert.deepEqual(Buffer.from(certToPem(pemDecode(pem)!.block.der)), Buffer.from(pem));
    const mspId = org === 'org1' ? 'Org1MSP' : 'Org2MSP';
    assert.equal(Buffer.from(pkiIdOf(serializeIdentity(mspId, pem))).toString('hex'), hex, `${peer}.${org}`);
  }
  const peers = vectorIndex().peers as Record<string, { mspid: string; pki_id: string; cert: string }>;
  for (const p of Object.values(peers)) {
    const sid = serializeIdentity(p.mspid, new Uint8Array(readFileSync(vectorPath(p.cert))));
    assert.equal(Buffer.from(pkiIdOf(sid)).toString('hex'), p.pki_id);
  }
});
