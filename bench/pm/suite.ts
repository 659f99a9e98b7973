/**
 * The process-manager suite (`npm run bench -- pm [--quick]`): the hot path of the
 * process manager measured end to end through the public API, each figure beside
 * its peers measured in the same process run, in the same repetition:
 *
 *   - ping round trip (process manager -> spawnd -> process manager), p50/p99, with
 *     the core hot (spawnd and the main thread spinning) and asleep (spin 0), beside
 *     a postMessage request/response round trip and a comlink proxy call;
 *   - pipelined pings over every core (rt.pingMany), beside postMessage pipelined
 *     with the same window and piscina;
 *   - trivial domains spawned, exited, waited (and cleaned) per second, beside
 *     piscina running a trivial task per call;
 *   - the main thread's event-loop delay while all of that runs at once, beside the
 *     same delay while piscina and postMessage run at full load.
 *
 * Every figure is the median of `runs` repetitions (after a warm-up); each
 * repetition measures this library and then its peers, so noise on this shared
 * machine falls on both. bench/main.ts prints the table and writes
 * bench/results/pm.json (pm.quick.json for --quick) in the shape documented in
 * bench/lib/report.ts: { suite, quick, node, cpus, cpuModel, platform, date, runs,
 * results: [{ name, group, unit, better, value, runs, peers, ratio, target, extra,
 * note }], notes }.
 */
import { availableParallelism, loadavg } from 'node:os'
import type { BootOptions } from '../../src/index.js'
import { finishFigure, type Figure, type SuiteReport } from '../lib/report.js'
import { median } from '../lib/stats.js'
import {
  comlinkLatency,
  eventLoopDelay,
  idleLoad,
  piscinaLoad,
  piscinaPool,
  piscinaRate,
  pingLatency,
  pingManyRate,
  pmLoad,
  postMessageLatency,
  postMessageLoad,
  postMessagePipelined,
  retainedPerDomain,
  spawnRate,
  withPeers,
  withRuntime,
  type DelayRun,
  type LatencyRun,
} from './measure.js'

export interface PmSuiteOptions {
  quick: boolean
  /** Called with a line of progress (to stderr), so long runs show life. */
  progress?: (line: string) => void
}

/**
 * Latency runs use one core: main thread + one spawnd = one thread per CPU on a
 * 2-CPU machine. Hot: spawnd polls its ring for `spin` iterations (about a
 * millisecond) before it sleeps, and the main thread polls replies for
 * hotSpinMicros after each request.
 */
const HOT: BootOptions = { cores: 1, spin: 100_000, hotSpinMicros: 100 }
/** Asleep: spawnd sleeps in Atomics.wait as soon as its ring is empty. */
const ASLEEP: BootOptions = { cores: 1, spin: 0 }
/** Pipelined pings: requests in flight per core (and per postMessage worker). */
const PING_WINDOW = 1024
/** Spawns in flight across every core; piscina tasks in flight. */
const SPAWN_WINDOW = 256
const PISCINA_WINDOW = 256
/** Event-loop delay load: pings per pingMany call, concurrent spawn loops. */
const LOAD_PING_CHUNK = 8192
const LOAD_SPAWN_LOOPS = 64

