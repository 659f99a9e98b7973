/**
 * The main thread's event-loop delay under load: a load keeps a fixed number of
 * operations in flight (the same number for every contender) while
 * perf_hooks.monitorEventLoopDelay samples the loop; what each load completed per
 * second is recorded beside the delay.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Worker } from 'node:worker_threads'
import type { Piscina } from 'piscina'
import type { Runtime } from '../../src/index.js'
import { spawnOne } from './rates.js'

/** Event-loop delay of one run, in milliseconds, and what ran meanwhile. */
export interface DelayRun {
  p50: number
  p99: number
  max: number
  mean: number
  /** Operations completed per second by the load during the window. */
  perSecond: number
}

/** Sampling interval of monitorEventLoopDelay, ms. */
export const ELD_RESOLUTION_MS = 1

/**
 * A load for eventLoopDelay: starts work and keeps it going while `running()`,
 * counting each completed operation with `done()`; resolves once everything it
 * started ended.
 */
export type Load = (running: () => boolean, done: () => void) => Promise<void>

/**
 * The main thread's event-loop delay (1 ms resolution) while `load` runs: the load
 * starts, runs `warmMs` unobserved (JIT, first allocations), then the histogram and
 * the counter cover the next `ms`.
 */
export async function eventLoopDelay(ms: number, warmMs: number, load: Load): Promise<DelayRun> {
  const h = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS })
  let count = 0
  let on = true
  let c0 = 0
  let c1 = 0
  let t0 = 0
  let t1 = 0
  const start = setTimeout(() => {
    c0 = count
    t0 = performance.now()
    h.enable()
  }, warmMs)
  const stop = setTimeout(() => {
    h.disable()
    c1 = count
    t1 = performance.now()
    on = false
  }, warmMs + ms)
  try {
    await load(
      () => on,
      () => {
        count++
      },
    )
  } finally {
    clearTimeout(start)
    clearTimeout(stop)
    h.disable()
  }
  // Node 20 records the whole interval between the sampling timer's callbacks, the
  // resolution included (an idle loop reads ~1.05 ms at resolution 1): subtract it.
  const delay = (ns: number): number => Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS)
  return {
    p50: delay(h.percentile(50)),
    p99: delay(h.percentile(99)),
    max: delay(h.max),
    mean: delay(h.mean),
    perSecond: (c1 - c0) / ((t1 - t0) / 1000),
  }
}

/** `window` loops, each awaiting `once` again as long as the load runs. */
function loops(window: number, once: (i: number) => Promise<unknown>): Load {
  return async (running, done) => {
    const loop = async (i: number): Promise<void> => {
      while (running()) {
        await once(i)
        done()
      }
    }
    await Promise.all(Array.from({ length: window }, (_, i) => loop(i)))
  }
}

/** Full spawn load: `window` trivial domains spawned and waited (reaped) at all times. */
export const spawnLoad = (rt: Runtime, window: number): Load => loops(window, () => spawnOne(rt))

/** Per-call ping load: `window` rt.ping calls in flight, spread over every core. */
export const pingLoad = (rt: Runtime, window: number): Load =>
  loops(window, (i) => rt.ping(i % rt.cores))

/** piscina load: `window` trivial tasks in flight. */
export const piscinaLoad = (pool: Piscina, window: number): Load =>
  loops(window, (i) => pool.run(i))

/** postMessage load: `window` messages in flight over the echo workers `ws`. */
export function postMessageLoad(ws: Worker[], window: number): Load {
  return async (running, done) => {
    await Promise.all(
      ws.map((w, k) => {
        // This worker's share of the window.
        const share = Math.floor(window / ws.length) + (k < window % ws.length ? 1 : 0)
        return new Promise<void>((resolve) => {
          let inFlight = 0
          const onMessage = (m: number): void => {
            inFlight--
            done()
            if (running()) {
              w.postMessage(m)
              inFlight++
            } else if (inFlight === 0) {
              w.off('message', onMessage)
              resolve()
            }
          }
          w.on('message', onMessage)
          for (; inFlight < share; inFlight++) w.postMessage(inFlight)
        })
      }),
    )
  }
}

/** No load: the event loop idles on a 20 ms timer (the baseline delay). */
export const idleLoad: Load = async (running) => {
  while (running()) await new Promise((resolve) => setTimeout(resolve, 20))
}
