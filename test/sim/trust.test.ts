/**
 * SimTrust's process-wide memos (src/sim/trust.ts) must never turn a refusal into an acceptance:
 * a signature that verified is a hit only for the same identity and data; identity bytes changed
 * in place are classified afresh; a certificate that chained to one org's CA is not accepted by a
 * node trusting an impostor CA with the same MSP ID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimTrust, VirtualClock, simOrg, simPeer } from '../../src/sim/index.js';

test('SimTrust memos: a remembered good signature never vouches for other data, signatures or identities', async () => {
  const org = await simOrg(1);
  const alice = await simPeer(org, 0);
  const bob = await simPeer(org, 1);
  const trust = new SimTrust([org], new VirtualClock());
  const data = new TextEncoder().encode('alive message payload');
  const sig = alice.signer.sign(data);
  trust.verify(alice.serialized, sig, data);
  trust.verifyValid(alice.serialized, sig, data); // the memo hit
  const other = data.slice();
  other[0]! ^= 1;
  assert.throws(() => trust.verify(alice.serialized, sig, other), { code: 'BAD_SIGNATURE' });
  assert.throws(() => trust.verify(alice.serialized, sig, data.subarray(1)), { code: 'BAD_SIGNATURE' });
  const badSig = sig.slice();
  badSig[badSig.length - 1]! ^= 1;
  assert.throws(() => trust.verify(alice.serialized, badSig, data));
  assert.throws(() => trust.verify(bob.serialized, sig, data), { code: 'BAD_SIGNATURE' });
  // still accepted after the refusals
  trust.verify(alice.serialized, sig, data);
});

test('SimTrust memos: identity bytes changed in place are looked up afresh', async () => {
  const org = await simOrg(1);
  const alice = await simPeer(org, 0);
  const trust = new SimTrust([org], new VirtualClock());
  const identity = alice.serialized.slice();
  trust.validateIdentity(identity);
  identity[identity.length - 40]! ^= 0xff; // inside the certificate
  assert.throws(() => trust.validateIdentity(identity));
  assert.throws(() => trust.expiration(identity));
});

test('SimTrust memos: a chain accepted for one CA does not pass for an impostor CA with the same MSP ID', async () => {
  const org = await simOrg(1);
  const impostor = await simOrg(1, { keyLabel: 'impostor' });
  assert.equal(impostor.mspId, org.mspId);
  const alice = await simPeer(org, 0);
  const clock = new VirtualClock();
  new SimTrust([org], clock).validateIdentity(alice.serialized);
  assert.throws(() => new SimTrust([impostor], clock).validateIdentity(alice.serialized), { code: 'CHAIN' });
  const org2 = await simOrg(2);
  assert.throws(() => new SimTrust([org2], clock).validateIdentity(alice.serialized), {
    code: 'UNKNOWN_MSP',
  });
  // and the genuine org still accepts it
  new SimTrust([org], clock).validateIdentity(alice.serialized);
});

test('SimTrust: validity is checked at the node clock even for a remembered identity', async () => {
  const org = await simOrg(1);
  const alice = await simPeer(org, 0);
  const data = new Uint8Array([1, 2, 3]);
  const sig = alice.signer.sign(data);
  new SimTrust([org], new VirtualClock()).verifyValid(alice.serialized, sig, data);
  const late = new SimTrust([org], new VirtualClock(Date.UTC(2100, 0, 1)));
  assert.throws(() => late.verifyValid(alice.serialized, sig, data), { code: 'EXPIRED' });
  late.verify(alice.serialized, sig, data); // plain Verify does not check validity
});
