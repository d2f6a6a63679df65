/**
 * Fresh test certificates with @peculiar/x509: CAs, intermediates, leaves with OUs, CRLs, and
 * the FabricMSPConfig of a made-up org. P-256 / ECDSA-SHA256 throughout.
 */
import 'reflect-metadata';
import { KeyObject, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { create } from '@bufbuild/protobuf';
import {
  FabricCryptoConfigSchema,
  FabricMSPConfigSchema,
  FabricNodeOUsSchema,
  FabricOUIdentifierSchema,
  type FabricMSPConfig,
} from '../../src/wire/gen/msp/msp_config_pb.js';
import { certToPem } from '../../src/identity/index.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
export const T0 = new Date('2026-01-01T00:00:00Z');

export interface Issued {
  readonly cert: x509.X509Certificate;
  readonly der: Uint8Array;
  readonly pem: Uint8Array;
  readonly keys: CryptoKeyPair;
  readonly privateKey: KeyObject;
}

let serialCounter = 1;

export interface IssueOpts {
  cn: string;
  ous?: string[];
  ca?: boolean;
  notBefore?: Date;
  notAfter?: Date;
  serial?: string;
  ekus?: string[];
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
}

function subject(o: IssueOpts): string {
  return [`CN=${o.cn}`, ...(o.ous ?? []).map((ou) => `OU=${ou}`), 'O=test.example.com'].join(', ');
}

/** Issue a certificate; without `issuer` it is self-signed. */
export async function issue(o: IssueOpts, issuer?: Issued): Promise<Issued> {
  const keys = await keyPair();
  const exts: x509.Extension[] = [await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)];
  if (o.ca) {
    exts.push(new x509.BasicConstraintsExtension(true, undefined, true));
    exts.push(
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
    );
  } else {
    exts.push(new x509.BasicConstraintsExtension(false, undefined, true));
    exts.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true));
  }
  if (o.ekus) exts.push(new x509.ExtendedKeyUsageExtension(o.ekus));
  const signer = issuer ?? { keys, cert: undefined };
  exts.push(await x509.AuthorityKeyIdentifierExtension.create(signer.keys.publicKey));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: o.serial ?? (0x1000 + serialCounter++).toString(16),
    subject: subject(o),
    issuer: issuer ? issuer.cert.subject : subject(o),
    notBefore: o.notBefore ?? T0,
    notAfter: o.notAfter ?? new Date(T0.getTime() + 3650 * DAY),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: signer.keys.privateKey,
    extensions: exts,
  });
  const der = new Uint8Array(cert.rawData);
  return { cert, der, pem: certToPem(der), keys, privateKey: KeyObject.from(keys.privateKey) };
}

/** A CRL by `ca` revoking the given hex serials. */
export async function crl(ca: Issued, serials: string[]): Promise<Uint8Array> {
  const c = await x509.X509CrlGenerator.create({
    issuer: ca.cert.subject,
    thisUpdate: T0,
    nextUpdate: new Date(T0.getTime() + 365 * DAY),
    entries: serials.map((serialNumber) => ({ serialNumber, revocationDate: T0 })),
    signingAlgorithm: ALG,
    signingKey: ca.keys.privateKey,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey)],
  });
  return new TextEncoder().encode(c.toString('pem') + '\n');
}

export interface OrgSpec {
  mspId: string;
  roots: Issued[];
  intermediates?: Issued[];
  crls?: Uint8Array[];
  admins?: Issued[];
  /** NodeOUs (default on). `ouCert` is the certificate the NodeOU identifiers name (default none). */
  nodeOUs?: boolean;
  ouCert?: Issued;
  ouIdentifiers?: { ou: string; cert?: Issued }[];
}

export function mspConfig(s: OrgSpec): FabricMSPConfig {
  const ou = (name: string) =>
    create(FabricOUIdentifierSchema, {
      organizationalUnitIdentifier: name,
      certificate: s.ouCert?.pem ?? new Uint8Array(),
    });
  return create(FabricMSPConfigSchema, {
    name: s.mspId,
    rootCerts: s.roots.map((r) => r.pem),
    intermediateCerts: (s.intermediates ?? []).map((r) => r.pem),
    admins: (s.admins ?? []).map((r) => r.pem),
    revocationList: s.crls ?? [],
    cryptoConfig: create(FabricCryptoConfigSchema, {
      signatureHashFamily: 'SHA2',
      identityIdentifierHashFunction: 'SHA256',
    }),
    organizationalUnitIdentifiers: (s.ouIdentifiers ?? []).map((o) =>
      create(FabricOUIdentifierSchema, {
        organizationalUnitIdentifier: o.ou,
        certificate: o.cert?.pem ?? new Uint8Array(),
      }),
    ),
    fabricNodeOus:
      s.nodeOUs === false
        ? undefined
        : create(FabricNodeOUsSchema, {
            enable: true,
            clientOuIdentifier: ou('client'),
            peerOuIdentifier: ou('peer'),
            adminOuIdentifier: ou('admin'),
            ordererOuIdentifier: ou('orderer'),
          }),
  });
}
