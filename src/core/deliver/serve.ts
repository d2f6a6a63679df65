/**
 * The serving logic of `orderer.AtomicBroadcast/Deliver`, free of I/O: the transport gives a
 * DeliverIO (comm/deliver/server.ts over a gRPC call, sim/deliver.ts over the simulated rpc), this
 * module does the rest. Served from a channel's blocks (Fabric common/deliver/deliver.go,
 * acl.go, binding.go @v2.4.9): by the embedded orderer over its Chain, and by every Grapevine peer
 * over its ledger and channel config (the relay: a Fabric peer's deliver client may point at it
 * with peer.deliveryclient.addressOverrides). The source is a DeliverSource; blocks go out as the
 * bytes the source stores, never re-encoded.
 *
 * Per stream, repeat: read a SeekInfo envelope (end of stream -> done); serve it; send a Status;
 * stop unless that status is SUCCESS. Serving one envelope, in Fabric's order:
 *   - payload/header/channel header/signature header decode, timestamp present and within
 *     TimeWindow of our clock, and with mutual TLS tls_cert_hash = SHA-256(client TLS cert)
 *     -> else BAD_REQUEST;
 *   - unknown channel -> NOT_FOUND; SeekInfo does not decode -> BAD_REQUEST;
 *   - chain errored (and error_response STRICT) -> SERVICE_UNAVAILABLE;
 *   - access: creator certificate not expired and signature set satisfies /Channel/Readers
 *     (/Channel/Orderer/Readers in maintenance), re-evaluated before every block when the config
 *     sequence grew, expiry before every block -> FORBIDDEN;
 *   - start or stop missing -> BAD_REQUEST;
 *   - cursor: Oldest = 0, Newest = height-1, Specified(n) (n > height: NOT_FOUND), none ->
 *     NOT_FOUND (NextCommit, field 4, is not in our protos and counts as none). Stop: Oldest = start, Newest = start if start equals stop else
 *     height-1, Specified(n) (< start: BAD_REQUEST), none = 0;
 *   - loop: FAIL_IF_NOT_READY and the next block is not there -> NOT_FOUND; else wait for it
 *     (BLOCK_UNTIL_READY), send it; after sending block stopNum -> SUCCESS.
 * Cancellation of the call while waiting, or a failed send, ends the stream with an error
 * (Fabric's INTERNAL_SERVER_ERROR path), not a status.
 * Metrics (Fabric's): deliver_streams_opened/closed per stream; deliver_requests_received once
 * the channel is known, deliver_requests_completed {success} with the status sent (a request
 * ended by an error counts as not successful); deliver_blocks_sent per block.
 */
import { equals } from '@bufbuild/protobuf';
import { GrapevineError, errorMessage } from '../../base/errors.js';
import { METRICS } from '../../base/metric-table.js';
import type { Metrics } from '../../base/metrics.js';
import type { ChannelConfig } from '../../channelconfig/types.js';
import {
  channelHeaderOf,
  envelopeAsSignedData,
  expiresAt,
  signatureHeaderOf,
} from '../../identity/envelope.js';
import type { PolicyEvaluator, SignedData } from '../../identity/types.js';
import { decode } from '../../wire/codec.js';
import {
  EnvelopeSchema,
  Status,
  type ChannelHeader,
  type Envelope,
} from '../../wire/gen/common/common_pb.js';
import {
  SeekInfoSchema,
  SeekInfo_SeekBehavior,
  SeekInfo_SeekErrorResponse,
  SeekPositionSchema,
  type SeekInfo,
  type SeekPosition,
} from '../../wire/gen/orderer/ab_pb.js';

export const CHANNEL_READERS = '/Channel/Readers';
export const CHANNEL_ORDERER_READERS = '/Channel/Orderer/Readers';

