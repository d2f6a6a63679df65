/** Why the state layer dropped something: the label of `grapevine_gossip_state_dropped_total{reason}`. */
import { GrapevineError } from '../../base/errors.js';

export type StateDropReason =
  /** A payload below the ledger height / buffer's next (already committed). */
  | 'below_height'
  /** A payload already in the buffer. */
  | 'duplicate'
  /** A gossiped payload blockBufferSize or more ahead of the height (left to pull / anti-entropy). */
  | 'too_far_ahead'
  /** A block that does not decode, or fails VerifyBlock. */
  | 'bad_block'
  /** The ledger refused a popped block (wrong number or hash chain); the height is refetched. */
  | 'ledger_rejected'
  /** A state message for another channel, or from a connection whose identity may not read the channel. */
  | 'unauthorized'
  /** A state request with start > end or a span above batchSize. */
  | 'bad_request'
  /** The request queue (channelSize) was full. */
  | 'queue_full'
  /** A response while no transfer was in progress, or with a nonce we are not waiting for. */
  | 'unsolicited'
  /** A response carrying a block that was not asked for: the whole response is dropped. */
  | 'not_requested'
  /** A response without payloads. */
  | 'empty_response'
  /** A response from a peer that is not a member of the channel (PeersOfChannel). */
  | 'not_in_channel'
  /** A malformed fast catch-up stream message or request. */
  | 'malformed';

export class StateError extends GrapevineError {
  declare readonly code: StateDropReason | 'STOPPED' | 'UNSUPPORTED' | 'CATCHUP_FAILED';
  constructor(code: StateError['code'], message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
