/** Why the gossip node or a channel dropped a message: the label of `grapevine_gossip_dropped_total{reason}`. */
import { GrapevineError } from '../../base/errors.js';

export type GossipDropReason =
  | 'malformed'
  | 'bad_tag'
  | 'unknown_channel'
  | 'not_in_channel'
  | 'org_not_in_channel'
  | 'not_same_org'
  | 'unknown_identity'
  | 'unsigned'
  | 'bad_signature'
  | 'bad_mac'
  | 'stale'
  | 'duplicate'
  | 'bad_block'
  | 'left_channel'
  | 'not_eligible'
  | 'full';

/** A message refused by the gossip node or a channel; `code` is the GossipDropReason. */
export class GossipDropError extends GrapevineError {
  declare readonly code: GossipDropReason;
  constructor(code: GossipDropReason, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export function dropError(code: GossipDropReason, message: string, cause?: unknown): GossipDropError {
  return new GossipDropError(code, message, cause === undefined ? undefined : { cause });
}
