/**
 * TLS for gossip (PROTOCOL.md §1.2): the server always requests a client certificate
 * (Go's RequestClientCert: asked for, chain not verified) unless clientAuthRequired, which
 * verifies it against the orgs' TLS CAs; the dialer presents its client certificate and trusts
 * the orgs' TLS CAs, checking the server name = host of the dialled endpoint.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { checkServerIdentity, TLSSocket, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { ConfigError, errorMessage } from '../base/errors.js';

export interface CommTls {
  /** Our TLS certificate (PEM), used as server certificate and, unless clientCertPem is set, client certificate. */
  readonly certPem: Uint8Array;
  readonly keyPem: Uint8Array;
  /** Client key pair (`peer.tls.clientCert.file`/`clientKey.file`); defaults to the server pair. */
  readonly clientCertPem?: Uint8Array;
  readonly clientKeyPem?: Uint8Array;
  /** PEM TLS root and intermediate CAs of the orgs we talk to (and `peer.tls.rootcert.file`). */
  readonly rootCAs: readonly Uint8Array[];
}

/** DER of the first certificate of a PEM (our own leaf, for tls_cert_hash). */
export function leafDer(pem: Uint8Array, what = 'TLS certificate'): Uint8Array {
  try {
    return new Uint8Array(new X509Certificate(Buffer.from(pem)).raw);
  } catch (e) {
    throw new ConfigError('BAD_TLS_CERT', `${what} does not parse: ${errorMessage(e)}`, { cause: e });
  }
}

function joinPem(pems: readonly Uint8Array[]): Buffer {
  return Buffer.concat(pems.map((p) => Buffer.concat([Buffer.from(p), Buffer.from('\n')])));
}

/** Server credentials: request a client certificate; verify it only when `clientAuthRequired`. */
class GossipServerCredentials extends grpc.ServerCredentials {
  constructor(tls: CommTls, clientAuthRequired: boolean) {
    super(
      {
        requestCert: true,
        rejectUnauthorized: clientAuthRequired,
        minVersion: 'TLSv1.2',
        // the handshake deadline is the listener's (comm/listener.ts: counted, one timer)
      },
      // Without clientAuthRequired no CA list is sent (as Go's RequestClientCert with no
      // ClientCAs): a client whose TLS CA is not listed still presents its certificate.
      {
        cert: Buffer.from(tls.certPem),
        key: Buffer.from(tls.keyPem),
        ...(clientAuthRequired && tls.rootCAs.length ? { ca: joinPem(tls.rootCAs) } : {}),
      },
    );
  }
  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/**
 * Server credentials of a gRPC server. The TLS handshake deadline of an inbound connection is
 * the owned listener's (comm/listener.ts); a server bound by grpc-js itself has Node's 120 s.
 */
export function serverCredentials(
  tls: CommTls | undefined,
  clientAuthRequired: boolean,
): grpc.ServerCredentials {
  return tls ? new GossipServerCredentials(tls, clientAuthRequired) : grpc.ServerCredentials.createInsecure();
}

export function channelCredentials(tls: CommTls | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return sslCredentials(
    joinPem(tls.rootCAs),
    Buffer.from(tls.clientKeyPem ?? tls.keyPem),
    Buffer.from(tls.clientCertPem ?? tls.certPem),
  );
}

/*
 * An IP address is never the TLS server name of a dial: Node warns (DEP0123) when it is, and RFC
 * 6066 forbids an IP address in SNI. grpc-js uses the target's host unless
 * grpc.ssl_target_name_override is set, and then checks the certificate against the override
 * name; so for an IP target (tlsTargetOptions) the override is a reserved name under `.invalid`
 * that encodes the address (127.0.0.1 -> ip-127-0-0-1.ip4.invalid), and the credentials'
 * checkServerIdentity (sslCredentials) decodes it and checks the certificate against the address
 * itself (its IP SANs), exactly as before. A host name target is left alone.
 */
const IP_SERVER_NAME = /^ip-([0-9a-f-]+)\.ip([46])\.invalid$/i;

/** The TLS server name to dial `host` with: the host, or a placeholder for an IP address. */
export function tlsServerName(host: string): string {
  const h = host.replace(/^\[|\]$/g, '');
  const v = isIP(h);
  if (v === 4) return `ip-${h.replace(/\./g, '-')}.ip4.invalid`;
  if (v === 6 && !h.includes('.')) return `ip-${h.replace(/:/g, '-')}.ip6.invalid`;
  return host;
}

/** The host a server name stands for (the inverse of tlsServerName). */
export function hostOfServerName(name: string): string {
  const m = IP_SERVER_NAME.exec(name);
  if (!m) return name;
  return m[2] === '4' ? m[1]!.replace(/-/g, '.') : m[1]!.replace(/-/g, ':');
}

/** Node's certificate check against the dialled host (an IP placeholder decoded). */
export function verifyServerIdentity(name: string, cert: PeerCertificate): Error | undefined {
  return checkServerIdentity(hostOfServerName(name), cert);
}

/** grpc-js TLS credentials whose server check understands tlsTargetOptions' placeholder names. */
export function sslCredentials(
  roots: Buffer | null,
  key?: Buffer | null,
  cert?: Buffer | null,
): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(roots, key ?? null, cert ?? null, {
    checkServerIdentity: verifyServerIdentity,
  });
}

/** Channel options for a TLS dial of `address` (host:port): no IP address as the server name. */
export function tlsTargetOptions(address: string): grpc.ChannelOptions {
  const i = address.lastIndexOf(':');
  const host = i > 0 ? address.slice(0, i) : address;
  const name = tlsServerName(host);
  return name === host ? {} : { 'grpc.ssl_target_name_override': name };
}

/** Our client and server leaf DERs (tls_cert_hash: client cert when dialling, server cert when accepting). */
export function ownLeaves(tls: CommTls | undefined): { client?: Uint8Array; server?: Uint8Array } {
  if (!tls) return {};
  return {
    server: leafDer(tls.certPem),
    client: leafDer(tls.clientCertPem ?? tls.certPem, 'TLS client certificate'),
  };
}

/**
 * The client certificate of a server call, verified or not. grpc-js reports the peer
 * certificate only when the chain verified (socket.authorized), but Fabric's default
 * (RequestClientCert) binds the handshake to whatever certificate the client presented, so this
 * reads it from the call's TLS socket (grpc-js 1.14 internals: call -> [nextCall...] -> stream ->
 * session -> socket), falling back to the public auth context.
 */
export function serverCallCertDer(
  call: object & { getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } } | null },
): Uint8Array | undefined {
  type Inner = { stream?: { session?: { socket?: unknown } }; nextCall?: Inner };
  let inner = (call as { call?: Inner }).call;
  for (let i = 0; inner && !inner.stream && i < 8; i++) inner = inner.nextCall;
  const socket = inner?.stream?.session?.socket;
  if (socket instanceof TLSSocket) {
    const raw = socket.getPeerCertificate()?.raw;
    return raw && raw.length > 0 ? new Uint8Array(raw) : undefined;
  }
  return remoteCertDer(call);
}

/** The DER of the certificate the remote presented on a call, if any. */
export function remoteCertDer(call: {
  getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } } | null;
}): Uint8Array | undefined {
  const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
  return raw && raw.length > 0 ? new Uint8Array(raw) : undefined;
}
