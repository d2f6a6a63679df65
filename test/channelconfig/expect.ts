/** Test helper: the facts of the vectors' channel config (block_0 and block_24). */
import assert from 'node:assert/strict';
import type { ChannelConfig } from '../../src/channelconfig/index.js';

/** The facts of the vectors' channel config common to block_0 and block_24. */
export function checkVectorConfig(cfg: ChannelConfig): void {
  assert.equal(cfg.channelId, 'mychannel');
  assert.deepEqual(
    cfg.applicationOrgs.map((o) => [o.name, o.mspId]),
    [
      ['Org1MSP', 'Org1MSP'],
      ['Org2MSP', 'Org2MSP'],
    ],
  );
  assert.deepEqual(
    cfg.ordererOrgs.map((o) => [o.name, o.mspId, o.endpoints]),
    [['OrdererOrg', 'OrdererMSP', ['127.0.0.1:7050']]],
  );
  assert.deepEqual(cfg.ordererAddresses, []);
  assert.equal(cfg.consensusType.type, 'etcdraft');
  assert.equal(cfg.consensusType.state, 'NORMAL');
  const raft = cfg.consensusType.etcdraft!;
  assert.deepEqual(
    raft.consenters.map((c) => `${c.host}:${c.port}`),
    ['127.0.0.1:7050'],
  );
  assert.match(Buffer.from(raft.consenters[0].serverTlsCert).toString(), /^-----BEGIN CERTIFICATE-----/);
  assert.equal(raft.options?.tickInterval, '500ms');
  assert.deepEqual(cfg.batchSize, {
    maxMessageCount: 5,
    absoluteMaxBytes: 10 * 1024 * 1024,
    preferredMaxBytes: 2 * 1024 * 1024,
  });
  assert.equal(cfg.batchTimeout, 1000);
  assert.equal(cfg.batchTimeoutText, '1s');
  assert.deepEqual(cfg.capabilities, { channel: ['V2_0'], orderer: ['V2_0'], application: ['V2_0'] });
  assert.equal(cfg.hashingAlgorithm, 'SHA256');
  assert.equal(cfg.blockDataHashingStructureWidth, 0xffffffff);
  assert.deepEqual([...cfg.msps.msps.keys()].sort(), ['OrdererMSP', 'Org1MSP', 'Org2MSP']);
  for (const o of [...cfg.applicationOrgs, ...cfg.ordererOrgs]) {
    assert.equal(o.msp.id, o.mspId);
    assert.equal(cfg.msps.msps.get(o.mspId), o.msp);
    assert.equal(o.mspConfig.name, o.mspId);
  }
  const eps = cfg.ordererEndpoints();
  assert.deepEqual(
    eps.map((e) => [e.address, e.mspId]),
    [['127.0.0.1:7050', 'OrdererMSP']],
  );
  assert.ok(eps[0].tlsRootCerts.length >= 1);
  for (const p of [
    '/Channel/Readers',
    '/Channel/Application/Readers',
    '/Channel/Orderer/BlockValidation',
    '/Channel/Application/Org2MSP/Endorsement',
  ]) {
    assert.ok(cfg.policies.has(p), p);
  }
  const ctx = cfg.cryptoContext();
  assert.equal(ctx.channelId, 'mychannel');
  assert.equal(ctx.msps, cfg.msps);
  assert.equal(ctx.policies, cfg.policies);
}
