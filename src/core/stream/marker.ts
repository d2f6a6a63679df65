/**
 * Grapevine's stream marker: the Member.metadata of a Grapevine peer's alive messages while block
 * streams are on. Fabric v2.4.9 peers leave that field empty and never read it (PROTOCOL.md §4.1),
 * so they carry it unchanged; Grapevine peers learn from it which members stream and which of them
 * pull a channel from the orderer.
 *
 *   bytes: "GV" 0x01, then per channel pulled from the orderer: a 4-byte channel tag (the first
 *   four bytes of SHA-256(channel name), so the alive message, which other orgs may see, names
 *   no channel) and a role byte (1 acting source, 2 leader).
 *   Anything else (empty, Fabric's) is "not a streaming peer".
 */
import { sha256 } from '../../wire/block.js';

export type SourceRole = 'source' | 'leader';

const MAGIC = [0x47, 0x56, 0x01];
const ROLE_BYTE: Record<SourceRole, number> = { source: 1, leader: 2 };

/** The channel tags of a marker, with the role of the peer for each channel it pulls. */
export type StreamMarker = ReadonlyMap<number, SourceRole>;

/** The 4-byte tag of a channel name, as a number. */
export function channelTag(channel: string): number {
  const h = sha256(new TextEncoder().encode(channel));
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

export function encodeStreamMarker(sources: ReadonlyMap<string, SourceRole>): Uint8Array {
  const out = new Uint8Array(MAGIC.length + 5 * sources.size);
  out.set(MAGIC);
  let i = MAGIC.length;
  for (const [channel, role] of [...sources].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const t = channelTag(channel);
    out[i++] = t >>> 24;
    out[i++] = (t >>> 16) & 0xff;
    out[i++] = (t >>> 8) & 0xff;
    out[i++] = t & 0xff;
    out[i++] = ROLE_BYTE[role];
  }
  return out;
}

/** undefined: not a streaming Grapevine peer (Fabric's empty metadata, or bytes we do not know). */
export function decodeStreamMarker(metadata: Uint8Array): StreamMarker | undefined {
  if (metadata.length < MAGIC.length || (metadata.length - MAGIC.length) % 5 !== 0) return undefined;
  for (let i = 0; i < MAGIC.length; i++) if (metadata[i] !== MAGIC[i]) return undefined;
  const out = new Map<number, SourceRole>();
  for (let i = MAGIC.length; i < metadata.length; i += 5) {
    const tag =
      ((metadata[i]! << 24) | (metadata[i + 1]! << 16) | (metadata[i + 2]! << 8) | metadata[i + 3]!) >>> 0;
    const role = metadata[i + 4] === 2 ? 'leader' : metadata[i + 4] === 1 ? 'source' : undefined;
    if (role) out.set(tag, role);
  }
  return out;
}
