/** Test helpers that rewrite the signature of a DER certificate (to make odd encodings). */
import { TAG, children, content, encodeTlv, parseSingle, raw } from '../../src/identity/asn1.js';
import { parseEcdsaSignature, encodeEcdsaSignature } from '../../src/identity/index.js';

const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function parts(der: Uint8Array) {
  const [tbs, alg, sig] = children(parseSingle(der, TAG.SEQUENCE, 'cert'));
  return { tbs: raw(tbs), alg: raw(alg), sig: content(sig).subarray(1) };
}

function assemble(tbs: Uint8Array, alg: Uint8Array, sig: Uint8Array): Uint8Array {
  return encodeTlv(
    TAG.SEQUENCE,
    Buffer.concat([tbs, alg, encodeTlv(TAG.BIT_STRING, Buffer.concat([Buffer.of(0), sig]))]),
  );
}

/** Rebuild with a signature made from the DER INTEGER encodings of r and s. */
export function rebuildWithSignature(
  der: Uint8Array,
  make: (rTlv: Buffer, sTlv: Buffer) => Uint8Array,
): Uint8Array {
  const p = parts(der);
  const [r, s] = children(parseSingle(p.sig, TAG.SEQUENCE, 'sig'));
  return assemble(p.tbs, p.alg, make(Buffer.from(raw(r)), Buffer.from(raw(s))));
}

/** The same certificate with s replaced by n − s (still a valid signature). */
export function flipS(der: Uint8Array): Uint8Array {
  const p = parts(der);
  const { r, s } = parseEcdsaSignature(p.sig);
  return assemble(p.tbs, p.alg, encodeEcdsaSignature(r, P256_N - s));
}

export { P256_N };
