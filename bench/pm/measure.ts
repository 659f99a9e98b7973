/**
 * Measurement primitives of the process-manager suite: one function per kind of
 * figure, each for this library and for its peers (postMessage, comlink, piscina),
 * so that every figure and its peers are taken the same way in the same process run.
 *
 * Every function starts what it needs and ends it before it returns (also on error),
 * so the process can exit: runtimes are shut down, workers terminated, pools destroyed.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Worker } from 'node:worker_threads'
import { releaseProxy, wrap } from 'comlink'
import { Piscina } from 'piscina'
import { boot, type BootOptions, type Runtime } from '../../src/index.js'
import { percentileSorted } from '../lib/stats.js'
import { nodeEndpoint } from './comlink-node.js'
import type { PeerMode } from './peer-worker.js'

export const TRIVIAL_DOMAIN = new URL('./trivial-domain.js', import.meta.url)
const PISCINA_TASK = new URL('./piscina-task.js', import.meta.url).href
const PEER_WORKER = new URL('./peer-worker.js', import.meta.url)

// ----------------------------------------------------------------- latency

/** One latency run, in microseconds. */
export interface LatencyRun {
  p50: number
  p99: number
  mean: number
  max: number
  samples: number
}

/**
 * Time `count` sequential round trips of `once` (after `warmup` untimed ones) with
 * performance.now() around each await; percentiles are nearest-rank.
 */
export async function latency(
  count: number,
  warmup: number,
  once: () => Promise<unknown>,
): Promise<LatencyRun> {
  for (let i = 0; i < warmup; i++) await once()
  const lat = new Float64Array(count)
  let sum = 0
  for (let i = 0; i < count; i++) {
    const t0 = performance.now()
    await once()
    const dt = performance.now() - t0
    lat[i] = dt
    sum += dt
  }
  lat.sort()
  return {
    p50: percentileSorted(lat, 50) * 1000,
    p99: percentileSorted(lat, 99) * 1000,
    mean: (sum / count) * 1000,
    max: lat[count - 1] * 1000,
    samples: count,
  }
}

/** Boot a runtime for one measurement, run `body`, and always shut it down. */
export async function withRuntime<T>(
  opts: BootOptions,
  body: (rt: Runtime) => Promise<T>,
): Promise<T> {
  const rt = await boot(opts)
  try {
    return await body(rt)
  } finally {
    await rt.shutdown()
  }
}

/** Ping round trips on core 0 of a runtime booted with `opts`. */
export function pingLatency(opts: BootOptions, count: number, warmup: number): Promise<LatencyRun> {
  return withRuntime(opts, (rt) => latency(count, warmup, () => rt.ping(0)))
}

// ------------------------------------------------------------------- peers

/** Start a peer worker and wait until it runs. */
export async function startPeer(mode: PeerMode): Promise<Worker> {
  const w = new Worker(PEER_WORKER, { workerData: { mode } })
  await new Promise<void>((resolve, reject) => {
    w.once('online', () => resolve())
    w.once('error', reject)
  })
  return w
}

async function withPeers<T>(
  mode: PeerMode,
  n: number,
  body: (ws: Worker[]) => Promise<T>,
): Promise<T> {
  const ws: Worker[] = []
  try {
    for (let i = 0; i < n; i++) ws.push(await startPeer(mode))
    return await body(ws)
  } finally {
    await Promise.all(ws.map((w) => w.terminate()))
  }
}

/** postMessage request/response round trips to an echo worker. */
export function postMessageLatency(count: number, warmup: number): Promise<LatencyRun> {
  return withPeers('echo', 1, async ([w]) => {
    let pending: (() => void) | null = null
    w.on('message', () => {
      const r = pending
      pending = null
      if (r !== null) r()
    })
    let i = 0
    return latency(
      count,
      warmup,
      () =>
        new Promise<void>((resolve) => {
          pending = resolve
          w.postMessage(i++)
        }),
    )
  })
}

/** comlink proxy calls (`await api.ping(x)`) to a worker exposing { ping }. */
export function comlinkLatency(count: number, warmup: number): Promise<LatencyRun> {
  return withPeers('comlink', 1, async ([w]) => {
    const api = wrap<{ ping(x: number): number }>(nodeEndpoint(w))
    try {
      let i = 0
      return await latency(count, warmup, () => api.ping(i++))
    } finally {
      api[releaseProxy]()
    }
  })
}

// -------------------------------------------------------------- throughput

/** A rate measurement: operations and the seconds they took. */
export interface Rate {
  ops: number
  seconds: number
  perSecond: number
}

