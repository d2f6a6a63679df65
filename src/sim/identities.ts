/**
 * Identities for simulated nodes: per org a CA, per peer a leaf certificate shaped like
 * cryptogen's (CN=peerN.orgM.example.com, OU=peer, chained to ca.orgM.example.com).
 *
 * Everything is deterministic: private keys are derived from the names (DeterministicP256Key),
 * serial numbers and validity dates are fixed, and certificates are signed with RFC 6979 nonces,
 * so the same peer has the same certificate and PKI-ID in every process. That is what lets a
 * failing seed replay across machines (PKI-IDs order tie-breaks such as connection dedup and
 * leader election). Material is generated lazily and memoised per process (one certificate costs
 * about a millisecond). Validity: 2020-01-01 .. 2099-12-31, around the clock's DEFAULT_EPOCH_MS.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type BufferSource = webcrypto.BufferSource;
type XCrypto = Parameters<typeof x509.X509CertificateGenerator.create>[1];
import { certToPem, pkiIdOf, serializeIdentity } from '../identity/x509identity.js';
import type { Signer } from '../wire/signer.js';
import { DeterministicP256Key } from './p256.js';

export interface SimOrg {
  readonly domain: string;
  readonly mspId: string;
  readonly caKey: DeterministicP256Key;
  readonly caCertDer: Uint8Array;
  readonly caCertPem: Uint8Array;
  readonly caSubject: string;
}

export interface SimIdentity {
  /** e.g. peer0.org1.example.com */
  readonly name: string;
  readonly org: SimOrg;
  readonly key: DeterministicP256Key;
  readonly certDer: Uint8Array;
  readonly certPem: Uint8Array;
  /** msp.SerializedIdentity */
  readonly serialized: Uint8Array;
  readonly pkiId: Uint8Array;
  /** Deterministic signer (RFC 6979); signatures of repeated payloads are memoised. */
  readonly signer: Signer;
}

export interface SimOrgSpec {
  /** Defaults to `org<N>.example.com`. */
  readonly domain?: string;
  /** Defaults to `Org<N>MSP`. */
  readonly mspId?: string;
  /** Changes the CA key (an impostor CA claiming the same MSP ID). */
  readonly keyLabel?: string;
}

const NOT_BEFORE = new Date(Date.UTC(2020, 0, 1));
const NOT_AFTER = new Date(Date.UTC(2099, 11, 31));
const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIG_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;

const deterministicKeys = new WeakMap<CryptoKey, DeterministicP256Key>();

const view = (data: BufferSource): Uint8Array =>
  ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);

/** WebCrypto whose ECDSA `sign` is deterministic for keys imported through `importPair`. */
const deterministicCrypto = {
  getRandomValues: <T extends ArrayBufferView | null>(a: T): T => webcrypto.getRandomValues(a as never) as T,
  randomUUID: () => webcrypto.randomUUID(),
  subtle: new Proxy(webcrypto.subtle, {
    get(target, prop) {
      if (prop === 'sign') {
        return async (alg: unknown, key: CryptoKey, data: BufferSource) => {
          const k = deterministicKeys.get(key);
          if (!k) return target.sign(alg as webcrypto.AlgorithmIdentifier, key, data);
          const raw = k.signRaw(view(data));
          return raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }),
} as unknown as XCrypto;

async function importPair(k: DeterministicP256Key): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  const privateKey = await webcrypto.subtle.importKey('jwk', k.jwk(true), ALG, true, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('jwk', k.jwk(false), ALG, true, ['verify']);
  deterministicKeys.set(privateKey as CryptoKey, k);
  return { privateKey: privateKey as CryptoKey, publicKey: publicKey as CryptoKey };
}

const serialOf = (label: string): string =>
  '01' + createHash('sha256').update(label).digest('hex').slice(0, 30);

const orgs = new Map<string, Promise<SimOrg>>();
const peers = new Map<string, Promise<SimIdentity>>();

/** Org number `n` (1-based); memoised. */
export function simOrg(n: number, spec: SimOrgSpec = {}): Promise<SimOrg> {
  const domain = spec.domain ?? `org${n}.example.com`;
  const mspId = spec.mspId ?? `Org${n}MSP`;
  const label = `grapevine-sim/ca/${domain}/${mspId}/${spec.keyLabel ?? ''}`;
  let p = orgs.get(label);
  if (!p) {
    p = makeOrg(domain, mspId, label);
    orgs.set(label, p);
  }
  return p;
}

async function makeOrg(domain: string, mspId: string, label: string): Promise<SimOrg> {
  const caKey = DeterministicP256Key.fromSeed(label);
  const { privateKey, publicKey } = await importPair(caKey);
  const caSubject = `C=US, ST=California, L=San Francisco, O=${domain}, CN=ca.${domain}`;
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialOf(label),
      subject: caSubject,
      issuer: caSubject,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      signingAlgorithm: SIG_ALG,
      publicKey,
      signingKey: privateKey,
      extensions: [
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature |
            x509.KeyUsageFlags.keyEncipherment |
            x509.KeyUsageFlags.keyCertSign |
            x509.KeyUsageFlags.cRLSign,
          true,
        ),
        new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.1']),
        new x509.BasicConstraintsExtension(true, undefined, true),
        await x509.SubjectKeyIdentifierExtension.create(publicKey, false, deterministicCrypto),
      ],
    },
    deterministicCrypto,
  );
  const caCertDer = new Uint8Array(cert.rawData);
  return { domain, mspId, caKey, caCertDer, caCertPem: certToPem(caCertDer), caSubject };
}