/** The stream as the handler sees it (a gRPC call, a simulated rpc call, or a test double). */
export interface DeliverIO {
  /** The next request (a serialized common.Envelope), or undefined once the client half-closed. */
  recv(): Promise<Uint8Array | undefined>;
  /** Send DeliverResponse{block}; `block` is the block's bytes as stored. */
  sendBlock(block: Uint8Array): Promise<void>;
  sendStatus(status: Status): Promise<void>;
  /** Aborted when the call is cancelled. */
  readonly signal: AbortSignal;
  /** SHA-256 of the DER of the TLS certificate the client presented, if any. */
  readonly clientCertHash?: Uint8Array;
  /** A seek passed the access check: the client proved an identity (connection limits). */
  authorized?(): void;
}

/**
 * A channel as the handler reads it: the orderer's Chain, or a peer's ledger and channel config
 * (service/deliversource.ts).
 */
export interface DeliverSource {
  readonly channelId: string;
  /** Fabric's errored chain: STRICT requests get SERVICE_UNAVAILABLE. */
  readonly errored: boolean;
  /** The config sequence: the Readers policy is evaluated again when it grew. */
  readonly sequence: bigint;
  /** The policy evaluator of the current config, and the Readers policy to apply. */
  readers(): { readonly policies: PolicyEvaluator; readonly path: string };
  height(): bigint;
  /** Block n's bytes as stored (undefined when absent). */
  getBlockBytes(n: bigint): Promise<Uint8Array | undefined>;
  /** Resolves once height() >= `height`, when `signal` aborts, or on a halt/stop (height unchanged). */
  waitForHeight(height: bigint, signal: AbortSignal): Promise<void>;
}

/** The Readers policy of a channel config: /Channel/Orderer/Readers in maintenance mode. */
export function readersOf(cfg: Pick<ChannelConfig, 'consensusType' | 'policies'>): {
  readonly policies: PolicyEvaluator;
  readonly path: string;
} {
  return {
    policies: cfg.policies,
    path: cfg.consensusType.state === 'MAINTENANCE' ? CHANNEL_ORDERER_READERS : CHANNEL_READERS,
  };
}

/** Fabric's deliver_* counters (common/deliver/metrics.go); OrdererMetrics and a peer's satisfy it. */
export type DeliverMetrics = ReturnType<typeof deliverMetrics>;

export const DELIVER_FILTERED = 'false';
export const DELIVER_DATA_TYPE = 'block';

/** Fabric's deliver_* metrics (the metrics table's entries, Fabric v2.4.9's names) on `m`. */
export function deliverMetrics(m: Metrics) {
  return {
    deliverStreamsOpened: m.counter(METRICS.deliverStreamsOpened),
    deliverStreamsClosed: m.counter(METRICS.deliverStreamsClosed),
    deliverRequestsReceived: m.counter(METRICS.deliverRequestsReceived),
    deliverRequestsCompleted: m.counter(METRICS.deliverRequestsCompleted),
    deliverBlocksSent: m.counter(METRICS.deliverBlocksSent),
  };
}

export interface DeliverDeps {
  /** The channel `channelId` if it is served here (else NOT_FOUND). */
  source(channelId: string): DeliverSource | undefined;
  now(): number;
  /** General.Authentication.TimeWindow in ms (Fabric 15 min); Infinity disables the check. */
  readonly timeWindowMs: number;
  /** Mutual TLS on: tls_cert_hash binding is mandatory. */
  readonly mutualTls: boolean;
  readonly noExpirationChecks?: boolean;
  readonly metrics?: DeliverMetrics;
  /** Bound on streams served at once (absent: none, as Fabric's orderer). */
  readonly limit?: DeliverStreamLimit;
}

/**
 * At most `max` Deliver streams at once (grapevine.deliverServer.maxStreams): a stream beyond it
 * gets SERVICE_UNAVAILABLE at once and is counted (`onRefused`); its client tries elsewhere (a
 * stream follower suspects this upstream; a Fabric peer's deliver client backs off).
 */
export class DeliverStreamLimit {
  private active = 0;
  constructor(
    readonly max: number,
    private readonly onRefused: () => void = () => undefined,
  ) {}

  get inUse(): number {
    return this.active;
  }

  /** false (and counted) when `max` streams are being served. */
  acquire(): boolean {
    if (this.active >= this.max) {
      this.onRefused();
      return false;
    }
    this.active++;
    return true;
  }

