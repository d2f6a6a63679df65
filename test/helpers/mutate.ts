/**
 * Byte mutations for fast-check properties over decoders: flip a byte, cut the tail, insert a
 * few bytes, applied in order to a copy of the input; and hand-built protobuf framing (varint,
 * field) for shapes the canonical writer never produces.
 */
import fc from 'fast-check';

export type ByteMutation =
  | { readonly kind: 'flip'; readonly at: number; readonly value: number }
  | { readonly kind: 'cut'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly extra: Uint8Array };

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), extra: fc.uint8Array({ maxLength: 6 }) }),
);

/** The input with the mutations applied in order (positions taken modulo the current length). */
export function mutate(input: Uint8Array, ms: readonly ByteMutation[]): Uint8Array {
  let bytes = Uint8Array.from(input);
  for (const m of ms) {
    const at = bytes.length === 0 ? 0 : m.at % bytes.length;
    if (m.kind === 'flip' && bytes.length > 0) bytes[at] = m.value;
    else if (m.kind === 'cut') bytes = bytes.subarray(0, at);
    else if (m.kind === 'insert')
      bytes = Uint8Array.from([...bytes.subarray(0, at), ...m.extra, ...bytes.subarray(at)]);
  }
  return bytes;
}

/** A protobuf varint; `pad` > 0 adds that many redundant continuation bytes (non-canonical). */
export function varint(n: number, pad = 0): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  if (pad > 0) {
    out.push(n | 0x80);
    for (let i = 1; i < pad; i++) out.push(0x80);
    out.push(0);
  } else out.push(n);
  return out;
}

/** A length-delimited field: its one-byte tag, the body's length as a varint, the body. */
export function field(tag: number, body: ArrayLike<number>, pad = 0): number[] {
  return [tag, ...varint(body.length, pad), ...Array.from(body)];
}
