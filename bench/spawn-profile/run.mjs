/**
 * Spawn-path profile (issue 11): spawn + wait(reap) of a trivial domain against a
 * tuned piscina running a trivial task, interleaved in the same rounds, plus the
 * ping path, plus the main thread's garbage per domain.
 *
 *   npm run build && node bench/spawn-profile/run.mjs [--rounds 5]
 *
 * The runtime boots with DEFAULT options (cores = availableParallelism); piscina
 * gets the same number of threads, tuned: atomics 'async', 16 tasks per worker,
 * recordTiming false. Figures are medians over the rounds.
 *
 * Garbage per domain is measured with a lean caller (two .then() promises per
 * domain, no closures: see leanLoop), in a child process started with a 128 MB young
 * generation (--min/--max-semi-space-size), where a window of spawns runs with no
 * garbage collection at all (checked with a gc PerformanceObserver): the growth of
 * the main isolate's used heap over that window is then exactly what it allocated.
 */
import { spawnSync } from 'node:child_process'
import { availableParallelism, loadavg } from 'node:os'
import { PerformanceObserver, performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import Piscina from 'piscina'
import { boot } from 'multikernel'
import { leanLoop, TRIVIAL } from './lean.mjs'

const TASK = new URL('./task.mjs', import.meta.url).href
const SELF = fileURLToPath(import.meta.url)
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name)
  return i < 0 ? dflt : Number(process.argv[i + 1])
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[s.length >> 1]
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]
}

/** `total` operations with at most `window` in flight; per-op latencies in us. */
async function closedLoop(op, total, window) {
  const lat = new Float64Array(total)
  const t0 = performance.now()
  await new Promise((resolve, reject) => {
    let started = 0
    let done = 0
    const next = () => {
      const i = started++
      const s = performance.now()
      op(i).then(() => {
        lat[i] = (performance.now() - s) * 1000
        if (++done === total) resolve()
        else if (started < total) next()
      }, reject)
    }
    for (let i = 0; i < Math.min(window, total); i++) next()
  })
  const secs = (performance.now() - t0) / 1000
  return { perSecond: total / secs, p50: pct(lat, 0.5), p99: pct(lat, 0.99) }
}

const spawnWait = (rt) => async () => {
  const d = await rt.spawn(TRIVIAL)
  const r = await rt.wait(d, { reap: true })
  if (r.status === 'running' || r.exitCode !== 0) throw new Error('trivial domain failed')
}

async function allocMode() {
  const rt = await boot()
  let gcs = 0
  const obs = new PerformanceObserver((l) => (gcs += l.getEntries().length))
  obs.observe({ entryTypes: ['gc'] })
  const out = {}
  for (const [name, total, window] of [
    ['inFlight256', 20_000, 256],
    ['inFlight1', 5_000, 1],
  ]) {
    await leanLoop(rt, 2_000, window) // warm-up (JIT, module cache, rings)
    // Let the freeing of the warm-up's entries finish, then a window with no GC.
    for (let c = 0; c < rt.cores; c++) await rt.ping(c)
    await new Promise((r) => setTimeout(r, 50))
    const best = []
    for (let k = 0; k < 3; k++) {
      const g0 = gcs
      const h0 = process.memoryUsage().heapUsed
      await leanLoop(rt, total, window)
      const h1 = process.memoryUsage().heapUsed
      // PerformanceObserver delivers gc entries asynchronously.
      await new Promise((r) => setTimeout(r, 10))
      if (gcs === g0) best.push((h1 - h0) / total)
    }
    out[name] = best.length === 0 ? null : median(best)
  }
  obs.disconnect()
  await rt.shutdown()
  process.stdout.write(JSON.stringify(out))
}

