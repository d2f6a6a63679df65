/**
 * The orderer's Deliver handler (Fabric common/deliver/deliver.go, acl.go, binding.go @v2.4.9).
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
import { GrapevineError, errorMessage } from '../base/errors.js';
import type { SignedData } from '../identity/types.js';
import { decode } from '../wire/codec.js';
import { EnvelopeSchema, Status, type ChannelHeader, type Envelope } from '../wire/gen/common/common_pb.js';
import {
  SeekInfoSchema,
  SeekInfo_SeekBehavior,
  SeekInfo_SeekErrorResponse,
  SeekPositionSchema,
  type SeekInfo,
  type SeekPosition,
} from '../wire/gen/orderer/ab_pb.js';
import type { Chain } from './chain.js';
import { channelHeaderOf, envelopeAsSignedData, expiresAt, signatureHeaderOf } from './envelope.js';
import { DELIVER_DATA_TYPE, DELIVER_FILTERED, type OrdererMetrics } from './metrics.js';

export const CHANNEL_READERS = '/Channel/Readers';
export const CHANNEL_ORDERER_READERS = '/Channel/Orderer/Readers';

/** The stream as the handler sees it (the gRPC call, or a test double). */
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
}

export interface DeliverDeps {
  chain(channelId: string): Chain | undefined;
  now(): number;
  /** General.Authentication.TimeWindow in ms (Fabric 15 min); Infinity disables the check. */
  readonly timeWindowMs: number;
  /** Mutual TLS on: tls_cert_hash binding is mandatory. */
  readonly mutualTls: boolean;
  readonly noExpirationChecks?: boolean;
  readonly metrics?: OrdererMetrics;
}

/** The stream ends with a gRPC error instead of a status (cancelled call, failed send, bad bytes). */
export class DeliverStreamError extends GrapevineError {}

/** Serve one Deliver stream until the client hangs up or a non-SUCCESS status was sent. */
export async function handleDeliver(io: DeliverIO, deps: DeliverDeps): Promise<void> {
  deps.metrics?.deliverStreamsOpened.inc();
  try {
    await serveStream(io, deps);
  } finally {
    deps.metrics?.deliverStreamsClosed.inc();
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
    private readonly chain: Chain,
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
    const cfg = this.chain.config;
    const policy = cfg.consensusType.state === 'MAINTENANCE' ? CHANNEL_ORDERER_READERS : CHANNEL_READERS;
    try {
      cfg.policies.evaluate(policy, [this.signed], new Date(now));
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

function iterator(chain: Chain, start: SeekPosition): Cursor {
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
  const chain = deps.chain(parsed.channelHeader.channelId);
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
  chain: Chain,
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
