/**
 * No IP address as a TLS server name (Node's DEP0123): an IP target dials with a reserved
 * `.invalid` placeholder that encodes the address, and the server certificate is still checked
 * against the address itself (its IP SANs); host names are left alone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import {
  hostOfServerName,
  tlsServerName,
  tlsTargetOptions,
  verifyServerIdentity,
} from '../../src/comm/tls.js';

test('IP targets get a placeholder server name that maps back to the address', () => {
  assert.equal(tlsServerName('127.0.0.1'), 'ip-127-0-0-1.ip4.invalid');
  assert.equal(tlsServerName('[::1]'), 'ip---1.ip6.invalid');
  assert.equal(tlsServerName('peer0.org1.example.com'), 'peer0.org1.example.com');
  for (const ip of ['127.0.0.1', '10.20.30.40', '::1', 'fe80::1:2'])
    assert.equal(hostOfServerName(tlsServerName(ip)), ip);
  assert.equal(hostOfServerName('localhost'), 'localhost');
  assert.deepEqual(tlsTargetOptions('127.0.0.1:7051'), {
    'grpc.ssl_target_name_override': 'ip-127-0-0-1.ip4.invalid',
  });
  assert.deepEqual(tlsTargetOptions('[::1]:7051'), { 'grpc.ssl_target_name_override': 'ip---1.ip6.invalid' });
  assert.deepEqual(tlsTargetOptions('orderer.example.com:7050'), {});
});

test('the certificate is checked against the address the placeholder stands for', () => {
  const cert = {
    subject: { CN: 'peer0' },
    subjectaltname: 'DNS:peer0, IP Address:127.0.0.1',
  } as unknown as PeerCertificate;
  assert.equal(verifyServerIdentity('ip-127-0-0-1.ip4.invalid', cert), undefined);
  assert.ok(verifyServerIdentity('ip-10-0-0-1.ip4.invalid', cert) instanceof Error);
  assert.equal(verifyServerIdentity('peer0', cert), undefined);
  assert.ok(verifyServerIdentity('peer1', cert) instanceof Error);
});
