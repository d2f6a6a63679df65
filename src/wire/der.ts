/** Minimal DER encoding: what Fabric's block header hash needs (SEQUENCE, INTEGER, OCTET STRING), and the length/TLV encoders identity re-uses. */

/** A DER length: short form below 0x80, else 0x80|count followed by the big-endian bytes. */
export function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** tag, DER length, content. */
export function encodeTlv(tag: number, content: Uint8Array): Uint8Array {
  const len = encodeLength(content.length);
  const out = new Uint8Array(1 + len.length + content.length);
  out[0] = tag;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}

/** A non-negative INTEGER, minimal two's complement as Go's asn1 writes a *big.Int. */
export function derUnsignedInteger(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError('derUnsignedInteger: negative value');
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  if (bytes[0] & 0x80) bytes.unshift(0);
  return encodeTlv(0x02, Uint8Array.from(bytes));
}

export function derOctetString(bytes: Uint8Array): Uint8Array {
  return encodeTlv(0x04, bytes);
}

export function derSequence(...items: Uint8Array[]): Uint8Array {
  return encodeTlv(0x30, Buffer.concat(items));
}
