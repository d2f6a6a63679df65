/**
 * Broadcast message processing (Fabric orderer/common/broadcast + msgprocessor @v2.4.9, standard
 * channel, no system channel). For one envelope:
 *   1. payload + header + channel header decode, else BAD_REQUEST "could not determine channel ID";
 *   2. unknown channel -> BAD_REQUEST (channel creation needs a system channel, which we do not have);
 *   3. CONFIG / ORDERER_TRANSACTION -> BAD_REQUEST "cannot be processed directly";
 *   4. CONFIG_UPDATE (Fabric's StandardChannel.ProcessConfigUpdateMsg): the filters below on the
 *      update envelope ("did not pass initial checks"); proposeConfigUpdate (configupdate.ts;
 *      any refusal BAD_REQUEST); the result wrapped in a CONFIG envelope signed by the orderer
 *      and the filters again on it ("did not pass final checks", e.g. too large); then wait for
 *      the chain, re-validating if another config landed meanwhile, and configure() -> SUCCESS;
 *   5. normal message: maintenance mode -> SERVICE_UNAVAILABLE; then the filters in Fabric's order:
 *      empty payload -> BAD_REQUEST; len(payload)+len(signature) > AbsoluteMaxBytes -> BAD_REQUEST;
 *      creator certificate expired -> BAD_REQUEST; signature set fails /Channel/Writers
 *      (/Channel/Orderer/Writers in maintenance) -> FORBIDDEN;
 *   6. an envelope that is not well formed as a peer's block verification requires (unknown
 *      fields, trailing bytes: identity/mcs.ts envelopeMalformation) -> BAD_REQUEST; this is not in
 *      Fabric v2.4.9's orderer, whose blocks could then hold a transaction that v2.5 peers refuse;
 *   7. chain not ready (halted, stopping) -> SERVICE_UNAVAILABLE; else order it -> SUCCESS.
 * Fabric checks no timestamp on Broadcast, and answers an oversized message BAD_REQUEST (never
 * REQUEST_ENTITY_TOO_LARGE); we do the same. With `metrics`, every envelope is recorded as
 * Fabric's MetricsTracker does (validate time, enqueue time once enqueueing began, count).
 */
import { errorMessage } from '../base/errors.js';
import { HeaderType, Status, type Envelope } from '../wire/gen/common/common_pb.js';
import { encode } from '../wire/codec.js';
import { EnvelopeSchema } from '../wire/gen/common/common_pb.js';
import type { Chain } from './chain.js';
import { proposeConfigUpdate } from './configupdate.js';
import { channelHeaderOf, envelopeAsSignedData, expiresAt } from '../identity/envelope.js';
import type { OrdererMetrics } from './metrics.js';
import { envelopeMalformation } from '../identity/mcs.js';

export const CHANNEL_WRITERS = '/Channel/Writers';
export const CHANNEL_ORDERER_WRITERS = '/Channel/Orderer/Writers';

export interface BroadcastResult {
  readonly status: Status;
  readonly info: string;
}

export interface BroadcastDeps {
  chain(channelId: string): Chain | undefined;
  /** Milliseconds since the epoch (certificate expiry, policy evaluation). */
  now(): number;
  /** General.Authentication.NoExpirationChecks. Default false. */
  readonly noExpirationChecks?: boolean;
  readonly metrics?: OrdererMetrics;
}

/** Fabric's MetricsTracker for one envelope (times from performance.now()). */
interface Tracker {
  channel: string;
  type: string;
  readonly validateStart: number;
  validateEnd?: number;
  enqueueStart?: number;
}

const ok: BroadcastResult = { status: Status.SUCCESS, info: '' };
const fail = (status: Status, info: string): BroadcastResult => ({ status, info });

/**
 * Validate and order one envelope. `bytes` is the envelope exactly as received (it goes into the
 * block as is); `env` its decoding.
 */
export async function processBroadcast(
  env: Envelope,
  bytes: Uint8Array | undefined,
  deps: BroadcastDeps,
): Promise<BroadcastResult> {
  const t: Tracker = { channel: 'unknown', type: 'unknown', validateStart: performance.now() };
  const res = await processOne(env, bytes, deps, t);
  const m = deps.metrics;
  if (m) {
    const labels = { channel: t.channel, type: t.type, status: Status[res.status] ?? String(res.status) };
    const end = performance.now();
    m.broadcastValidateDuration.observe(labels, ((t.validateEnd ?? end) - t.validateStart) / 1000);
    if (t.enqueueStart !== undefined)
      m.broadcastEnqueueDuration.observe(labels, (end - t.enqueueStart) / 1000);
    m.broadcastProcessedCount.inc(labels);
  }
  return res;
}

