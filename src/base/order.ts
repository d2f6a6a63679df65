/**
 * Sorting strings by UTF-16 code units, the same on every machine. localeCompare orders by the
 * locale's collation and loads ICU's collation data (a few MiB in every process that calls it once).
 */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
