/**
 * The pool's timing histograms, shaped as piscina 5's: recorded in microseconds
 * (an integer, at least 1) in node:perf_hooks histograms, summarised in
 * milliseconds with piscina's percentile names.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks'

export interface PoolHistogramSummary {
  average: number
  mean: number
  stddev: number
  min: number
  max: number
  p0_001: number
  p0_01: number
  p0_1: number
  p1: number
  p2_5: number
  p10: number
  p25: number
  p50: number
  p75: number
  p90: number
  p97_5: number
  p99: number
  p99_9: number
  p99_99: number
  p99_999: number
}

/** What `pool.histogram` is: piscina's PiscinaHistogram. */
export interface PoolHistogram {
  readonly runTime: PoolHistogramSummary
  readonly waitTime: PoolHistogramSummary
  resetRunTime(): void
  resetWaitTime(): void
}

const PERCENTILES: readonly [keyof PoolHistogramSummary, number][] = [
  ['p0_001', 0.001],
  ['p0_01', 0.01],
  ['p0_1', 0.1],
  ['p1', 1],
  ['p2_5', 2.5],
  ['p10', 10],
  ['p25', 25],
  ['p50', 50],
  ['p75', 75],
  ['p90', 90],
  ['p97_5', 97.5],
  ['p99', 99],
  ['p99_9', 99.9],
  ['p99_99', 99.99],
  ['p99_999', 99.999],
]

export function summarize(h: RecordableHistogram): PoolHistogramSummary {
  const s = {
    average: h.mean / 1000,
    mean: h.mean / 1000,
    stddev: h.stddev / 1000,
    min: h.min / 1000,
    max: h.max / 1000,
  } as PoolHistogramSummary
  for (const [k, p] of PERCENTILES) s[k] = h.percentile(p) / 1000
  return s
}

/** Both histograms; record() takes milliseconds. */
export class Timing implements PoolHistogram {
  readonly run = createHistogram()
  readonly wait = createHistogram()

  recordRun(ms: number): void {
    this.run.record(Math.max(1, Math.trunc(ms * 1000)))
  }

  recordWait(ms: number): void {
    this.wait.record(Math.max(1, Math.trunc(ms * 1000)))
  }

  get runTime(): PoolHistogramSummary {
    return summarize(this.run)
  }

  get waitTime(): PoolHistogramSummary {
    return summarize(this.wait)
  }

  resetRunTime(): void {
    this.run.reset()
  }

  resetWaitTime(): void {
    this.wait.reset()
  }
}
