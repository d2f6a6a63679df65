/**
 * The loader's view of the config table (src/config/table.ts, where every key, default and check
 * is written) and which unknown keys it reports.
 */
export {
  KEYS,
  KEY_INDEX,
  MAX_DURATION_MS,
  envName,
  tsPath,
  type Kind,
  type KeyDef,
  type ZeroRule,
} from '../../config/table.js';

/** Subtrees whose unknown keys are reported as warnings (Fabric ignores them; often a typo). */
export const WATCHED_PREFIXES = [
  'peer.gossip.',
  'peer.deliveryclient.',
  'peer.keepalive.',
  'peer.tls.',
  'operations.',
];
/** Subtrees known to Fabric but not read by Grapevine: never warned about. */
export const IGNORED_PREFIXES = ['metrics.statsd.', 'peer.tls.serverhostoverride'];
/** Our own subtree: unknown keys are errors. */
export const STRICT_PREFIX = 'grapevine.';
