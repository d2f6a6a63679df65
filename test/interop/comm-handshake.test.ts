/**
 * Real Fabric v2.4.9 ConnEstablish envelopes (captured with TLS off, so tls_cert_hash is empty)
 * pass our handshake verification with the vectors' MSPs, and authenticate the sending peer.
 */
import { realClock } from '../../src/base/real-clock.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SKIP_VECTORS, readVector, vectorPath, vectorIndex } from '../helpers/vectors.js';
import { verifyConnEstablish, HandshakeError } from '../../src/core/link/handshake.js';
import { commCryptoFromMsps, loadCommIdentity } from '../../src/comm/identity.js';
import { IdentityStore } from '../../src/identity/store.js';
import { loadMspFolder, fabricMspConfigFromFolder } from '../../src/identity/mspdir.js';
import { mspFromFabricConfig } from '../../src/identity/msp.js';
import { decodeEnvelope } from '../../src/wire/gossip.js';
import { pkiIdKey } from '../../src/base/pkiid.js';
import { ManualClock } from '../comm/fixtures.js';

test(
  'captured Fabric ConnEstablish envelopes pass our handshake verification',
  { skip: SKIP_VECTORS },
  () => {
    const orgMsp = (org: number) =>
      mspFromFabricConfig(
        fabricMspConfigFromFolder(
          loadMspFolder(vectorPath('crypto-config', 'peerOrganizations', `org${org}.example.com`, 'msp')),
          `Org${org}MSP`,
        ),
      );
    const crypto = commCryptoFromMsps(() => [orgMsp(1), orgMsp(2)], realClock);
    const me = loadCommIdentity(
      join(
        vectorPath(
          'crypto-config',
          'peerOrganizations',
          'org1.example.com',
          'peers',
          'peer0.org1.example.com',
        ),
        'msp',
      ),
      'Org1MSP',
    );
    const files = readdirSync(vectorPath('gossip')).filter((f) => /_conn_/.test(f));
    assert.ok(files.length >= 70, `only ${files.length} conn vectors`);
    const peers = vectorIndex().peers as Record<string, { pki_id: string }>;
    const pkiOf = new Map(Object.entries(peers).map(([name, p]) => [name, p.pki_id]));
    let probes = 0;
    for (const f of files) {
      const store = new IdentityStore({
        self: { pkiId: me.pkiId, identity: me.signer.serializedIdentity },
        validator: crypto,
        clock: new ManualClock(Date.now()),
      });
      const envelope = decodeEnvelope(readVector('gossip', f));
      const r = verifyConnEstablish(
        { envelope, tlsEnabled: false, endpoint: 'capture', role: 'responder' },
        {
          putIdentity: (p, i) => store.put(p, i),
          verifySignature: (i, s, d) => crypto.verifySignature(i, s, d),
        },
      );
      const from = /_conn_(.+)_to_/.exec(f)![1];
      const want = [...pkiOf.entries()].find(([name]) => name.startsWith(from))?.[1];
      assert.ok(want, `no index entry for ${from}`);
      assert.equal(pkiIdKey(r.info.pkiId), want, f);
      if (r.probe) probes++;
      // With TLS on, the same message fails the binding: its tls_cert_hash is empty.
      assert.throws(
        () =>
          verifyConnEstablish(
            {
              envelope,
              tlsEnabled: true,
              remoteTlsCertDer: new Uint8Array([1]),
              endpoint: 'x',
              role: 'responder',
            },
            {
              putIdentity: () => undefined,
              verifySignature: () => true,
            },
          ),
        (e: unknown) => e instanceof HandshakeError && e.reason === 'TLS_HASH_MISMATCH',
      );
      store.stop();
    }
    assert.equal(probes, 25, 'the capture has 25 probe=true handshakes');
  },
);
