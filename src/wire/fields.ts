/**
 * The one primitive of the wire scanners (blockscan.ts, headers.ts): a length-delimited field's
 * body. The body's start is left in `bodyStart` (module state, read right after the call) so that
 * scanning a block or a header allocates nothing per field.
 */

/** Start of the body read by the last successful lengthDelimited call. */
export let bodyStart = 0;

/**
 * Reads the varint length at `at` (at most 4 bytes); returns the end of the field body (its
 * start left in bodyStart), or -1 when the length is longer or the body does not fit before `limit`.
 */
export function lengthDelimited(b: Uint8Array, at: number, limit = b.length): number {
  let len = 0;
  let shift = 1;
  let o = at;
  for (let i = 0; ; i++) {
    if (i === 4 || o >= limit) return -1;
    const c = b[o++]!;
    len += (c & 0x7f) * shift;
    shift *= 128;
    if (c < 0x80) break;
  }
  if (o + len > limit) return -1;
  bodyStart = o;
  return o + len;
}
