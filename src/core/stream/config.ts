/**
 * Block streams between Grapevine peers (`grapevine.streams.*`): a slice of the config table
 * (src/config/table.ts gives each key's default, check and meaning).
 */
import { fields, resolveSlice, slice, sliceDefaults, type SliceConfig } from '../../config/slice.js';

export const STREAM_SLICE = slice(
  'stream config',
  fields(
    'grapevine.streams.enabled',
    'grapevine.streams.fanout',
    'grapevine.streams.lagBlocks',
    'grapevine.streams.stallTimeout',
    'grapevine.streams.suspectTimeout',
    'grapevine.streams.checkInterval',
    'grapevine.streams.rebalanceAfter',
    'grapevine.streams.receiveWindow',
  ),
  {},
);

export type StreamConfig = SliceConfig<typeof STREAM_SLICE>;

export const STREAM_DEFAULTS: StreamConfig = Object.freeze(sliceDefaults(STREAM_SLICE));

/** Fabric's behaviour: no streams. */
export const STREAMS_OFF: StreamConfig = Object.freeze({ ...STREAM_DEFAULTS, enabled: false });

/** Defaults overridden by `input`. Throws ConfigError naming the key. */
export function streamConfig(input: Partial<StreamConfig> = {}): StreamConfig {
  return Object.freeze(resolveSlice(STREAM_SLICE, input));
}
