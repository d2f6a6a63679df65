/**
 * What the service needs from a channel config (PROTOCOL.md §8.4, §10.2), in one small shape so
 * the real world (a parsed config block) and the simulation (given directly) feed the same code:
 *   join: sequence, Application orgs (MSP IDs, anchor peers) and the channel's crypto context;
 *   orderer: the global OrdererAddresses and, per orderer org, its Endpoints and TLS CAs.
 * Also: a cheap test whether committed block bytes are a CONFIG block, and a channel crypto
 * registry (the MessageCryptoService's ChannelProvider that GossipNode.joinChannel fills).
 */
import { parseChannelConfig } from '../channelconfig/index.js';
import type { ChannelConfig } from '../channelconfig/types.js';
import { joinInfoFromConfig, type JoinInfo } from '../core/channel/join.js';
import { ordererOrgsOf, type OrdererOrgEndpoints } from '../core/deliver/endpoints.js';
import { ConfigError, GrapevineError, errorMessage } from '../base/errors.js';
import { decodeBlock, isConfigBlock } from '../wire/block.js';
import type { Block } from '../wire/gen/common/common_pb.js';
import { readersOf } from '../comm/deliver/server.js';
import type { DeliverReaders } from './deliversource.js';

export interface OrdererSetup {
  readonly globalAddresses: readonly string[];
  readonly orgs: ReadonlyMap<string, OrdererOrgEndpoints>;
}

export interface ChannelSetup {
  readonly channelId: string;
  readonly join: JoinInfo;
  readonly orderer: OrdererSetup;
  /** The Readers policy the peer's Deliver server applies (absent: every request is FORBIDDEN). */
  readonly readers?: DeliverReaders;
}

/** Anything initializeChannel accepts as the channel's config. */
export type ChannelConfigInput = Block | Uint8Array | ChannelConfig | ChannelSetup;

/** Turns a committed config block into a setup (default: parseChannelConfig). */
export type ConfigParser = (block: Block) => ChannelSetup;

export function isChannelSetup(x: unknown): x is ChannelSetup {
  const s = x as ChannelSetup;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.channelId === 'string' &&
    typeof s.join === 'object' &&
    typeof s.orderer === 'object'
  );
}

function isChannelConfig(x: unknown): x is ChannelConfig {
  const c = x as ChannelConfig;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.channelId === 'string' &&
    Array.isArray(c.applicationOrgs) &&
    typeof c.cryptoContext === 'function'
  );
}

export function setupFromConfig(cfg: ChannelConfig): ChannelSetup {
  return {
    channelId: cfg.channelId,
    join: joinInfoFromConfig(cfg),
    orderer: { globalAddresses: cfg.ordererAddresses, orgs: ordererOrgsOf(cfg) },
    readers: readersOf(cfg),
  };
}

/** The default parser: a real config block through parseChannelConfig (ConfigError when unusable). */
export const parseSetup: ConfigParser = (block) => {
  try {
    return setupFromConfig(parseChannelConfig(block));
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = e instanceof GrapevineError ? e.code : 'BAD_CONFIG_BLOCK';
    throw new ConfigError(
      code,
      `channel config block ${block.header?.number ?? '?'} cannot be used: ${errorMessage(e)}`,
      { cause: e },
    );
  }
};

/** Normalise initializeChannel's argument. */
export function toSetup(input: ChannelConfigInput, parse: ConfigParser): ChannelSetup {
  if (isChannelSetup(input)) return input;
  if (isChannelConfig(input)) return setupFromConfig(input);
  let block: Block;
  try {
    block = input instanceof Uint8Array ? decodeBlock(input) : input;
  } catch (e) {
    throw new ConfigError('BAD_CONFIG_BLOCK', `channel config block does not decode: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  if (!isConfigBlock(block))
    throw new ConfigError('NOT_CONFIG_BLOCK', `block ${block.header?.number ?? '?'} is not a config block`);
  return parse(block);
}

/**
 * Whether block bytes hold a CONFIG transaction (decoded only when needed): returns the decoded
 * block when it is one, undefined otherwise (and for bytes that do not decode).
 */
export function configBlockOf(bytes: Uint8Array): Block | undefined {
  let block: Block;
  try {
    block = decodeBlock(bytes);
  } catch {
    return undefined;
  }
  return isConfigBlock(block) ? block : undefined;
}
