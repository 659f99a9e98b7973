/**
 * Throughput and per-domain cost primitives of the process-manager suite: per-call
 * pings and piscina tasks with the same number in flight, the batch API apart,
 * trivial domains at 256 and at 1 in flight beside piscina's trivial tasks, and what
 * the main thread allocates and keeps per domain.
 */
import { GCProfiler, getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Piscina } from 'piscina'
import type { Runtime } from '../../src/index.js'
import { summarizeLatency, TRIVIAL_DOMAIN, type LatencyRun } from './measure.js'

const PISCINA_TASK = new URL('./piscina-task.js', import.meta.url).href

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

/** Per-call pings: `total` rt.ping calls round-robin over every core, `window` in flight. */
export async function pingRate(rt: Runtime, total: number, window: number): Promise<Rate> {
  const cores = rt.cores
  let started = 0
  let done = 0
  const t0 = performance.now()
  // Closed loop, written out per variant (monomorphic): a reply starts the next call.
  await new Promise<void>((resolve, reject) => {
    const next = (): void => {
      const c = started++ % cores
      rt.ping(c).then(() => {
        if (++done === total) resolve()
        else if (started < total) next()
      }, reject)
    }
    for (let i = 0; i < Math.min(window, total); i++) next()
  })
  return rate(total, t0)
}

/** The batch API: `perCore` pings on every core at once, at most `window` in flight on each. */
export async function pingManyRate(rt: Runtime, perCore: number, window: number): Promise<Rate> {
  const cores = Array.from({ length: rt.cores }, (_, c) => c)
  const t0 = performance.now()
  await Promise.all(cores.map((c) => rt.pingMany(c, perCore, window)))
  return rate(perCore * rt.cores, t0)
}

/** piscina's configurations: its defaults, and tuned for many small tasks. */
export type PiscinaConfig = 'defaults' | 'tuned'

/** Tasks in flight per worker of the tuned pool. */
export const PISCINA_TASKS_PER_WORKER = 16

/**
 * A piscina pool of `threads` threads running the trivial task. 'defaults' leaves
 * piscina's defaults (one task per worker, atomics 'sync', recordTiming on); 'tuned'
 * is piscina at its best for trivial tasks on this machine: atomics 'async' (a
 * worker keeps its event loop turning), PISCINA_TASKS_PER_WORKER tasks per worker,
 * no timing histograms.
 */
export function piscinaPool(threads: number, config: PiscinaConfig): Piscina {
  return new Piscina({
    filename: PISCINA_TASK,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    ...(config === 'tuned'
      ? {
          atomics: 'async' as const,
          concurrentTasksPerWorker: PISCINA_TASKS_PER_WORKER,
          recordTiming: false,
        }
      : {}),
  })
}

/** `total` piscina.run calls with at most `window` in flight. */
export async function piscinaRate(pool: Piscina, total: number, window: number): Promise<Rate> {
  let started = 0
  let done = 0
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    const next = (): void => {
      pool.run(started++).then(() => {
        if (++done === total) resolve()
        else if (started < total) next()
      }, reject)
    }
    for (let i = 0; i < Math.min(window, total); i++) next()
  })
  return rate(total, t0)
}

/** piscina.run of the trivial task, one at a time. */
export async function piscinaLatency(
  pool: Piscina,
  count: number,
  warmup: number,
): Promise<LatencyRun> {
  let i = 0
  for (let k = 0; k < warmup; k++) await pool.run(i++)
  const lat = new Float64Array(count)
  for (let k = 0; k < count; k++) {
    const t0 = performance.now()
    await pool.run(i++)
    lat[k] = performance.now() - t0
  }
  return summarizeLatency(lat)
}

/** Trivial-domain lifecycle rates of one run. */
export interface SpawnRun {
  /** Domains whose wait() resolved (spawned, exited, waited and reaped), per second. */
  waited: Rate
  /** The same domains, all CLEANED: count over the time to the last cleanup. */
  cleaned: Rate
}

/** One trivial domain: spawn, then wait with { reap: true }; throws unless it exited 0. */
export async function spawnOne(rt: Runtime): Promise<void> {
  // Reaped, as a server that spawns without end would: the entry is freed once
  // cleaned instead of kept for later waits.
  const r = await rt.wait(await rt.spawn(TRIVIAL_DOMAIN), { reap: true })
  if (!('exitCode' in r) || r.exitCode !== 0) {
    throw new Error(`a trivial domain did not exit with 0: ${JSON.stringify(r)}`)
  }
}

/**
 * `total` trivial domains through spawn -> exit -> wait(reap), at most `window` in
 * flight, spread round-robin over every core (the runtime's default placement). The
 * cleaned figure times the same domains until every one of them is CLEANED (a ping
 * per core after the last wait is answered after the cleanups queued before it).
 */
export async function spawnRate(rt: Runtime, total: number, window: number): Promise<SpawnRun> {
  let started = 0
  let done = 0
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    const next = (): void => {
      started++
      spawnOne(rt).then(() => {
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
  return { waited, cleaned: rate(total, t0) }
}

/** Spawn + wait(reap) of one trivial domain at a time. */
export async function spawnLatency(
  rt: Runtime,
  count: number,
  warmup: number,
): Promise<LatencyRun> {
  for (let k = 0; k < warmup; k++) await spawnOne(rt)
  const lat = new Float64Array(count)
  for (let k = 0; k < count; k++) {
    const t0 = performance.now()
    await spawnOne(rt)
    lat[k] = performance.now() - t0
  }
  return summarizeLatency(lat)
}

/** A full garbage collection (V8's gc(), exposed for this call only through a fresh context). */
function fullGc(): void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
}

/** What the main thread's heap did while `count` trivial domains ran, per domain. */
export interface DomainMemory {
  /** Bytes allocated on the main thread's heap (collected or not). */
  allocated: number
  /** Bytes still in use after a full GC: what the process manager keeps. */
  retained: number
  /** Garbage collections on the main thread, per 1000 domains. */
  gcsPerThousand: number
}

/**
 * Main-thread bytes allocated and kept per trivial domain, `window` in flight.
 * Allocated = the heap's growth plus everything the collections in between freed
 * (v8.GCProfiler reports the used heap before and after each one); kept = the used
 * heap after a full GC, before and after, over the count.
 */
export async function memoryPerDomain(
  rt: Runtime,
  count: number,
  window: number,
): Promise<DomainMemory> {
  await spawnRate(rt, Math.min(count, 1000), window)
  fullGc()
  const kept0 = process.memoryUsage().heapUsed
  const profiler = new GCProfiler()
  profiler.start()
  const used0 = getHeapStatistics().used_heap_size
  await spawnRate(rt, count, window)
  const used1 = getHeapStatistics().used_heap_size
  const gcs = profiler.stop().statistics
  let freed = 0
  for (const g of gcs) {
    freed += g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize
  }
  fullGc()
  return {
    allocated: (used1 - used0 + freed) / count,
    retained: (process.memoryUsage().heapUsed - kept0) / count,
    gcsPerThousand: (gcs.length / count) * 1000,
  }
}
