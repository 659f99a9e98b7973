/**
 * One measured round of a task runner: `total` calls with at most `window` in
 * flight (each settle starts the next), after `warmup` calls; the rate and the
 * run() -> settle time of every call.
 */
import { percentileSorted } from '../lib/stats.js'

export type RunFn = (x: unknown) => Promise<unknown>

export interface Measured {
  perSecond: number
  /** Microseconds. */
  p50: number
  p99: number
  samples: number
}

function round(
  run: RunFn,
  arg: unknown,
  total: number,
  window: number,
  lat: Float64Array | null,
): Promise<void> {
  let started = 0
  let done = 0
  return new Promise<void>((resolve, reject) => {
    const next = (): void => {
      const i = started++
      const t0 = performance.now()
      run(arg).then(() => {
        if (lat !== null) lat[i] = performance.now() - t0
        if (++done === total) resolve()
        else if (started < total) next()
      }, reject)
    }
    for (let k = 0; k < Math.min(window, total); k++) next()
  })
}

export async function measureRuns(
  run: RunFn,
  arg: unknown,
  total: number,
  window: number,
  warmup: number,
): Promise<Measured> {
  if (warmup > 0) await round(run, arg, warmup, window, null)
  const lat = new Float64Array(total)
  const t0 = performance.now()
  await round(run, arg, total, window, lat)
  const secs = (performance.now() - t0) / 1000
  lat.sort()
  return {
    perSecond: total / secs,
    p50: percentileSorted(lat, 50) * 1000,
    p99: percentileSorted(lat, 99) * 1000,
    samples: total,
  }
}
