/**
 * Go's time.ParseDuration, as Fabric parses BatchTimeout and etcdraft TickInterval:
 * [-+]? then one or more <decimal><unit> with unit ns, us, µs, μs, ms, s, m, h; "0" alone is 0.
 * The magnitude must fit an int64 of nanoseconds. scanGoDuration says why a text is refused;
 * parseGoDuration returns nanoseconds as a bigint (exact) or undefined when the text is not a
 * Go duration.
 */
const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5
  μs: 1_000n, // U+03BC
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_NS = (1n << 63n) - 1n;

/** Nanoseconds, or why the text is not a Go duration: nothing after the sign, bad syntax or unit, or beyond int64. */
export type GoDurationScan = { readonly ns: bigint } | { readonly fault: 'empty' | 'syntax' | 'overflow' };

export function scanGoDuration(text: string): GoDurationScan {
  let s = text;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return { ns: 0n };
  if (s === '') return { fault: 'empty' };
  let total = 0n;
  const re = /^(\d*)(?:\.(\d*))?([^\d.]+)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return { fault: 'syntax' };
    const unit = UNIT_NS[m[3]];
    if (unit === undefined) return { fault: 'syntax' };
    const whole = BigInt(m[1] === '' ? '0' : m[1]);
    const frac = m[2] ?? '';
    let ns = whole * unit;
    if (frac !== '') ns += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    total += ns;
    s = s.slice(m[0].length);
  }
  if (total > MAX_NS) return { fault: 'overflow' };
  return { ns: neg ? -total : total };
}

export function parseGoDuration(text: string): bigint | undefined {
  const r = scanGoDuration(text);
  return 'ns' in r ? r.ns : undefined;
}
