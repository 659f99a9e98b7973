/**
 * One measurement of the comlink suite, the same loop for both transports: the
 * caller holds a wrapped BenchApi (over a session or over a MessagePort) and the
 * loop only differs in which proxy it calls.
 */
import * as Comlink from 'comlink'
import { percentileSorted } from '../lib/stats.js'
import type { BenchApi } from './api.js'

export type Remote = Comlink.Remote<BenchApi>

export interface LatencyRun {
  p50: number
  p99: number
  mean: number
}

/** Just the ping: a comlink proxy's, or a plain session's (session.call). */
export interface Pinger {
  ping(x: number): Promise<number>
}

/** Calls per second with `window` calls in flight (each answer starts the next). */
export async function rate(api: Pinger, total: number, window: number): Promise<number> {
  let started = 0
  let done = 0
  let fail: unknown = null
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    const one = (): void => {
      const x = started++
      api.ping(x).then(
        (v) => {
          if (v !== x) fail ??= new Error(`ping ${x} answered ${v}`)
          if (++done === total) {
            if (fail !== null) reject(fail)
            else resolve()
          } else if (started < total) one()
        },
        (err: unknown) => reject(err),
      )
    }
    for (let i = 0; i < Math.min(window, total); i++) one()
  })
  return total / ((performance.now() - t0) / 1000)
}

/** One call in flight: round trips in microseconds. */
export async function latency(api: Pinger, count: number): Promise<LatencyRun> {
  const lat = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const t0 = performance.now()
    const v = await api.ping(i)
    lat[i] = performance.now() - t0
    if (v !== i) throw new Error(`ping ${i} answered ${v}`)
  }
  return summarize(lat)
}

/** One call in flight that passes a callback, called back once and released. */
export async function callbackLatency(api: Remote, count: number): Promise<LatencyRun> {
  const lat = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const t0 = performance.now()
    const v = await api.viaCallback(
      Comlink.proxy((x: number) => x + 1),
      i,
    )
    lat[i] = performance.now() - t0
    if (v !== i + 1) throw new Error(`viaCallback ${i} answered ${v}`)
  }
  return summarize(lat)
}

function summarize(lat: Float64Array): LatencyRun {
  let sum = 0
  for (let i = 0; i < lat.length; i++) sum += lat[i]
  lat.sort()
  return {
    p50: percentileSorted(lat, 50) * 1000,
    p99: percentileSorted(lat, 99) * 1000,
    mean: (sum / lat.length) * 1000,
  }
}
