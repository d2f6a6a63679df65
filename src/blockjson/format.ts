/**
 * Prints a JSON tree the way configtxlator does (Go encoding/json, Encoder.SetIndent("", "\t")):
 * object keys sorted bytewise, tab indentation, `"key": value`, `{}` / `[]` when empty, a final
 * newline, and Go's string escaping: <, >, & and U+2028/U+2029 as \u escapes, control characters
 * other than \n \r \t as \u00XX (Go 1.18-1.21, which built Fabric v2.4.x).
 */
import type { JsonValue } from '@bufbuild/protobuf';

const byteOrder = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

export function goString(s: string): string {
  // eslint-disable-next-line no-control-regex
  const escaped = s.replace(/["\\<>&\u2028\u2029\u0000-\u001f]/g, (c) => {
    return ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return `"${escaped}"`;
}

function write(v: JsonValue, indent: string, out: string[]): void {
  if (v === null) out.push('null');
  else if (typeof v === 'string') out.push(goString(v));
  else if (typeof v === 'number' || typeof v === 'boolean') out.push(String(v));
  else if (Array.isArray(v)) {
    if (v.length === 0) {
      out.push('[]');
      return;
    }
    const inner = indent + '\t';
    out.push('[');
    v.forEach((e, i) => {
      out.push(i === 0 ? '\n' : ',\n', inner);
      write(e, inner, out);
    });
    out.push('\n', indent, ']');
  } else {
    const keys = Object.keys(v).sort(byteOrder);
    if (keys.length === 0) {
      out.push('{}');
      return;
    }
    const inner = indent + '\t';
    out.push('{');
    keys.forEach((k, i) => {
      out.push(i === 0 ? '\n' : ',\n', inner, goString(k), ': ');
      write(v[k], inner, out);
    });
    out.push('\n', indent, '}');
  }
}

/** The exact text configtxlator prints for this tree. */
export function formatJson(tree: JsonValue): string {
  const out: string[] = [];
  write(tree, '', out);
  out.push('\n');
  return out.join('');
}

/**
 * A google.protobuf.Timestamp as Go's jsonpb prints it: UTC, "YYYY-MM-DDTHH:MM:SS" with 0, 3, 6 or
 * 9 fractional digits and "Z". Unlike protobuf-es it accepts any year (Go's time layout prints
 * years past 9999 in full and years before 1 as "-0001"); only nanos outside [0, 1e9) are refused.
 */
export function goTimestamp(seconds: bigint, nanos: number): string | undefined {
  if (!Number.isInteger(nanos) || nanos < 0 || nanos >= 1e9) return undefined;
  let days = seconds / 86400n;
  let rem = seconds - days * 86400n;
  if (rem < 0n) {
    rem += 86400n;
    days -= 1n;
  }
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm, proleptic Gregorian).
  const z = days + 719468n;
  const era = (z >= 0n ? z : z - 146096n) / 146097n;
  const doe = z - era * 146097n;
  const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const day = doy - (153n * mp + 2n) / 5n + 1n;
  const month = mp < 10n ? mp + 3n : mp - 9n;
  const year = yoe + era * 400n + (month <= 2n ? 1n : 0n);
  const pad = (n: bigint, w: number): string => n.toString().padStart(w, '0');
  const y = year < 0n ? `-${pad(-year, 4)}` : pad(year, 4);
  const secs = Number(rem);
  let frac = `.${String(nanos).padStart(9, '0')}`;
  for (let i = 0; i < 3 && frac.endsWith('000'); i++) frac = frac.slice(0, -3);
  if (frac === '.') frac = '';
  const hms = [Math.floor(secs / 3600), Math.floor(secs / 60) % 60, secs % 60].map((n) =>
    String(n).padStart(2, '0'),
  );
  return `${y}-${pad(month, 2)}-${pad(day, 2)}T${hms.join(':')}${frac}Z`;
}