async function mainMode() {
  const rounds = arg('--rounds', 5)
  const cores = availableParallelism()
  const rt = await boot()
  const pool = new Piscina({
    filename: TASK,
    minThreads: rt.cores,
    maxThreads: rt.cores,
    idleTimeout: 60_000,
    atomics: 'async',
    concurrentTasksPerWorker: 16,
    recordTiming: false,
  })
  const load0 = loadavg()[0]
  let gcMs = 0
  let gcCount = 0
  const obs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) {
      gcMs += e.duration
      gcCount++
    }
  })
  obs.observe({ entryTypes: ['gc'] })
  const sw = spawnWait(rt)
  const task = (i) => pool.run(i)
  const ping = () => rt.ping(0)
  const cases = [
    ['spawn+wait @256', sw, 20_000, 256],
    ['piscina @256', task, 20_000, 256],
    ['spawn+wait @1', sw, 3_000, 1],
    ['piscina @1', task, 3_000, 1],
    ['rt.ping @256', ping, 100_000, 256],
    ['rt.ping @1', ping, 10_000, 1],
  ]
  // Warm-up, unrecorded.
  for (const [, op, total, window] of cases) await closedLoop(op, Math.min(total, 2000), window)
  const results = new Map(cases.map(([name]) => [name, []]))
  const pingMany = []
  const heap0 = process.memoryUsage().heapUsed
  let heapMax = heap0
  const gc0 = { ms: gcMs, n: gcCount }
  let swDomains = 0
  let swGcMs = 0
  for (let r = 0; r < rounds; r++) {
    for (const [name, op, total, window] of cases) {
      const g = gcMs
      results.get(name).push(await closedLoop(op, total, window))
      if (op === sw) {
        swDomains += total
        swGcMs += gcMs - g
      }
      heapMax = Math.max(heapMax, process.memoryUsage().heapUsed)
    }
    const t0 = performance.now()
    await rt.pingMany(0, 200_000, 1024)
    pingMany.push(200_000 / ((performance.now() - t0) / 1000))
  }
  obs.disconnect()
  await pool.destroy()
  await rt.shutdown()

  const alloc = spawnSync(
    process.execPath,
    ['--min-semi-space-size=128', '--max-semi-space-size=128', SELF, '--alloc'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const garbage = JSON.parse(alloc.stdout)

  const med = (name, k) => median(results.get(name).map((x) => x[k]))
  const f = (x, d = 0) => x.toFixed(d)
  console.log(
    `spawn profile: node ${process.version}, ${cores} CPUs, runtime cores ${rt.cores} (default boot), ` +
      `piscina ${rt.cores} threads (atomics async, 16 tasks/worker, recordTiming false); ` +
      `${rounds} interleaved rounds, medians; load average ${f(load0, 2)} -> ${f(loadavg()[0], 2)}`,
  )
  console.log('case               ops/s        p50 us   p99 us')
  for (const [name] of cases) {
    console.log(
      `${name.padEnd(18)} ${f(med(name, 'perSecond')).padStart(9)} ${f(med(name, 'p50'), 1).padStart(10)} ${f(med(name, 'p99'), 1).padStart(8)}`,
    )
  }
  console.log(`rt.pingMany(0, 200000, 1024): ${f(median(pingMany))} pings/s`)
  const r256 = med('spawn+wait @256', 'perSecond') / med('piscina @256', 'perSecond')
  const p1 = med('spawn+wait @1', 'p50') / med('piscina @1', 'p50')
  console.log(
    `ratio spawn+wait/piscina @256: x${f(r256, 2)} (target >= 5)  ` +
      `p50 @1 spawn+wait/piscina: ${f(p1, 3)} (target <= 0.333)`,
  )
  console.log(
    `main-thread garbage per domain (no-GC window): @256 ${garbage.inFlight256 === null ? 'n/a' : f(garbage.inFlight256)} B, ` +
      `@1 ${garbage.inFlight1 === null ? 'n/a' : f(garbage.inFlight1)} B (target < 1024)`,
  )
  console.log(
    `main-thread GC during the spawn cases: ${f((swGcMs / swDomains) * 1000, 2)} us per domain; ` +
      `all rounds: ${gcCount - gc0.n} GCs, ${f(gcMs - gc0.ms, 1)} ms; heapUsed ${f(heap0 / 1e6, 1)} MB -> max ${f(heapMax / 1e6, 1)} MB`,
  )
}

if (process.argv.includes('--alloc')) await allocMode()
else await mainMode()