/** Peer number `i` (0-based) of `org`; memoised. */
export function simPeer(org: SimOrg, i: number): Promise<SimIdentity> {
  const name = `peer${i}.${org.domain}`;
  const label = `grapevine-sim/peer/${name}/${org.mspId}/${Buffer.from(org.caKey.publicPoint).toString('hex').slice(0, 16)}`;
  let p = peers.get(label);
  if (!p) {
    p = makePeer(org, name, label);
    peers.set(label, p);
  }
  return p;
}

async function makePeer(org: SimOrg, name: string, label: string): Promise<SimIdentity> {
  const key = DeterministicP256Key.fromSeed(label);
  const ca = await importPair(org.caKey);
  const { publicKey } = await importPair(key);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialOf(label),
      subject: `C=US, ST=California, L=San Francisco, OU=peer, CN=${name}`,
      issuer: org.caSubject,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      signingAlgorithm: SIG_ALG,
      publicKey,
      signingKey: ca.privateKey,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey, false, deterministicCrypto),
      ],
    },
    deterministicCrypto,
  );
  const certDer = new Uint8Array(cert.rawData);
  const certPem = certToPem(certDer);
  const serialized = serializeIdentity(org.mspId, certPem);
  return {
    name,
    org,
    key,
    certDer,
    certPem,
    serialized,
    pkiId: pkiIdOf(serialized),
    signer: memoSigner(key, serialized),
  };
}

const MEMO_LIMIT = 4096;

/** A Signer over a deterministic key; repeated payloads (ConnEstablish) are signed once. */
export function memoSigner(key: DeterministicP256Key, serializedIdentity: Uint8Array): Signer {
  const memo = new Map<string, Uint8Array>();
  return {
    serializedIdentity,
    sign(data: Uint8Array): Uint8Array {
      const k = createHash('sha256').update(data).digest('base64');
      let sig = memo.get(k);
      if (!sig) {
        sig = key.sign(data);
        if (memo.size >= MEMO_LIMIT) memo.clear();
        memo.set(k, sig);
      }
      return sig;
    },
  };
}

export interface SimCrypto {
  readonly orgs: SimOrg[];
  /** Peers in org order: org1's peer0..peerK-1, then org2's, ... */
  readonly peers: SimIdentity[];
}

/** `orgs` orgs with `peersPerOrg` peers each (defaults 2 and 2). */
export async function simCrypto(spec: { orgs?: number; peersPerOrg?: number } = {}): Promise<SimCrypto> {
  const orgList = await Promise.all(Array.from({ length: spec.orgs ?? 2 }, (_, i) => simOrg(i + 1)));
  const peerList: SimIdentity[] = [];
  for (const org of orgList) {
    for (let i = 0; i < (spec.peersPerOrg ?? 2); i++) peerList.push(await simPeer(org, i));
  }
  return { orgs: orgList, peers: peerList };
}
