/** Summary statistics of repeated measurements. */

export interface Spread {
  readonly runs: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** First and third quartiles (linear interpolation); equal to the median for one run. */
  readonly q1: number;
  readonly q3: number;
  readonly samples: readonly number[];
}

function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

export function spreadOf(samples: readonly number[]): Spread {
  if (samples.length === 0) throw new Error("spreadOf: no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    runs: samples.length,
    median: quantile(sorted, 0.5),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
    samples,
  };
}

/** "12.3 (11.9-12.8)": the median and, over more than one run, the range. */
export function formatSpread(spread: Spread, digits = 0, scale = 1): string {
  const format = (value: number) =>
    (value * scale).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return spread.runs === 1
    ? format(spread.median)
    : `${format(spread.median)} (${format(spread.min)}-${format(spread.max)})`;
}

export const MB = 1e6;
export const GB = 1e9;
