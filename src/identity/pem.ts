/**
 * PEM as Go's encoding/pem reads and writes it, because identity bytes are compared and hashed
 * exactly (PROTOCOL.md §2.1, §2.2):
 * - encode: "-----BEGIN T-----\n", base64 in 64-character lines each ending "\n", "-----END T-----\n".
 * - decode: skip anything before the first "-----BEGIN "; optional "Key: value" header lines;
 *   body = standard padded base64 (spaces, tabs, CR, LF ignored); the END line must name the
 *   same type and end in only whitespace; `rest` starts after that line's newline. A candidate
 *   block that fails these rules is skipped and the search goes on (as Go does).
 */

export interface PemBlock {
  readonly type: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly der: Uint8Array;
}

const enc = new TextEncoder();
const BEGIN = enc.encode('-----BEGIN ');
const END = enc.encode('\n-----END ');
const DASHES = enc.encode('-----');
const NL = 0x0a;

/** Where `needle` first occurs in `hay` at or after `from` (native search: PEM files are scanned whole). */
function indexOf(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(needle, from);
}

function startsWith(hay: Uint8Array, needle: Uint8Array, at = 0): boolean {
  if (at + needle.length > hay.length) return false;
  for (let j = 0; j < needle.length; j++) if (hay[at + j] !== needle[j]) return false;
  return true;
}

/** Go's getLine: the line without its "\n" (and a "\r" before it), right-trimmed of spaces/tabs. */
function getLine(data: Uint8Array): [Uint8Array, Uint8Array] {
  let i = data.indexOf(NL);
  let j: number;
  if (i < 0) {
    i = data.length;
    j = i;
  } else {
    j = i + 1;
    if (i > 0 && data[i - 1] === 0x0d) i--;
  }
  let e = i;
  while (e > 0 && (data[e - 1] === 0x20 || data[e - 1] === 0x09)) e--;
  return [data.subarray(0, e), data.subarray(j)];
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Go's base64.StdEncoding.Decode with CR/LF ignored; undefined when invalid. */
function strictBase64(body: Uint8Array): Uint8Array | undefined {
  const s = Buffer.from(body)
    .toString('latin1')
    .replace(/[\r\n]/g, '');
  if (!B64.test(s) || s.length % 4 !== 0) return undefined;
  return new Uint8Array(Buffer.from(s, 'base64'));
}

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

/** The first PEM block of `data` and the bytes after it (Go's pem.Decode). */
export function pemDecode(data: Uint8Array): { block: PemBlock; rest: Uint8Array } | undefined {
  let rest = data;
  for (;;) {
    if (startsWith(rest, BEGIN)) {
      rest = rest.subarray(BEGIN.length);
    } else {
      const i = indexOf(rest, Uint8Array.of(NL, ...BEGIN));
      if (i < 0) return undefined;
      rest = rest.subarray(i + 1 + BEGIN.length);
    }
    let typeLine: Uint8Array;
    [typeLine, rest] = getLine(rest);
    if (typeLine.length < DASHES.length || !startsWith(typeLine, DASHES, typeLine.length - DASHES.length))
      continue;
    typeLine = typeLine.subarray(0, typeLine.length - DASHES.length);
    const headers: Record<string, string> = {};
    let nHeaders = 0;
    let truncated = false;
    for (;;) {
      if (rest.length === 0) {
        truncated = true;
        break;
      }
      const [line, next] = getLine(rest);
      const colon = line.indexOf(0x3a);
      if (colon < 0) break;
      headers[latin1(line.subarray(0, colon)).trim()] = latin1(line.subarray(colon + 1)).trim();
      nHeaders++;
      rest = next;
    }
    if (truncated) return undefined;
    let endIndex: number;
    let endTrailerIndex: number;
    if (nHeaders === 0 && startsWith(rest, END.subarray(1))) {
      endIndex = 0;
      endTrailerIndex = END.length - 1;
    } else {
      endIndex = indexOf(rest, END);
      endTrailerIndex = endIndex + END.length;
    }
    if (endIndex < 0) continue;
    let endTrailer = rest.subarray(endTrailerIndex);
    const trailerLen = typeLine.length + DASHES.length;
    if (endTrailer.length < trailerLen) continue;
    const restOfEndLine = endTrailer.subarray(trailerLen);
    endTrailer = endTrailer.subarray(0, trailerLen);
    if (!startsWith(endTrailer, typeLine) || !startsWith(endTrailer, DASHES, typeLine.length)) continue;
    if (getLine(restOfEndLine)[0].length !== 0) continue;
    const body = rest.subarray(0, endIndex).filter((b) => b !== 0x20 && b !== 0x09);
    const der = strictBase64(body);
    if (!der) continue;
    const after = getLine(rest.subarray(endIndex + END.length - 1))[1];
    return { block: { type: latin1(typeLine), headers, der }, rest: after };
  }
}

/** Every PEM block in `data`, in order. */
export function pemDecodeAll(data: Uint8Array): PemBlock[] {
  const out: PemBlock[] = [];
  let rest = data;
  for (let r = pemDecode(rest); r; r = pemDecode(rest)) {
    out.push(r.block);
    rest = r.rest;
  }
  return out;
}

/** Go's pem.EncodeToMemory for a block without headers. */
export function pemEncode(type: string, der: Uint8Array): Uint8Array {
  const b64 = Buffer.from(der).toString('base64');
  let s = `-----BEGIN ${type}-----\n`;
  for (let i = 0; i < b64.length; i += 64) s += b64.slice(i, i + 64) + '\n';
  s += `-----END ${type}-----\n`;
  return enc.encode(s);
}
