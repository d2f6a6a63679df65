/**
 * Broadcast message processing (Fabric orderer/common/broadcast + msgprocessor @v2.4.9, standard
 * channel, no system channel). For one envelope:
 *   1. payload + header + channel header decode, else BAD_REQUEST "could not determine channel ID";
 *   2. unknown channel -> BAD_REQUEST (channel creation needs a system channel, which we do not have);
 *   3. CONFIG / ORDERER_TRANSACTION -> BAD_REQUEST "cannot be processed directly";
 *      CONFIG_UPDATE -> BAD_REQUEST (config updates are not implemented by this orderer);
 *   4. normal message: maintenance mode -> SERVICE_UNAVAILABLE; then the filters in Fabric's order:
 *      empty payload -> BAD_REQUEST; len(payload)+len(signature) > AbsoluteMaxBytes -> BAD_REQUEST;
 *      creator certificate expired -> BAD_REQUEST; signature set fails /Channel/Writers
 *      (/Channel/Orderer/Writers in maintenance) -> FORBIDDEN;
 *   5. chain not ready (halted, stopping) -> SERVICE_UNAVAILABLE; else order it -> SUCCESS.
 * Fabric checks no timestamp on Broadcast, and answers an oversized message BAD_REQUEST (never
 * REQUEST_ENTITY_TOO_LARGE); we do the same.
 */
import { errorMessage } from '../errors.js';
import { HeaderType, Status, type Envelope } from '../wire/gen/common/common_pb.js';
import { encode } from '../wire/codec.js';
import { EnvelopeSchema } from '../wire/gen/common/common_pb.js';
import type { Chain } from './chain.js';
import { channelHeaderOf, envelopeAsSignedData, expiresAt } from './envelope.js';

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
  let channelHeader;
  try {
    channelHeader = channelHeaderOf(env).channelHeader;
  } catch (e) {
    return fail(Status.BAD_REQUEST, `could not determine channel ID: ${errorMessage(e)}`);
  }
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
      return fail(
        Status.BAD_REQUEST,
        `config update for channel ${channelHeader.channelId}: config updates are not supported by this orderer`,
      );
    default:
  }
  const cfg = chain.config;
  const maintenance = cfg.consensusType.state === 'MAINTENANCE';
  if (maintenance)
    return fail(Status.SERVICE_UNAVAILABLE, 'normal transactions are rejected: maintenance mode');

  const filtered = applyFilters(env, chain, deps, maintenance);
  if (filtered) return filtered;

  try {
    await chain.waitReady();
    const raw = bytes ?? encode(EnvelopeSchema, env);
    chain.order({ bytes: raw, size: env.payload.length + env.signature.length });
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
