/**
 * Grapevine's stream marker: the Member.metadata of a Grapevine peer's alive messages while block
 * streams are on. Fabric v2.4.9 peers leave that field empty and never read it (PROTOCOL.md §4.1),
 * so they carry it unchanged; Grapevine peers learn from it which members stream, which of them
 * pull a channel from the orderer, and how far each is in each channel.
 *
 *   bytes: "GV" 0x02, then per channel the peer streams: a 4-byte channel tag (the first four bytes
 *   of SHA-256(channel name), so the alive message, which other orgs may see, names no channel), a
 *   role byte (0 none, 1 acting source, 2 leader) and the ledger height (8 bytes, big-endian).
 *   Anything else (empty, Fabric's) is "not a streaming peer".
 * The heights ride on the alive messages discovery sends anyway (every aliveTimeInterval), so the
 * stream tree needs no StateInfo at Fabric's rate: StateInfo is O(N^2) channel traffic.
 * A role change is announced at once (a fresh alive message); a height change waits for the next.
 */
import { sha256 } from '../../wire/block.js';
import { byCodeUnits } from '../../base/order.js';

export type SourceRole = 'source' | 'leader';

export interface ChannelMark {
  readonly role: SourceRole | undefined;
  readonly height: bigint;
}

const MAGIC = [0x47, 0x56, 0x02];
const ENTRY = 13;
const ROLE_BYTE: Record<SourceRole, number> = { source: 1, leader: 2 };

/** Per channel tag: the peer's role and height there. */
export type StreamMarker = ReadonlyMap<number, ChannelMark>;

const tags = new Map<string, number>();
const MAX_TAGS = 4096;

/** The 4-byte tag of a channel name, as a number (kept: the marker is rebuilt on every commit). */
export function channelTag(channel: string): number {
  let tag = tags.get(channel);
  if (tag !== undefined) return tag;
  const h = sha256(new TextEncoder().encode(channel));
  tag = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
  if (tags.size >= MAX_TAGS) tags.clear();
  tags.set(channel, tag);
  return tag;
}

export function encodeStreamMarker(channels: ReadonlyMap<string, ChannelMark>): Uint8Array {
  const out = new Uint8Array(MAGIC.length + ENTRY * channels.size);
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  let i = MAGIC.length;
  for (const [channel, mark] of [...channels].sort(([a], [b]) => byCodeUnits(a, b))) {
    view.setUint32(i, channelTag(channel));
    out[i + 4] = mark.role ? ROLE_BYTE[mark.role] : 0;
    view.setBigUint64(i + 5, mark.height);
    i += ENTRY;
  }
  return out;
}

/** undefined: not a streaming Grapevine peer (Fabric's empty metadata, or bytes we do not know). */
export function decodeStreamMarker(metadata: Uint8Array): StreamMarker | undefined {
  if (metadata.length < MAGIC.length || (metadata.length - MAGIC.length) % ENTRY !== 0) return undefined;
  for (let i = 0; i < MAGIC.length; i++) if (metadata[i] !== MAGIC[i]) return undefined;
  const view = new DataView(metadata.buffer, metadata.byteOffset, metadata.byteLength);
  const out = new Map<number, ChannelMark>();
  for (let i = MAGIC.length; i < metadata.length; i += ENTRY) {
    const b = metadata[i + 4];
    const role = b === 2 ? 'leader' : b === 1 ? 'source' : undefined;
    out.set(view.getUint32(i), { role, height: view.getBigUint64(i + 5) });
  }
  return out;
}