export async function runPmSuite(opts: PmSuiteOptions): Promise<SuiteReport> {
  const quick = opts.quick
  const say = opts.progress ?? (() => {})
  const runs = quick ? 1 : 5
  const cores = availableParallelism()
  const n = (full: number, small: number): number => (quick ? small : full)
  const figures: Figure[] = []
  const loadAtStart = loadavg()[0]

  // ------------------------------------------------------------- latency
  const latCount = n(20_000, 2_000)
  const latWarm = n(2_000, 500)
  const hot: LatencyRun[] = []
  const asleep: LatencyRun[] = []
  const pm: LatencyRun[] = []
  const cl: LatencyRun[] = []
  for (let r = 1; r <= runs; r++) {
    say(`ping latency, run ${r}/${runs}`)
    hot.push(await pingLatency(HOT, latCount, latWarm))
    asleep.push(await pingLatency(ASLEEP, latCount, latWarm))
    pm.push(await postMessageLatency(latCount, latWarm))
    cl.push(await comlinkLatency(latCount, latWarm))
  }
  const med = (rs: LatencyRun[], k: 'p50' | 'p99'): number => median(rs.map((x) => x[k]))
  const latGroup = 'ping round trip, process manager -> spawnd -> process manager (1 core)'
  for (const [label, rs, target] of [
    [`core hot (spin ${HOT.spin}, hotSpinMicros ${HOT.hotSpinMicros})`, hot, 1.5],
    ['core asleep (spin 0: Atomics.wait, notify)', asleep, undefined],
  ] as const) {
    for (const k of ['p50', 'p99'] as const) {
      figures.push({
        name: `ping ${k}, ${label}`,
        group: latGroup,
        unit: 'us',
        better: 'lower',
        value: med(rs, k),
        runs: rs.map((x) => x[k]),
        samples: latCount,
        peers: { postMessage: med(pm, k), comlink: med(cl, k) },
        target: k === 'p50' && target !== undefined ? { op: '<=', value: target } : undefined,
        extra: { mean: median(rs.map((x) => x.mean)), max: median(rs.map((x) => x.max)) },
      })
    }
  }
  figures.push({
    name: 'postMessage round trip p50 (peer, for reference)',
    group: latGroup,
    unit: 'us',
    better: 'none',
    value: med(pm, 'p50'),
    runs: pm.map((x) => x.p50),
    extra: { p99: med(pm, 'p99'), comlinkP50: med(cl, 'p50'), comlinkP99: med(cl, 'p99') },
    note: 'postMessage: an echo worker, one message each way; comlink: await proxy.ping(x)',
  })

  // ------------------------------------------------------------ pipelined
  const perCore = n(2_000_000, 100_000)
  const pmPerWorker = n(200_000, 20_000)
  const piscinaTasks = n(20_000, 2_000)
  const pipe: number[] = []
  const pipePm: number[] = []
  const pipePiscina: number[] = []
  await withRuntime({}, async (rt) => {
    const pool = piscinaPool(rt.cores)
    try {
      say('pipelined pings: warm-up')
      await pingManyRate(rt, perCore >> 3, PING_WINDOW)
      await piscinaRate(pool, piscinaTasks >> 3, PISCINA_WINDOW)
      for (let r = 1; r <= runs; r++) {
        say(`pipelined pings, run ${r}/${runs}`)
        pipe.push((await pingManyRate(rt, perCore, PING_WINDOW)).perSecond)
        pipePm.push((await postMessagePipelined(rt.cores, pmPerWorker, PING_WINDOW)).perSecond)
        pipePiscina.push((await piscinaRate(pool, piscinaTasks, PISCINA_WINDOW)).perSecond)
      }
    } finally {
      await pool.destroy()
    }
  })
  figures.push({
    name: `pingMany on all ${cores} cores, window ${PING_WINDOW}`,
    group: `pipelined pings over every core (${cores} spawnds, default boot options)`,
    unit: 'req/s',
    better: 'higher',
    value: median(pipe),
    runs: pipe,
    peers: { postMessage: median(pipePm), piscina: median(pipePiscina) },
    target: { op: '>=', value: 5e6 },
    note:
      `postMessage: ${cores} echo workers, ${PING_WINDOW} messages in flight on each; ` +
      `piscina: ${cores} threads, ${PISCINA_WINDOW} trivial tasks in flight`,
  })

  // --------------------------------------------------------------- spawns
  const domains = n(40_000, 4_000)
  const waited: number[] = []
  const cleaned: number[] = []
  const tasks: number[] = []
  {
    const pool = piscinaPool(cores)
    try {
      await piscinaRate(pool, piscinaTasks >> 3, PISCINA_WINDOW)
      for (let r = 1; r <= runs; r++) {
        say(`trivial domains, run ${r}/${runs}`)
        // A fresh runtime per run: the domain table keeps every CLEANED entry (for
        // later waits), so one runtime over every run would measure a growing heap.
        const s = await withRuntime({}, async (rt) => {
          await spawnRate(rt, domains >> 3, SPAWN_WINDOW)
          return spawnRate(rt, domains, SPAWN_WINDOW)
        })
        waited.push(s.waited.perSecond)
        cleaned.push(s.cleaned.perSecond)
        tasks.push((await piscinaRate(pool, piscinaTasks, PISCINA_WINDOW)).perSecond)
      }
    } finally {
      await pool.destroy()
    }
  }
  say('heap kept per domain')
  const retained = await withRuntime({}, (rt) =>
    retainedPerDomain(rt, n(20_000, 2_000), SPAWN_WINDOW),
  )
  const spawnGroup = `trivial domains (main returns 0), ${SPAWN_WINDOW} in flight over ${cores} cores`
  figures.push(
    {
      name: 'domains spawned, exited and waited',
      group: spawnGroup,
      unit: 'domains/s',
      better: 'higher',
      value: median(waited),
      runs: waited,
      peers: { piscina: median(tasks) },
      target: { op: '>=', value: 10, peer: 'piscina' },
      note:
        `done when wait() resolved; ${domains} domains per run; piscina: ${cores} threads, ` +
        `piscina.run() of a task returning its argument, ${PISCINA_WINDOW} in flight`,
    },
    {
      name: 'domains spawned, exited, waited and CLEANED',
      group: spawnGroup,
      unit: 'domains/s',
      better: 'higher',
      value: median(cleaned),
      runs: cleaned,
      peers: { piscina: median(tasks) },
      note: 'the same runs, timed until the last of the domains is CLEANED',
    },
    {
      name: 'main-thread heap kept per reaped domain',
      group: spawnGroup,
      unit: 'bytes',
      better: 'none',
      value: retained,
      note:
        'heapUsed after a full GC, before and after the domains ran, over their count; the ' +
        'domains are waited with { reap: true }, so about 0 means nothing is left behind',
    },
  )

  // ------------------------------------------------------ event-loop delay
  const eldMs = n(2_000, 700)
  const eldWarm = n(500, 200)
  for (const eldCores of cores > 1 ? [cores, 1] : [cores]) {
    const full: DelayRun[] = []
    const pingsOnly: DelayRun[] = []
    const spawnsOnly: DelayRun[] = []
    const pis: DelayRun[] = []
    const post: DelayRun[] = []
    const idle: DelayRun[] = []
    const coresText = `${eldCores} core${eldCores > 1 ? 's' : ''}`
    for (let r = 1; r <= runs; r++) {
      say(`event-loop delay (${coresText}), run ${r}/${runs}`)
      await withRuntime({ cores: eldCores }, async (rt) => {
        full.push(
          await eventLoopDelay(
            eldMs,
            eldWarm,
            pmLoad(rt, LOAD_PING_CHUNK, PING_WINDOW, LOAD_SPAWN_LOOPS),
          ),
        )
        pingsOnly.push(
          await eventLoopDelay(eldMs, eldWarm, pmLoad(rt, LOAD_PING_CHUNK, PING_WINDOW, 0)),
        )
        spawnsOnly.push(
          await eventLoopDelay(eldMs, eldWarm, pmLoad(rt, 0, PING_WINDOW, LOAD_SPAWN_LOOPS)),
        )
      })
      const pool = piscinaPool(eldCores)
      try {
        pis.push(await eventLoopDelay(eldMs, eldWarm, piscinaLoad(pool, PISCINA_WINDOW)))
      } finally {
        await pool.destroy()
      }
      post.push(
        await withPeers('echo', eldCores, (ws) =>
          eventLoopDelay(eldMs, eldWarm, postMessageLoad(ws, PING_WINDOW)),
        ),
      )
      idle.push(await eventLoopDelay(eldMs, 0, idleLoad))
    }
    const m = (rs: DelayRun[], k: 'p50' | 'p99' | 'max'): number => median(rs.map((x) => x[k]))
    const rate = (rs: DelayRun[], k: string): number => median(rs.map((x) => x.load[k] ?? 0))
    const group =
      `main-thread event-loop delay under full load, ${coresText} ` +
      `(main + ${eldCores} spawnd thread${eldCores > 1 ? 's' : ''} on ${cores} cpus)`
    for (const k of ['p50', 'p99', 'max'] as const) {
      figures.push({
        name: `event-loop delay ${k}, pings + spawns, ${coresText}`,
        group,
        unit: 'ms',
        better: 'lower',
        value: m(full, k),
        runs: full.map((x) => x[k]),
        peers: { 'piscina-load': m(pis, k), 'postMessage-load': m(post, k) },
        target: k === 'p99' ? { op: '<=', value: 1 } : undefined,
        extra: {
          pingsOnly: m(pingsOnly, k),
          spawnsOnly: m(spawnsOnly, k),
          idle: m(idle, k),
          ...(k === 'p50'
            ? {
                pingsPerSecond: rate(full, 'pings'),
                domainsPerSecond: rate(full, 'domains'),
                pingsOnlyPerSecond: rate(pingsOnly, 'pings'),
                spawnsOnlyPerSecond: rate(spawnsOnly, 'domains'),
                piscinaTasksPerSecond: rate(pis, 'tasks'),
                postMessagesPerSecond: rate(post, 'messages'),
              }
            : {}),
        },
        note:
          k === 'p50'
            ? `load: pingMany(${LOAD_PING_CHUNK}, window ${PING_WINDOW}) in a loop on every ` +
              `core + ${LOAD_SPAWN_LOOPS} spawn/wait loops of the trivial domain, ${eldMs} ms ` +
              `after ${eldWarm} ms of warm-up; extra: the same with only the pings, only the ` +
              `spawns, and idle; peers: piscina with ${PISCINA_WINDOW} trivial tasks in flight, ` +
              `${eldCores} echo workers with ${PING_WINDOW} messages in flight each`
            : undefined,
      })
    }
  }

  return {
    figures: figures.map(finishFigure),
    runs,
    notes: [
      'every figure is the median over runs; each run measures this library, then its peers',
      'latency: performance.now() around each await, sorted; p50/p99 nearest-rank per run',
      'event-loop delay: perf_hooks.monitorEventLoopDelay({ resolution: 1 }); Node 20 records ' +
        'the whole timer interval, so the 1 ms resolution is subtracted from every percentile; ' +
        'a stall is one sample however long it lasts, so p99 understates stalls (nodejs/node#34661)',
      `ratio = times better than the peer (value/peer for rates, peer/value for times)`,
      `1-minute load average of the machine: ${loadAtStart.toFixed(2)} at the start, ` +
        `${loadavg()[0].toFixed(2)} at the end (${cores} cpus; other work shares them)`,
      `${cores} cpus: with ${cores} spawnds the main thread and the spawnds are ${cores + 1} ` +
        `threads on ${cores} cpus; the latency runs use 1 core for that reason`,
    ],
  }
}