  release(): void {
    if (this.active > 0) this.active--;
  }
}

/** The stream ends with a gRPC error instead of a status (cancelled call, failed send, bad bytes). */
export class DeliverStreamError extends GrapevineError {}

/** Serve one Deliver stream until the client hangs up or a non-SUCCESS status was sent. */
export async function handleDeliver(io: DeliverIO, deps: DeliverDeps): Promise<void> {
  if (deps.limit && !deps.limit.acquire()) {
    await io.sendStatus(Status.SERVICE_UNAVAILABLE);
    return;
  }
  deps.metrics?.deliverStreamsOpened.inc();
  try {
    await serveStream(io, deps);
  } finally {
    deps.metrics?.deliverStreamsClosed.inc();
    deps.limit?.release();
  }
}

async function serveStream(io: DeliverIO, deps: DeliverDeps): Promise<void> {
  for (;;) {
    const bytes = await io.recv();
    if (bytes === undefined) return;
    let env: Envelope;
    try {
      env = decode(EnvelopeSchema, bytes, 'common.Envelope');
    } catch (e) {
      throw new DeliverStreamError('MALFORMED', `grpc: error unmarshalling request: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    const status = await deliverBlocks(io, env, deps);
    await io.sendStatus(status);
    if (status !== Status.SUCCESS) return;
  }
}

interface Parsed {
  readonly channelHeader: ChannelHeader;
  readonly data: Uint8Array;
}

function parseEnvelope(env: Envelope, io: DeliverIO, deps: DeliverDeps): Parsed {
  const { payload, channelHeader } = channelHeaderOf(env);
  signatureHeaderOf(payload);
  const ts = channelHeader.timestamp;
  if (!ts) throw new GrapevineError('BAD_TIMESTAMP', 'channel header in envelope must contain timestamp');
  const envMs = Number(ts.seconds) * 1000 + ts.nanos / 1e6;
  const now = deps.now();
  if (Math.abs(now - envMs) > deps.timeWindowMs) {
    throw new GrapevineError(
      'BAD_TIMESTAMP',
      `envelope timestamp ${new Date(envMs).toISOString()} is more than ${deps.timeWindowMs} ms apart from current server time ${new Date(now).toISOString()}`,
    );
  }
  if (deps.mutualTls) {
    const claimed = channelHeader.tlsCertHash;
    if (claimed.length === 0) throw new GrapevineError('BINDING', "client didn't include its TLS cert hash");
    const actual = io.clientCertHash;
    if (!actual || actual.length === 0)
      throw new GrapevineError('BINDING', "client didn't send a TLS certificate");
    if (!Buffer.from(actual).equals(claimed))
      throw new GrapevineError('BINDING', 'claimed TLS cert hash differs from the actual TLS cert hash');
  }
  return { channelHeader, data: payload.data };
}

/** Fabric's SessionAccessControl: expiry every time, the Readers policy on first use and on config change. */
class SessionAccessControl {
  private lastSequence = 0n;
  private used = false;

  constructor(
    private readonly chain: DeliverSource,
    private readonly signed: SignedData,
    private readonly sessionEnd: Date | undefined,
    private readonly now: () => number,
  ) {}

  evaluate(): string | undefined {
    const now = this.now();
    if (this.sessionEnd && now > this.sessionEnd.getTime()) {
      return `deliver client identity expired ${now - this.sessionEnd.getTime()} ms before`;
    }
    let needed = !this.used;
    const seq = this.chain.sequence;
    if (seq > this.lastSequence) {
      this.lastSequence = seq;
      needed = true;
    }
    if (!needed) return undefined;
    this.used = true;
    const { policies, path } = this.chain.readers();
    try {
      policies.evaluate(path, [this.signed], new Date(now));
      return undefined;
    } catch (e) {
      return errorMessage(e);
    }
  }
}

interface Cursor {
  number: bigint;
  readonly notFound: boolean;
}

function iterator(chain: DeliverSource, start: SeekPosition): Cursor {
  const t = start.Type;
  const height = chain.height();
  switch (t.case) {
    case 'oldest':
      return { number: 0n, notFound: false };
    case 'newest':
      return { number: height - 1n, notFound: false };
    case 'specified':
      return t.value.number > height
        ? { number: 0n, notFound: true }
        : { number: t.value.number, notFound: false };
    default:
      return { number: 0n, notFound: true };
  }
}

async function deliverBlocks(io: DeliverIO, env: Envelope, deps: DeliverDeps): Promise<Status> {
  let parsed: Parsed;
  try {
    parsed = parseEnvelope(env, io, deps);
  } catch {
    return Status.BAD_REQUEST;
  }
  const chain = deps.source(parsed.channelHeader.channelId);
  if (!chain) return Status.NOT_FOUND;
  const m = deps.metrics;
  const labels = { channel: chain.channelId, filtered: DELIVER_FILTERED, data_type: DELIVER_DATA_TYPE };
  m?.deliverRequestsReceived.inc(labels);
  let status: Status | undefined;
  try {
    status = await serveSeek(io, env, parsed, chain, deps, labels);
    return status;
  } finally {
    m?.deliverRequestsCompleted.inc({ ...labels, success: String(status === Status.SUCCESS) });
  }
}

async function serveSeek(
  io: DeliverIO,
  env: Envelope,
  parsed: Parsed,
  chain: DeliverSource,
  deps: DeliverDeps,
  labels: Record<string, string>,
): Promise<Status> {
  let seek: SeekInfo;
  try {
    seek = decode(SeekInfoSchema, parsed.data, 'orderer.SeekInfo');
  } catch {
    return Status.BAD_REQUEST;
  }
  const strict = seek.errorResponse !== SeekInfo_SeekErrorResponse.BEST_EFFORT;
  if (strict && chain.errored) return Status.SERVICE_UNAVAILABLE;
  let signed: SignedData;
  try {
    signed = envelopeAsSignedData(env);
  } catch {
    return Status.BAD_REQUEST;
  }
  const ac = new SessionAccessControl(
    chain,
    signed,
    deps.noExpirationChecks ? undefined : expiresAt(signed.identity),
    deps.now,
  );
  if (ac.evaluate() !== undefined) return Status.FORBIDDEN;
  io.authorized?.();
  if (!seek.start || !seek.stop) return Status.BAD_REQUEST;

  const cursor = iterator(chain, seek.start);
  let stopNum = 0n;
  const stop = seek.stop.Type;
  if (stop.case === 'oldest') stopNum = cursor.number;
  else if (stop.case === 'newest') {
    stopNum = equals(SeekPositionSchema, seek.start, seek.stop) ? cursor.number : chain.height() - 1n;
  } else if (stop.case === 'specified') {
    stopNum = stop.value.number;
    if (stopNum < cursor.number) return Status.BAD_REQUEST;
  }

  for (;;) {
    if (seek.behavior === SeekInfo_SeekBehavior.FAIL_IF_NOT_READY && cursor.number > chain.height() - 1n) {
      return Status.NOT_FOUND;
    }
    if (cursor.notFound) return Status.NOT_FOUND;
    const n = cursor.number;
    await chain.waitForHeight(n + 1n, io.signal);
    if (io.signal.aborted)
      throw new DeliverStreamError('CANCELLED', 'context finished before block retrieved');
    if (chain.height() <= n) {
      // woken by a halt or a stop: Fabric's errored channel
      return Status.SERVICE_UNAVAILABLE;
    }
    const block = await chain.getBlockBytes(n);
    if (!block) return Status.SERVICE_UNAVAILABLE;
    cursor.number = n + 1n;
    if (ac.evaluate() !== undefined) return Status.FORBIDDEN;
    try {
      await io.sendBlock(block);
    } catch (e) {
      throw new DeliverStreamError('SEND', `error sending block ${n}: ${errorMessage(e)}`, { cause: e });
    }
    deps.metrics?.deliverBlocksSent.inc(labels);
    if (n === stopNum) return Status.SUCCESS;
  }
}
