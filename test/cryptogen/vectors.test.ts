/**
 * generateCrypto against real cryptogen output: the vectors' crypto-config was made by Fabric
 * v2.4.9's cryptogen from config/crypto-config.yaml; we generate from the same file and compare
 * the folder tree, every certificate's fields (byte for byte where not random), every key, the
 * chains and the NodeOU config.yaml.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateCrypto, parseCryptoConfig } from '../../src/cryptogen/index.js';
import { SKIP_VECTORS, vectorPath } from '../helpers/vectors.js';
import { certFields, certParts, isLowSCanonical, keyMatchesCert, pemToDer, sha256 } from './certparts.js';

function walk(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(root, p) : [relative(root, p)];
  });
}

const isCert = (f: string) => f.endsWith('.pem') || f.endsWith('.crt');
const isKey = (f: string) => f.endsWith('priv_sk') || f.endsWith('.key');
const OID_SKI = '2.5.29.14';
const OID_AKI = '2.5.29.35';

/** The certificate a key file belongs to. */
function certOfKey(root: string, keyRel: string): string {
  const dir = dirname(keyRel);
  if (keyRel.endsWith('server.key')) return join(dir, 'server.crt');
  if (keyRel.endsWith('client.key')) return join(dir, 'client.crt');
  const certDir = dir.endsWith('keystore') ? join(dirname(dir), 'signcerts') : dir;
  const pem = readdirSync(join(root, certDir)).find((f) => f.endsWith('-cert.pem'));
  assert.ok(pem, `no certificate beside ${keyRel}`);
  return join(certDir, pem);
}

/** ca/ or tlsca/ certificate of the org that issued `certRel`. */
function issuerOf(root: string, certRel: string): string {
  const [kind, org] = certRel.split('/');
  const isTls = certRel.includes('/tls/') || certRel.includes('tlsca');
  const caDir = join(kind, org, isTls ? 'tlsca' : 'ca');
  return join(
    caDir,
    readdirSync(join(root, caDir)).find((f) => f.endsWith('-cert.pem'))!,
  );
}

