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
