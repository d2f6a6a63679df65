/**
 * A benchmark's figures as it collects them, printed at the end as a table and then one JSON
 * line per figure (figures.ts). Benchmarks made of parts (GRAPEVINE_BENCH_PART) share one Report.
 */
import { figureJson, type Figure } from './figures.js';

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

export class Report {
  readonly figures: Figure[] = [];
  readonly notes: string[] = [];

  /**
   * Add a figure; ratio = value / baseline (0 when there is no baseline). Value and baseline are
   * rounded to `digits` decimals (default 2; 3 for figures of a fraction of a second), the ratio to 2.
   */
  fig(bench: string, value: number, unit: string, baseline: number, digits = 2): Figure {
    const f = {
      bench,
      value: round(value, digits),
      unit,
      baseline: round(baseline, digits),
      ratio: baseline === 0 ? 0 : round(value / baseline, 2),
    };
    this.figures.push(f);
    return f;
  }

  note(line: string): void {
    this.notes.push(line);
    console.log(line);
  }

  print(header?: string): void {
    if (header) console.log(`\n${header}`);
    for (const n of this.notes) console.log(`note: ${n}`);
    console.log(
      [
        'bench'.padEnd(34),
        'value'.padStart(10),
        'unit'.padEnd(20),
        'baseline'.padStart(10),
        'ratio'.padStart(7),
      ].join(' '),
    );
    for (const f of this.figures)
      console.log(
        [
          f.bench.padEnd(34),
          String(f.value).padStart(10),
          f.unit.padEnd(20),
          String(f.baseline).padStart(10),
          String(f.ratio).padStart(7),
        ].join(' '),
      );
    for (const f of this.figures) console.log(figureJson(f));
  }
}

/** Run the parts named in GRAPEVINE_BENCH_PART (comma-separated; all when unset), in order. */
export async function runParts(parts: Record<string, () => Promise<void>>): Promise<void> {
  const only = process.env.GRAPEVINE_BENCH_PART?.split(',').filter(Boolean);
  for (const [name, run] of Object.entries(parts)) {
    if (only && !only.includes(name)) continue;
    console.log(`\n--- part ${name} ---`);
    await run();
  }
}
