/**
 * A transaction's id (channel header tx_id) for the block index, read without the generic
 * decoder when the envelope has the canonical shape:
 *   Envelope, Payload, Header, SignatureHeader = [0x0a len A] [0x12 len B] (bytesFields12);
 *   ChannelHeader as wire/headers.ts's fast path reads it.
 * Then the generic decoder (decodeTx) accepts the envelope and gives the same tx_id. Any other
 * shape is undefined: the caller decodes it with decodeTx.
 */
import { bytesFields12, scanChannelHeader } from '../wire/headers.js';

export function fastTxId(envelope: Uint8Array): string | undefined {
  const env = bytesFields12(envelope);
  const pay = env && bytesFields12(env[0]);
  const hdr = pay && bytesFields12(pay[0]);
  if (!hdr || !bytesFields12(hdr[1])) return undefined;
  return scanChannelHeader(hdr[0])?.txId;
}
