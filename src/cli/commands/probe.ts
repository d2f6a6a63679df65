/**
 * `grapevine probe <host:port>`: dial a gossip endpoint step by step (TCP, TLS, gRPC Ping +
 * probe handshake as Fabric's Handshake does) and print who answered, or which step failed.
 */
import { cryptoRng, realClock } from '../../base/real-clock.js';
import { X509Certificate } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { CommanderError } from 'commander';
import { connect as tlsConnect } from 'node:tls';
import { ConfigError, GrapevineError, errorMessage } from '../../base/errors.js';
import { commCryptoFromMsps, loadCommIdentity, loadCommTls } from '../../comm/identity.js';
import { GrpcTransport } from '../../comm/transport.js';
import { HandshakeError } from '../../core/link/handshake.js';
import { pkiIdKey } from '../../base/pkiid.js';
import { loadMspFolder, fabricMspConfigFromFolder } from '../../identity/mspdir.js';
import { mspFromFabricConfig } from '../../identity/msp.js';
import { parseSerializedIdentity } from '../../identity/x509identity.js';
import type { Msp } from '../../identity/types.js';
import type { CommTls } from '../../comm/tls.js';
import { durationOption } from '../options.js';

export interface ProbeOptions {
  msp: string;
  mspid: string;
  tls?: string;
  trust: string[];
  timeout: string;
  json?: boolean;
}

/** Who answered a probe (`grapevine probe --json` prints it with ok: true). */
export interface ProbeResult {
  readonly endpoint: string;
  /** hex */
  readonly pkiId: string;
  readonly mspId: string;
  readonly subject: string;
  readonly rttMs: number;
}

/** Why a probe failed: the step and the reason. */
export class ProbeError extends GrapevineError {}

const STEP_OF: Record<string, string> = {
  TLS_HASH_MISMATCH: 'certificate hash binding',
  BAD_SIGNATURE: 'signature',
  UNKNOWN_MSP: 'unknown MSP',
  IDENTITY_REJECTED: 'CA (identity not valid for its MSP)',
  NOT_CONN: 'handshake',
  TIMEOUT: 'handshake',
  NO_TLS_CERT: 'TLS',
  PROBE_UNEXPECTED: 'handshake',
};

function splitEndpoint(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  const port = Number(endpoint.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535)
    throw new ConfigError('BAD_ENDPOINT', `endpoint ${endpoint}: expected host:port`);
  return { host: endpoint.slice(0, i), port };
}

function loadMsp(spec: string): Msp {
  const i = spec.lastIndexOf(':');
  if (i <= 0) throw new ConfigError('BAD_TRUST', `--trust ${spec}: expected <msp dir>:<MSP ID>`);
  return mspFromFabricConfig(fabricMspConfigFromFolder(loadMspFolder(spec.slice(0, i)), spec.slice(i + 1)));
}

function tcpStep(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host, port });
    s.setTimeout(
      timeoutMs,
      () => (
        s.destroy(),
        reject(new ProbeError('TCP', `TCP: no connection to ${host}:${port} within ${timeoutMs} ms`))
      ),
    );
    s.once('connect', () => (s.destroy(), resolve()));
    s.once('error', (e) => reject(new ProbeError('TCP', `TCP: ${e.message}`)));
  });
}

function tlsStep(host: string, port: number, tls: CommTls, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({
      host,
      port,
      ca: tls.rootCAs.map((c) => Buffer.from(c)),
      cert: Buffer.from(tls.certPem),
      key: Buffer.from(tls.keyPem),
      ALPNProtocols: ['h2'],
      ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
    });
    s.setTimeout(
      timeoutMs,
      () => (s.destroy(), reject(new ProbeError('TLS', `TLS: no handshake within ${timeoutMs} ms`))),
    );
    s.once('secureConnect', () => (s.destroy(), resolve()));
    s.once('error', (e: Error & { code?: string }) => {
      const ca = /CERT|SELF_SIGNED|ISSUER|VERIFY|ALTNAME/i.test(e.code ?? '');
      reject(new ProbeError(ca ? 'CA' : 'TLS', `${ca ? 'CA' : 'TLS'}: ${e.code ?? ''} ${e.message}`.trim()));
    });
  });
}

/** The probe's text output: one `name value` line per field. */
export async function runProbe(endpoint: string, opts: ProbeOptions): Promise<string> {
  const r = await probe(endpoint, opts);
  return [
    `endpoint   ${r.endpoint}`,
    `pki-id     ${r.pkiId}`,
    `msp id     ${r.mspId}`,
    `subject    ${r.subject}`,
    `rtt        ${r.rttMs.toFixed(1)} ms`,
  ].join('\n');
}

/** Dial, authenticate and describe `endpoint`; a ProbeError (code = the step) when a step fails. */
export async function probe(endpoint: string, opts: ProbeOptions): Promise<ProbeResult> {
  const { host, port } = splitEndpoint(endpoint);
  const timeoutMs = durationOption('--timeout', opts.timeout, 1, 1);
  const identity = loadCommIdentity(opts.msp, opts.mspid);
  const msps = [
    mspFromFabricConfig(fabricMspConfigFromFolder(loadMspFolder(opts.msp), opts.mspid)),
    ...opts.trust.map(loadMsp),
  ];
  const extraCAs = msps.flatMap((m) => [...m.tlsRootCerts, ...m.tlsIntermediateCerts]);
  const tls = opts.tls ? loadCommTls(opts.tls, extraCAs) : undefined;
  await tcpStep(host, port, timeoutMs);
  if (tls) await tlsStep(host, port, tls, timeoutMs);
  const t = await GrpcTransport.start({
    clock: realClock,
    rng: cryptoRng,
    identity,
    crypto: commCryptoFromMsps(() => msps, realClock),
    tls,
    listenAddress: '127.0.0.1:0',
    config: { dialTimeoutMs: timeoutMs },
  });
  try {
    const start = process.hrtime.bigint();
    const info = await t.handshake({ endpoint });
    const rtt = Number(process.hrtime.bigint() - start) / 1e6;
    const { mspId, idBytes } = parseSerializedIdentity(info.identity);
    const subject = new X509Certificate(Buffer.from(idBytes)).subject.replace(/\n/g, ', ');
    return { endpoint, pkiId: pkiIdKey(info.pkiId), mspId, subject, rttMs: Math.round(rtt * 10) / 10 };
  } catch (e) {
    if (e instanceof HandshakeError)
      throw new ProbeError(e.reason, `${STEP_OF[e.reason] ?? 'handshake'}: ${e.message}`);
    throw new ProbeError((e as GrapevineError).code ?? 'FAILED', `gRPC: ${errorMessage(e)}`);
  } finally {
    await t.stop();
  }
}

/**
 * `grapevine probe`: print who answered, or fail naming the step. With --json, one JSON object on
 * stdout either way: ProbeResult with ok: true, or {ok: false, endpoint, step, error} and exit 1.
 */
export async function probeCommand(endpoint: string, opts: ProbeOptions): Promise<void> {
  try {
    if (opts.json) console.log(JSON.stringify({ ok: true, ...(await probe(endpoint, opts)) }));
    else console.log(await runProbe(endpoint, opts));
  } catch (e) {
    if (!(e instanceof GrapevineError)) throw e;
    if (opts.json) {
      console.log(JSON.stringify({ ok: false, endpoint, step: e.code, error: e.message }));
      throw new CommanderError(1, 'grapevine.probe', e.message);
    }
    throw new GrapevineError(e.code, `probe ${endpoint} failed at ${e.message}`);
  }
}
