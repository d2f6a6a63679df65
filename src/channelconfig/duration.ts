/**
 * Go's time.ParseDuration, as Fabric parses BatchTimeout and etcdraft TickInterval:
 * [-+]? then one or more <decimal><unit> with unit ns, us, µs, μs, ms, s, m, h; "0" alone is 0.
 * Returns nanoseconds as a bigint (exact) or undefined when the text is not a Go duration.
 */
const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_NS = (1n << 63n) - 1n;

export function parseGoDuration(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0n;
  const re = /^(\d*)(?:\.(\d*))?([^\d.]+)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
    const unit = UNIT_NS[m[3]];
    if (unit === undefined) return undefined;
    const whole = BigInt(m[1] === '' ? '0' : m[1]);
    const frac = m[2] ?? '';
    let ns = whole * unit;
    if (frac !== '') ns += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    total += ns;
    if (total > MAX_NS) return undefined;
    s = s.slice(m[0].length);
  }
  return neg ? -total : total;
}
