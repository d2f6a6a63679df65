/**
 * The channels a peer daemon serves, and their ledgers:
 *   1. config blocks given to join (`--join <block>` or `grapevine.channels`): read, decoded,
 *      checked to be a config block number 0 and parsed (a problem names the file);
 *   2. channels the ledger folder already holds (one BlockStore per channel under
 *      grapevine.ledgerPath): their latest config block is found through the last block's
 *      last-config index.
 * openChannelLedgers opens (or creates) each channel's BlockStore, appends the genesis block to
 * an empty one, and returns the config block to initialise the channel with. A join block for
 * a channel the ledger already holds is not appended again.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseChannelConfig } from '../channelconfig/index.js';
import type { ChannelConfig } from '../channelconfig/types.js';
import { ConfigError, errorMessage } from '../base/errors.js';
import { BlockStore, RecoverableLedger } from '../ledger/index.js';
import { blockLastConfigIndex, decodeBlock, isConfigBlock } from '../wire/block.js';

export interface JoinBlock {
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly config: ChannelConfig;
}

export interface OpenChannel {
  readonly channelId: string;
  /** The channel's BlockStore, reopened in place after a failure (disk full) by the commit loop. */
  readonly ledger: RecoverableLedger;
  /** The channel's latest config block (bytes as stored). */
  readonly configBlock: Uint8Array;
  readonly config: ChannelConfig;
  /** Where the channel came from. */
  readonly origin: 'join' | 'ledger';
}

/** Read and check a join block; ConfigError naming the file. */
export function readJoinBlock(file: string, key = '--join'): JoinBlock {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new ConfigError(
      'BAD_JOIN_BLOCK',
      `${key}: cannot read the channel config block ${file}: ${errorMessage(e)}`,
      { cause: e },
    );
  }
  let config: ChannelConfig;
  try {
    const block = decodeBlock(bytes);
    if (!isConfigBlock(block)) throw new Error('it is not a config block');
    if (block.header?.number !== 0n)
      throw new Error(
        `it is block ${block.header?.number ?? '?'}; join with the channel's genesis block (block 0)`,
      );
    config = parseChannelConfig(block);
  } catch (e) {
    throw new ConfigError(
      'BAD_JOIN_BLOCK',
      `${key}: ${file} cannot be used to join a channel: ${errorMessage(e)}`,
      { cause: e },
    );
  }
  return { file, bytes, config };
}

/** Channel folders already under the ledger path (each a BlockStore). */
export function ledgerChannels(ledgerPath: string): string[] {
  if (!existsSync(ledgerPath)) return [];
  return readdirSync(ledgerPath)
    .filter((n) => !n.startsWith('.') && statSync(join(ledgerPath, n)).isDirectory())
    .sort();
}

async function latestConfig(
  ledger: BlockStore,
  channelId: string,
  dir: string,
): Promise<{ bytes: Uint8Array; config: ChannelConfig }> {
  const h = ledger.height();
  const last = await ledger.getBlock(h - 1n);
  const idx = (last && blockLastConfigIndex(last.block)) ?? 0n;
  const bytes = await ledger.getBlockBytes(idx);
  if (!bytes)
    throw new ConfigError(
      'BAD_LEDGER',
      `ledger ${dir}: config block ${idx} of channel ${channelId} is missing`,
    );
  try {
    const config = parseChannelConfig(decodeBlock(bytes));
    if (config.channelId !== channelId) throw new Error(`it belongs to channel ${config.channelId}`);
    return { bytes, config };
  } catch (e) {
    throw new ConfigError(
      'BAD_LEDGER',
      `ledger ${dir}: config block ${idx} cannot be used: ${errorMessage(e)}`,
      { cause: e },
    );
  }
}

/**
 * Open every channel's ledger (joins first, then the ones the ledger path holds). On a failure
 * the ledgers already opened are closed before the error is thrown.
 */
export async function openChannelLedgers(
  ledgerPath: string,
  joins: readonly JoinBlock[],
): Promise<OpenChannel[]> {
  const out: OpenChannel[] = [];
  const byId = new Map<string, JoinBlock>();
  for (const j of joins) {
    const prev = byId.get(j.config.channelId);
    if (prev && prev.file !== j.file)
      throw new ConfigError(
        'BAD_JOIN_BLOCK',
        `${j.file} and ${prev.file} are both blocks of channel ${j.config.channelId}; give one`,
      );
    byId.set(j.config.channelId, j);
  }
  const ids = [...new Set([...byId.keys(), ...ledgerChannels(ledgerPath)])];
  try {
    for (const channelId of ids) {
      const dir = join(ledgerPath, channelId);
      let ledger: BlockStore;
      try {
        ledger = await BlockStore.open(dir);
      } catch (e) {
        throw new ConfigError(
          'BAD_LEDGER',
          `grapevine.ledgerPath: cannot open the ledger of channel ${channelId} at ${dir}: ${errorMessage(e)}`,
          { cause: e },
        );
      }
      try {
        const j = byId.get(channelId);
        if (ledger.height() === 0n) {
          if (!j) {
            await ledger.close();
            continue; // an empty folder left behind: nothing to serve
          }
          await ledger.append(j.bytes);
          out.push({
            channelId,
            ledger: new RecoverableLedger(ledger, dir),
            configBlock: j.bytes,
            config: j.config,
            origin: 'join',
          });
          continue;
        }
        const { bytes, config } = await latestConfig(ledger, channelId, dir);
        out.push({
          channelId,
          ledger: new RecoverableLedger(ledger, dir),
          configBlock: bytes,
          config,
          origin: j ? 'join' : 'ledger',
        });
      } catch (e) {
        await ledger.close().catch(() => undefined);
        throw e;
      }
    }
  } catch (e) {
    for (const c of out) await c.ledger.close().catch(() => undefined);
    throw e;
  }
  return out;
}
