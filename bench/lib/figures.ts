/**
 * What every benchmark reports: figures (value, the baseline measured in the same run, and their
 * ratio), each printed at the end as one JSON line; and the percentile the latency figures use.
 */

export interface Figure {
  bench: string;
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
}

/** The JSON line of a figure (extra fields such as notes are left out). */
export function figureJson(f: Figure): string {
  return JSON.stringify({
    bench: f.bench,
    value: f.value,
    unit: f.unit,
    baseline: f.baseline,
    ratio: f.ratio,
  });
}

/** The p-th percentile of xs (nearest rank); NaN for no values. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}