describe('generateCrypto vs cryptogen (fabric vectors)', { skip: SKIP_VECTORS }, () => {
  const vec = vectorPath('crypto-config');
  let out = '';
  let ourFiles: string[] = [];
  let vecFiles: string[] = [];
  const now = new Date('2026-11-20T22:30:10Z');

  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'grapevine-cryptogen-vec-'));
    const config = parseCryptoConfig(readFileSync(vectorPath('config', 'crypto-config.yaml'), 'utf8'));
    await generateCrypto(config, out, { now });
    ourFiles = walk(out).sort();
    vecFiles = walk(vec).sort();
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('writes exactly the same relative file list', () => {
    assert.equal(vecFiles.length, 109);
    assert.deepEqual(ourFiles, vecFiles);
  });

  it('certificate fields match the vectors certificate of the same name', () => {
    const certs = vecFiles.filter(isCert);
    assert.equal(certs.length, 67);
    for (const f of certs) {
      const ours = readFileSync(join(out, f));
      const theirs = readFileSync(join(vec, f));
      assert.deepEqual(certFields(ours), certFields(theirs), f);
    }
  });

  it('certificates have cryptogen DER structure: names, algorithms, extensions byte for byte', () => {
    for (const f of vecFiles.filter(isCert)) {
      const o = certParts(readFileSync(join(out, f)));
      const v = certParts(readFileSync(join(vec, f)));
      for (const k of ['version', 'sigAlg', 'issuer', 'subject', 'spkiAlg', 'outerSigAlg'] as const) {
        assert.deepEqual(o[k], v[k], `${f}: ${k}`);
      }
      assert.equal(o.notBefore.tag, v.notBefore.tag, `${f}: notBefore type`);
      assert.deepEqual(o.notBefore.content, v.notBefore.content, `${f}: notBefore (same issue time)`);
      assert.deepEqual(o.notAfter.content, v.notAfter.content, `${f}: notAfter`);
      assert.deepEqual(
        o.extensions.map((e) => [e.oid, e.critical]),
        v.extensions.map((e) => [e.oid, e.critical]),
        `${f}: extension order and criticality`,
      );
      for (const [k, e] of o.extensions.entries()) {
        if (e.oid === OID_SKI || e.oid === OID_AKI)
          assert.equal(e.value.length, v.extensions[k].value.length, f);
        else assert.deepEqual(e.value, v.extensions[k].value, `${f}: extension ${e.oid}`);
      }
      // Serial: random positive INTEGER of at most 128 bits, minimal encoding.
      assert.ok(o.serial.length <= 17 && !(o.serial[0] & 0x80), `${f}: serial`);
      if (o.serial.length > 1) assert.ok(o.serial[0] !== 0 || o.serial[1] & 0x80, `${f}: serial minimal`);
    }
  });

  it('SKI is SHA-256 of the public point and AKI is the issuing CA SKI (as in the vectors)', () => {
    for (const root of [vec, out]) {
      for (const f of vecFiles.filter(isCert)) {
        const p = certParts(readFileSync(join(root, f)));
        const ski = p.extensions.find((e) => e.oid === OID_SKI);
        const aki = p.extensions.find((e) => e.oid === OID_AKI);
        const ca = certParts(readFileSync(join(root, issuerOf(root, f))));
        const caSki = ca.extensions.find((e) => e.oid === OID_SKI)!.value.subarray(2);
        if (ski) {
          assert.deepEqual(ski.value.subarray(2), sha256(p.publicPoint), `${root}/${f}: SKI`);
          assert.equal(aki, undefined, `${f}: self-signed CA has no AKI`);
        } else {
          assert.deepEqual(aki?.value.subarray(4), caSki, `${root}/${f}: AKI`);
        }
      }
    }
  });

  it('every certificate chains to its org CA with a low-S signature', () => {
    for (const root of [vec, out]) {
      for (const f of vecFiles.filter(isCert)) {
        const cert = new X509Certificate(readFileSync(join(root, f)));
        const ca = new X509Certificate(readFileSync(join(root, issuerOf(root, f))));
        assert.ok(
          cert.checkIssued(ca) && cert.verify(ca.publicKey),
          `${root}/${f} is not signed by ${issuerOf(root, f)}`,
        );
        // cryptogen signs issued certs with its low-S signer but self-signs CAs with the plain Go
        // key (random S); we sign everything low-S, which Fabric's MSP accepts unchanged.
        const selfSigned =
          f.split('/')[2] === 'ca' || f.split('/')[2] === 'tlsca' || cert.subject === ca.subject;
        if (root === out || !selfSigned) {
          assert.ok(
            isLowSCanonical(certParts(readFileSync(join(root, f))).signature),
            `${root}/${f}: high-S signature`,
          );
        }
      }
    }
  });

  it('every key is PKCS#8 in cryptogen layout, matches its certificate, and is private (0600)', () => {
    const keys = vecFiles.filter(isKey);
    assert.equal(keys.length, 28);
    for (const f of keys) {
      const ours = readFileSync(join(out, f));
      assert.ok(
        keyMatchesCert(ours, readFileSync(join(out, certOfKey(out, f)))),
        `${f} does not match its certificate`,
      );
      assert.ok(ours.toString().startsWith('-----BEGIN PRIVATE KEY-----\n'), f);
      const o = pemToDer(ours);
      const v = pemToDer(readFileSync(join(vec, f)));
      assert.equal(o.length, v.length, f);
      assert.deepEqual(o.subarray(0, 36), v.subarray(0, 36), `${f}: PKCS#8 header`);
      assert.deepEqual(o.subarray(68, 74), v.subarray(68, 74), `${f}: public key tag`);
      assert.equal(statSync(join(out, f)).mode & 0o777, 0o600, f);
    }
  });

  it('NodeOU config.yaml files are byte-identical', () => {
    const ymls = vecFiles.filter((f) => f.endsWith('config.yaml'));
    assert.equal(ymls.length, 14);
    for (const f of ymls)
      assert.equal(readFileSync(join(out, f), 'utf8'), readFileSync(join(vec, f), 'utf8'), f);
  });

  it('CA copies (cacerts, tlscacerts, tls/ca.crt) are the org CA certificates', () => {
    for (const f of ourFiles.filter((x) => /\/(cacerts|tlscacerts)\/|\/tls\/ca\.crt$/.test(x))) {
      const ca = issuerOf(out, f); // tlscacerts and tls/ca.crt -> tlsca/, cacerts -> ca/
      assert.deepEqual(readFileSync(join(out, f)), readFileSync(join(out, ca)), f);
    }
  });

  it('PEM files are formatted as Go pem.Encode (64-column lines, trailing newline)', () => {
    for (const f of ourFiles.filter((x) => isCert(x) || isKey(x))) {
      const text = readFileSync(join(out, f), 'utf8');
      const lines = text.split('\n');
      assert.equal(lines.at(-1), '', f);
      assert.ok(
        lines.slice(1, -3).every((l) => l.length === 64),
        f,
      );
      assert.ok(lines.at(-3)!.length <= 64, f);
    }
  });
});
