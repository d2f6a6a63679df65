/**
 * Byte mutations for fast-check properties over decoders: flip a byte, cut the tail, insert a
 * few bytes, applied in order to a copy of the input.
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