async function processOne(
  env: Envelope,
  bytes: Uint8Array | undefined,
  deps: BroadcastDeps,
  t: Tracker,
): Promise<BroadcastResult> {
  let channelHeader;
  try {
    channelHeader = channelHeaderOf(env).channelHeader;
  } catch (e) {
    return fail(Status.BAD_REQUEST, `could not determine channel ID: ${errorMessage(e)}`);
  }
  t.channel = channelHeader.channelId;
  t.type = HeaderType[channelHeader.type] ?? String(channelHeader.type);
  const chain = deps.chain(channelHeader.channelId);
  if (!chain) {
    return fail(
      Status.BAD_REQUEST,
      'channel creation request not allowed because the orderer system channel is not defined',
    );
  }
  switch (channelHeader.type) {
    case HeaderType.CONFIG:
    case HeaderType.ORDERER_TRANSACTION:
      return fail(Status.BAD_REQUEST, 'message is of type that cannot be processed directly');
    case HeaderType.CONFIG_UPDATE:
      return processConfigUpdate(env, chain, deps, t);
    default:
  }
  const cfg = chain.config;
  const maintenance = cfg.consensusType.state === 'MAINTENANCE';
  if (maintenance)
    return fail(Status.SERVICE_UNAVAILABLE, 'normal transactions are rejected: maintenance mode');

  const filtered = applyFilters(env, chain, deps, maintenance);
  if (filtered) return filtered;
  // not in Fabric v2.4.9's orderer: an envelope with unknown fields or trailing bytes passes its
  // filters (the signature covers the payload only), and a block holding it is refused by every
  // peer that checks well-formedness (Fabric v2.5's, ours): the channel would stop there
  const malformed = bytes && envelopeMalformation(bytes);
  if (malformed) return fail(Status.BAD_REQUEST, `transaction is not well formed: ${malformed}`);
  t.validateEnd = performance.now();

  try {
    t.enqueueStart = performance.now();
    await chain.waitReady();
    const raw = bytes ?? encode(EnvelopeSchema, env);
    chain.order({ bytes: raw, size: env.payload.length + env.signature.length });
  } catch (e) {
    return fail(Status.SERVICE_UNAVAILABLE, errorMessage(e));
  }
  return ok;
}

/** A validated config update: the signed CONFIG envelope's bytes and the new config. */
type Proposal = { readonly bytes: Uint8Array; readonly next: Chain['config'] } | BroadcastResult;

function proposeAndWrap(env: Envelope, chain: Chain, deps: BroadcastDeps): Proposal {
  const maintenance = chain.config.consensusType.state === 'MAINTENANCE';
  const initial = applyFilters(env, chain, deps, maintenance);
  if (initial) {
    return fail(
      initial.status,
      `config update for existing channel did not pass initial checks: ${initial.info}`,
    );
  }
  let proposed;
  try {
    proposed = proposeConfigUpdate(chain.config, env, {
      now: new Date(deps.now()),
      parse: (_id, config) => chain.parseProposed(config),
    });
  } catch (e) {
    return fail(Status.BAD_REQUEST, errorMessage(e));
  }
  const wrapped = chain.wrapConfig(proposed.configEnvelope);
  const final = applyFilters(wrapped, chain, deps, maintenance);
  if (final) {
    return fail(final.status, `config update for existing channel did not pass final checks: ${final.info}`);
  }
  return { bytes: encode(EnvelopeSchema, wrapped), next: proposed.config };
}

async function processConfigUpdate(
  env: Envelope,
  chain: Chain,
  deps: BroadcastDeps,
  t: Tracker,
): Promise<BroadcastResult> {
  let p = proposeAndWrap(env, chain, deps);
  if ('status' in p) return p;
  t.validateEnd = performance.now();
  t.enqueueStart = performance.now();
  try {
    await chain.waitReady();
    // another config update may have been ordered while we waited: validate against the new one
    if (p.next.sequence !== chain.sequence + 1n) {
      p = proposeAndWrap(env, chain, deps);
      if ('status' in p) return p;
    }
    chain.configure(p.bytes, p.next);
  } catch (e) {
    return fail(Status.SERVICE_UNAVAILABLE, errorMessage(e));
  }
  return ok;
}

/** EmptyRejectRule, MaxBytesRule, ExpirationRejectRule, SigFilter(Writers). */
function applyFilters(
  env: Envelope,
  chain: Chain,
  deps: BroadcastDeps,
  maintenance: boolean,
): BroadcastResult | undefined {
  if (env.payload.length === 0) return fail(Status.BAD_REQUEST, 'Message was empty');
  const maxBytes = chain.config.batchSize.absoluteMaxBytes;
  const size = env.payload.length + env.signature.length;
  if (size > maxBytes) {
    return fail(
      Status.BAD_REQUEST,
      `message payload is ${size} bytes and exceeds maximum allowed ${maxBytes} bytes`,
    );
  }
  let signed;
  try {
    signed = envelopeAsSignedData(env);
  } catch (e) {
    return fail(Status.BAD_REQUEST, `could not convert message to signedData: ${errorMessage(e)}`);
  }
  if (!deps.noExpirationChecks) {
    const expiry = expiresAt(signed.identity);
    if (expiry && deps.now() >= expiry.getTime())
      return fail(Status.BAD_REQUEST, 'broadcast client identity expired');
  }
  const policy = maintenance ? CHANNEL_ORDERER_WRITERS : CHANNEL_WRITERS;
  try {
    chain.config.policies.evaluate(policy, [signed], new Date(deps.now()));
  } catch (e) {
    return fail(Status.FORBIDDEN, `permission denied: ${errorMessage(e)}`);
  }
  return undefined;
}