function rate(ops: number, t0: number): Rate {
  const seconds = (performance.now() - t0) / 1000
  return { ops, seconds, perSecond: ops / seconds }
}

/** Pipelined pings: `perCore` on every core at once, at most `window` in flight on each. */
export async function pingManyRate(rt: Runtime, perCore: number, window: number): Promise<Rate> {
  const cores = Array.from({ length: rt.cores }, (_, c) => c)
  const t0 = performance.now()
  await Promise.all(cores.map((c) => rt.pingMany(c, perCore, window)))
  return rate(perCore * rt.cores, t0)
}

/** postMessage pipelined: `perWorker` messages to each echo worker, `window` in flight on each. */
export function postMessagePipelined(
  workers: number,
  perWorker: number,
  window: number,
): Promise<Rate> {
  return withPeers('echo', workers, async (ws) => {
    const run = (n: number): Promise<Rate> => {
      const t0 = performance.now()
      return Promise.all(
        ws.map(
          (w) =>
            new Promise<void>((resolve) => {
              let sent = 0
              let received = 0
              const onMessage = (): void => {
                received++
                if (sent < n) w.postMessage(sent++)
                if (received === n) {
                  w.off('message', onMessage)
                  resolve()
                }
              }
              w.on('message', onMessage)
              for (const end = Math.min(window, n); sent < end;) w.postMessage(sent++)
            }),
        ),
      ).then(() => rate(n * workers, t0))
    }
    await run(Math.max(1, perWorker >> 4)) // warm-up
    return run(perWorker)
  })
}

/** A piscina pool of `threads` threads running the trivial task. */
export function piscinaPool(threads: number): Piscina {
  return new Piscina({
    filename: PISCINA_TASK,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
  })
}

/** `total` piscina.run calls with at most `window` in flight. */
export async function piscinaRate(pool: Piscina, total: number, window: number): Promise<Rate> {
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    let started = 0
    let done = 0
    const next = (): void => {
      const i = started++
      pool.run(i).then(() => {
        if (++done === total) resolve()
        else if (started < total) next()
      }, reject)
    }
    for (let i = 0; i < Math.min(window, total); i++) next()
  })
  return rate(total, t0)
}

/** Trivial-domain lifecycle rates of one run. */
export interface SpawnRun {
  /** Domains whose wait() resolved (spawned, exited, waited), per second. */
  waited: Rate
  /** The same domains, all CLEANED: count over the time to the last cleanup. */
  cleaned: Rate
}

/**
 * `total` trivial domains through spawn -> exit -> wait, at most `window` in flight,
 * spread round-robin over every core (the runtime's default placement). A domain is
 * done when its wait() resolved; the cleaned figure times the same domains until every
 * one of them is CLEANED (a ping per core after the last wait is answered after the
 * cleanups queued before it; the states are then checked, and checked again if needed).
 */
export async function spawnRate(rt: Runtime, total: number, window: number): Promise<SpawnRun> {
  let bad = 0
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    let started = 0
    let done = 0
    const next = (): void => {
      started++
      rt.spawn(TRIVIAL_DOMAIN)
        .then((d) => {
          // Reaped, as a server that spawns without end would: the entry is freed
          // once cleaned instead of kept for later waits.
          return rt.wait(d, { reap: true })
        })
        .then((r) => {
          if (r.status === 'running' || r.exitCode !== 0) bad++
          if (++done === total) resolve()
          else if (started < total) next()
        }, reject)
    }
    for (let i = 0; i < Math.min(window, total); i++) next()
  })
  const waited = rate(total, t0)
  const cores = Array.from({ length: rt.cores }, (_, c) => c)
  for (;;) {
    await Promise.all(cores.map((c) => rt.ping(c)))
    // Reaped domains leave the table once CLEANED.
    if (rt.domains().length === 0) break
  }
  const cleaned = rate(total, t0)
  if (bad > 0) throw new Error(`${bad} trivial domains did not exit with 0`)
  return { waited, cleaned }
}

/** A full garbage collection (V8's gc(), exposed for this call only through a fresh context). */
function fullGc(): void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
}

/**
 * Main-thread heap still in use per domain after `count` trivial domains ran to
 * CLEANED (full GC before and after): what the process manager keeps per domain.
 */
export async function retainedPerDomain(
  rt: Runtime,
  count: number,
  window: number,
): Promise<number> {
  await spawnRate(rt, Math.min(count, 1000), window)
  fullGc()
  const before = process.memoryUsage().heapUsed
  await spawnRate(rt, count, window)
  fullGc()
  return (process.memoryUsage().heapUsed - before) / count
}

// ---------------------------------------------------------- event-loop delay

