/** Small statistics helpers shared by the benchmark suites. */

/** Median of a list of numbers (NaN when empty). Does not modify its input. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/**
 * The p-th percentile (0..100) of samples that are already sorted ascending,
 * nearest-rank definition: the smallest sample with at least p% of samples at or below it.
 */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length
  if (n === 0) return NaN
  const rank = Math.ceil((p / 100) * n)
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))]
}

/**
 * One run's round trips (performance.now() ms in, microseconds out): p50, p99
 * (nearest-rank), mean, min and the count. Sorts `samples` in place.
 */
export function summarizeRoundTrips(samples: Float64Array): {
  p50: number
  p99: number
  mean: number
  min: number
  count: number
} {
  samples.sort()
  let sum = 0
  for (let i = 0; i < samples.length; i++) sum += samples[i]
  return {
    p50: percentileSorted(samples, 50) * 1000,
    p99: percentileSorted(samples, 99) * 1000,
    mean: (sum / samples.length) * 1000,
    min: samples[0] * 1000,
    count: samples.length,
  }
}

/** Round to `digits` significant digits, for printing and for JSON figures. */
export function sig(value: number, digits = 4): number {
  if (!Number.isFinite(value) || value === 0) return value
  return Number(value.toPrecision(digits))
}

/** Human formatting: 81234567 -> '81.23 M', 0.000812 -> '0.000812'. */
export function human(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  const a = Math.abs(value)
  if (a >= 1e9) return `${(value / 1e9).toFixed(2)} G`
  if (a >= 1e6) return `${(value / 1e6).toFixed(2)} M`
  if (a >= 1e4) return `${(value / 1e3).toFixed(1)} k`
  if (a >= 100) return value.toFixed(0)
  if (a >= 1) return value.toFixed(2)
  return value.toPrecision(3)
}