/** Event-loop delay of one run, in milliseconds, and what ran meanwhile. */
export interface DelayRun {
  p50: number
  p99: number
  max: number
  mean: number
  /** Operations completed per second by the load during the window (pings + domains). */
  load: Record<string, number>
}

/** Sampling interval of monitorEventLoopDelay, ms. */
export const ELD_RESOLUTION_MS = 1

/** Operation counters a load keeps up to date as it runs. */
export type Counts = Record<string, number>

/**
 * A load for eventLoopDelay: starts work and keeps it going while `running()`,
 * counting what completes in `counts`; resolves once everything it started ended.
 */
export type Load = (running: () => boolean, counts: Counts) => Promise<void>

/**
 * The main thread's event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms
 * resolution) while `load` runs: the load starts, runs `warmMs` unobserved (JIT,
 * first allocations), then the histogram and the counters cover the next `ms`.
 */
export async function eventLoopDelay(ms: number, warmMs: number, load: Load): Promise<DelayRun> {
  const h = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS })
  const counts: Counts = {}
  let on = true
  let at0: Counts = {}
  let t0 = 0
  let t1 = 0
  let at1: Counts = {}
  const start = setTimeout(() => {
    at0 = { ...counts }
    t0 = performance.now()
    h.enable()
  }, warmMs)
  const stop = setTimeout(() => {
    h.disable()
    at1 = { ...counts }
    t1 = performance.now()
    on = false
  }, warmMs + ms)
  try {
    await load(() => on, counts)
  } finally {
    clearTimeout(start)
    clearTimeout(stop)
    h.disable()
  }
  const seconds = (t1 - t0) / 1000
  const perSecond: Record<string, number> = {}
  for (const k of Object.keys(at1)) perSecond[k] = (at1[k] - (at0[k] ?? 0)) / seconds
  // Node 20 records the whole interval between the sampling timer's callbacks, the
  // resolution included (an idle loop reads ~1.05 ms at resolution 1): subtract it.
  const delay = (ns: number): number => Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS)
  return {
    p50: delay(h.percentile(50)),
    p99: delay(h.percentile(99)),
    max: delay(h.max),
    mean: delay(h.mean),
    load: perSecond,
  }
}

/**
 * Process-manager load: `pingMany(chunk, window)` in a loop on every core (when
 * pingChunk > 0) and `spawnLoops` loops of spawn + wait of the trivial domain.
 */
export function pmLoad(
  rt: Runtime,
  pingChunk: number,
  pingWindow: number,
  spawnLoops: number,
): Load {
  return async (running, counts) => {
    counts.pings = 0
    counts.domains = 0
    const pingLoop = async (core: number): Promise<void> => {
      while (running()) {
        await rt.pingMany(core, pingChunk, pingWindow)
        counts.pings += pingChunk
      }
    }
    const spawnLoop = async (): Promise<void> => {
      while (running()) {
        const d = await rt.spawn(TRIVIAL_DOMAIN)
        await rt.wait(d, { reap: true })
        counts.domains++
      }
    }
    const loops: Promise<void>[] = []
    if (pingChunk > 0) for (let c = 0; c < rt.cores; c++) loops.push(pingLoop(c))
    for (let i = 0; i < spawnLoops; i++) loops.push(spawnLoop())
    await Promise.all(loops)
  }
}

/** piscina load: `window` trivial tasks in flight. */
export function piscinaLoad(pool: Piscina, window: number): Load {
  return async (running, counts) => {
    counts.tasks = 0
    const loop = async (): Promise<void> => {
      while (running()) {
        await pool.run(counts.tasks)
        counts.tasks++
      }
    }
    await Promise.all(Array.from({ length: window }, loop))
  }
}

/** postMessage load: `window` messages in flight to each of `ws`. */
export function postMessageLoad(ws: Worker[], window: number): Load {
  return async (running, counts) => {
    counts.messages = 0
    await Promise.all(
      ws.map(
        (w) =>
          new Promise<void>((resolve) => {
            let inFlight = 0
            const onMessage = (): void => {
              inFlight--
              counts.messages++
              if (running()) {
                w.postMessage(counts.messages)
                inFlight++
              } else if (inFlight === 0) {
                w.off('message', onMessage)
                resolve()
              }
            }
            w.on('message', onMessage)
            for (; inFlight < window; inFlight++) w.postMessage(inFlight)
          }),
      ),
    )
  }
}

/** No load: the event loop idles on a 20 ms timer (the baseline delay). */
export const idleLoad: Load = async (running) => {
  while (running()) await new Promise((resolve) => setTimeout(resolve, 20))
}

export { withPeers }
