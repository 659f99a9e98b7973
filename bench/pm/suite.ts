/**
 * The process-manager suite (`npm run bench -- pm [--quick]`): the hot path of the
 * process manager measured end to end through the public API, each figure beside
 * its peers measured in the same process run, in the same repetition, like for like:
 *
 *   - ping round trip on one core: at the default boot options and asleep (spin 0)
 *     beside event-driven postMessage and comlink; with the core hot (both sides
 *     polling) beside postMessage polled with receiveMessageOnPort and the bare
 *     Atomics hand-off;
 *   - per-call pings (rt.ping, 256 in flight) beside per-task piscina (256 in flight),
 *     piscina both with its defaults and tuned; the batch API (rt.pingMany) apart;
 *   - trivial domains spawned and waited (reaped) at 256 and at 1 in flight beside
 *     piscina's trivial tasks, defaults and tuned; main-thread bytes allocated and
 *     kept per domain;
 *   - the main thread's event-loop delay with 256 operations in flight for every
 *     contender: spawns against piscina tasks, per-call pings against postMessages,
 *     with every core and with one.
 *
 * Every figure is the median of `runs` repetitions (after a warm-up); each
 * repetition measures this library and then its peers, so noise on this shared
 * machine falls on both; full runs wait (bounded) for a quiet machine before each
 * repetition and record the load. bench/main.ts prints the table and writes
 * bench/results/pm.json in the shape documented in bench/lib/report.ts.
 */
import { availableParallelism, loadavg } from 'node:os'
import type { BootOptions } from '../../src/index.js'
import { finishFigure, type Figure, type SuiteReport } from '../lib/report.js'
import { median } from '../lib/stats.js'
import type { SuiteContext } from '../lib/suite.js'
import { best, IN_FLIGHT, PISCINA, piscinaText, Recorder, withPools } from './common.js'
import { eventLoopFigures } from './eld_figures.js'
import {
  atomicsLatency,
  comlinkLatency,
  pingLatency,
  pollLatency,
  postMessageLatency,
  withRuntime,
  type LatencyRun,
} from './measure.js'
import {
  memoryPerDomain,
  piscinaLatency,
  piscinaRate,
  pingManyRate,
  pingRate,
  spawnLatency,
  spawnRate,
} from './rates.js'

/**
 * Latency runs use one core: main thread + one spawnd = one thread per CPU on a
 * 2-CPU machine. Hot: the spawnd polls its ring for `spin` iterations (about a
 * millisecond) before it sleeps, and the main thread polls replies for
 * hotSpinMicros after each request: a polling configuration.
 */
const HOT: BootOptions = { cores: 1, spin: 100_000, hotSpinMicros: 100 }
/** Asleep: nobody spins; the spawnd sleeps in Atomics.wait as soon as its ring is empty. */
const ASLEEP: BootOptions = { cores: 1, spin: 0, hotSpinMicros: 0 }
/** The default boot options on one core. */
const DEFAULT: BootOptions = { cores: 1 }
/** The batch API's window per core. */
const PING_MANY_WINDOW = 1024

export async function runPmSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const quick = ctx.quick
  const say = ctx.progress
  const runs = quick ? 1 : 5
  const cores = availableParallelism()
  const n = (full: number, small: number): number => (quick ? small : full)
  const loadAtStart = loadavg()[0]
  const rec = new Recorder(ctx.quiet)
  const add = (...fs: Figure[]): void => rec.add(...fs)
  const repetition = <T>(body: () => Promise<T>): Promise<T> => rec.repetition(body)

  // ------------------------------------------------------------- latency
  rec.group()
  const latCount = n(20_000, 2_000)
  const latWarm = n(2_000, 500)
  const lat: Record<string, LatencyRun[]> = {
    default: [],
    asleep: [],
    hot: [],
    postMessage: [],
    comlink: [],
    poll: [],
    bare: [],
  }
  for (let r = 1; r <= runs; r++) {
    say(`ping latency, run ${r}/${runs}`)
    await repetition(async () => {
      lat.default.push(await pingLatency(DEFAULT, latCount, latWarm))
      lat.asleep.push(await pingLatency(ASLEEP, latCount, latWarm))
      lat.postMessage.push(await postMessageLatency(latCount, latWarm))
      lat.comlink.push(await comlinkLatency(latCount, latWarm))
      lat.hot.push(await pingLatency(HOT, latCount, latWarm))
      lat.poll.push(await pollLatency(latCount, latWarm))
      lat.bare.push(await atomicsLatency(latCount, latWarm))
    })
  }
  const med = (rs: LatencyRun[], k: 'p50' | 'p99' | 'mean' | 'max'): number =>
    median(rs.map((x) => x[k]))
  const latGroup = 'ping round trip, process manager -> spawnd -> process manager (1 core)'
  const eventDriven = { postMessage: lat.postMessage, comlink: lat.comlink }
  for (const [label, rs, peers, compares, target] of [
    [
      'default boot options',
      lat.default,
      eventDriven,
      'the runtime at its default boot options (the spawnd spins a little, then sleeps) ' +
        'against event-driven peers: postMessage to an echo worker, comlink await proxy.ping(x)',
      undefined,
    ],
    [
      'core asleep (spin 0, hotSpinMicros 0)',
      lat.asleep,
      eventDriven,
      'nobody spins: the spawnd sleeps in Atomics.wait and the main thread waits ' +
        'asynchronously, against event-driven postMessage and comlink',
      undefined,
    ],
    [
      `core hot (spin ${HOT.spin}, hotSpinMicros ${HOT.hotSpinMicros})`,
      lat.hot,
      { 'postMessage-poll': lat.poll, bare: lat.bare },
      'both sides poll: against postMessage with both sides polling receiveMessageOnPort, ' +
        'and the bare Atomics hand-off (one word each way, both spinning: the limit)',
      1.5,
    ],
  ] as const) {
    for (const k of ['p50', 'p99'] as const) {
      const pv: Record<string, number> = {}
      for (const [name, prs] of Object.entries(peers)) pv[name] = med(prs, k)
      add({
        name: `ping ${k}, ${label}`,
        group: latGroup,
        unit: 'us',
        better: 'lower',
        value: med(rs, k),
        runs: rs.map((x) => x[k]),
        samples: latCount,
        compares,
        peers: pv,
        target: k === 'p50' && target !== undefined ? { op: '<=', value: target } : undefined,
        extra: { mean: med(rs, 'mean'), max: med(rs, 'max') },
      })
    }
  }

  // ------------------------------------------------------ per-call throughput
  rec.group()
  const pings = n(200_000, 20_000)
  const tasks = n(20_000, 2_000)
  const perCore = n(2_000_000, 100_000)
  const callRates: Record<string, number[]> = { ping: [], defaults: [], tuned: [], many: [] }
  await withRuntime({}, (rt) =>
    withPools(rt.cores, async (pools) => {
      say('per-call pings and piscina tasks: warm-up')
      await pingRate(rt, pings >> 3, IN_FLIGHT)
      await pingManyRate(rt, perCore >> 3, PING_MANY_WINDOW)
      for (const c of PISCINA) await piscinaRate(pools[c], tasks >> 3, IN_FLIGHT)
      for (let r = 1; r <= runs; r++) {
        say(`per-call pings and piscina tasks, run ${r}/${runs}`)
        await repetition(async () => {
          callRates.ping.push((await pingRate(rt, pings, IN_FLIGHT)).perSecond)
          for (const c of PISCINA)
            callRates[c].push((await piscinaRate(pools[c], tasks, IN_FLIGHT)).perSecond)
          callRates.many.push((await pingManyRate(rt, perCore, PING_MANY_WINDOW)).perSecond)
        })
      }
    }),
  )
  const callGroup = `per-call requests over every core (${cores} spawnds, default boot options)`
  add(
    best({
      name: `rt.ping per call, ${IN_FLIGHT} in flight over ${cores} cores`,
      group: callGroup,
      unit: 'req/s',
      better: 'higher',
      value: median(callRates.ping),
      runs: callRates.ping,
      compares:
        `one promise per request on both sides, ${IN_FLIGHT} in flight: rt.ping round-robin ` +
        `over the cores against piscina.run of a task returning its argument on ${cores} ` +
        `threads; ${piscinaText}`,
      peers: {
        'piscina-defaults': median(callRates.defaults),
        'piscina-tuned': median(callRates.tuned),
      },
    }),
    {
      name: `rt.pingMany (batch API), window ${PING_MANY_WINDOW} per core`,
      group: callGroup,
      unit: 'req/s',
      better: 'higher',
      value: median(callRates.many),
      runs: callRates.many,
      compares:
        'no ratio: the batch API makes one promise per batch, and no per-call peer does ' +
        'the same work',
      target: { op: '>=', value: 5e6 },
    },
  )

  // --------------------------------------------------------------- spawns
  rec.group()
  const domains = n(40_000, 4_000)
  const oneCount = n(5_000, 500)
  const oneWarm = n(500, 100)
  const sp: Record<string, number[]> = { waited: [], cleaned: [], defaults: [], tuned: [] }
  const one: Record<string, LatencyRun[]> = { domain: [], defaults: [], tuned: [] }
  await withPools(cores, async (pools) => {
    for (const c of PISCINA) await piscinaRate(pools[c], tasks >> 3, IN_FLIGHT)
    for (let r = 1; r <= runs; r++) {
      say(`trivial domains, run ${r}/${runs}`)
      await repetition(async () => {
        // A fresh runtime per run, so every run starts from the same heap.
        await withRuntime({}, async (rt) => {
          await spawnRate(rt, domains >> 3, IN_FLIGHT)
          const s = await spawnRate(rt, domains, IN_FLIGHT)
          sp.waited.push(s.waited.perSecond)
          sp.cleaned.push(s.cleaned.perSecond)
          one.domain.push(await spawnLatency(rt, oneCount, oneWarm))
        })
        for (const c of PISCINA) {
          sp[c].push((await piscinaRate(pools[c], tasks, IN_FLIGHT)).perSecond)
          one[c].push(await piscinaLatency(pools[c], oneCount, oneWarm))
        }
      })
    }
  })
  say('main-thread bytes allocated and kept per domain')
  const mem = await withRuntime({}, (rt) => memoryPerDomain(rt, n(20_000, 2_000), IN_FLIGHT))
  const spawnGroup = `trivial domains (main returns 0) over ${cores} cores, default boot options`
  const spawnCompares =
    `spawn + wait({ reap: true }) of a domain whose main returns 0, against piscina.run of a ` +
    `task returning its argument on ${cores} threads, ${IN_FLIGHT} in flight each; ${piscinaText}`
  const oneCompares = (k: string): string =>
    `${k} of spawn + wait({ reap: true }), one domain at a time, against piscina.run one ` +
    `task at a time; ${piscinaText}`
  const piscinaPeers = (d: number[], t: number[]): Record<string, number> => ({
    'piscina-defaults': median(d),
    'piscina-tuned': median(t),
  })
  add(
    best({
      name: `domains spawned, exited and waited (reaped), ${IN_FLIGHT} in flight`,
      group: spawnGroup,
      unit: 'domains/s',
      better: 'higher',
      value: median(sp.waited),
      runs: sp.waited,
      compares: spawnCompares,
      peers: piscinaPeers(sp.defaults, sp.tuned),
      target: { op: '>=', value: 5, peer: 'piscina-tuned' },
      note: `done when wait() resolved; ${domains} domains per run`,
    }),
    best({
      name: `domains spawned, exited, waited and CLEANED, ${IN_FLIGHT} in flight`,
      group: spawnGroup,
      unit: 'domains/s',
      better: 'higher',
      value: median(sp.cleaned),
      runs: sp.cleaned,
      compares: spawnCompares,
      peers: piscinaPeers(sp.defaults, sp.tuned),
      note: 'the same runs, timed until the last of the domains is CLEANED',
    }),
  )
  for (const k of ['p50', 'p99'] as const) {
    add(
      best({
        name: `spawn + wait ${k}, 1 in flight`,
        group: spawnGroup,
        unit: 'us',
        better: 'lower',
        value: med(one.domain, k),
        runs: one.domain.map((x) => x[k]),
        samples: oneCount,
        compares: oneCompares(k),
        peers: { 'piscina-defaults': med(one.defaults, k), 'piscina-tuned': med(one.tuned, k) },
        target: k === 'p50' ? { op: '>=', value: 3, peer: 'piscina-tuned' } : undefined,
      }),
    )
  }
  add(
    {
      name: 'main-thread bytes allocated per domain',
      group: spawnGroup,
      unit: 'bytes',
      better: 'lower',
      value: mem.allocated,
      compares: 'no peer: measured on the main thread alone (v8.GCProfiler)',
      target: { op: '<=', value: 1024 },
      extra: { gcsPerThousandDomains: mem.gcsPerThousand },
      note:
        `${IN_FLIGHT} in flight; the used heap's growth plus what every collection in ` +
        `between freed, over the count`,
    },
    {
      name: 'main-thread heap kept per reaped domain',
      group: spawnGroup,
      unit: 'bytes',
      better: 'none',
      value: mem.retained,
      note:
        'heapUsed after a full GC, before and after the domains ran, over their count; the ' +
        'domains are waited with { reap: true }, so about 0 means nothing is left behind',
    },
  )

  await eventLoopFigures(rec, { runs, cores, quick, say })

  return {
    figures: rec.figures.map(finishFigure),
    runs,
    loadavgStart: loadAtStart,
    notes: [
      'like for like: per-call against per-call with the same number in flight, polling ' +
        'against polling (and the bare Atomics limit), event-driven against event-driven; ' +
        'piscina both with its defaults and tuned, the headline (*) against the better; each ' +
        'figure says what it compares',
      'every figure is the median over runs; each run measures this library, then its peers; ' +
        'full runs wait (bounded) for other processes to leave the CPUs before each run; ' +
        'othersCpuMax = most CPUs other processes took during one run of the group; loadavg = ' +
        'the 1-minute load average when the figure was measured',
      'latency: performance.now() around each await, sorted; p50/p99 nearest-rank per run',
      'event-loop delay: perf_hooks.monitorEventLoopDelay({ resolution: 1 }); Node 20 records ' +
        'the whole timer interval, so the 1 ms resolution is subtracted from every percentile; ' +
        'a stall is one sample however long it lasts, so p99 understates stalls (nodejs/node#34661)',
      `ratio = times better than the peer (value/peer for rates, peer/value for times)`,
      `${cores} cpus: with ${cores} spawnds the main thread and the spawnds are ${cores + 1} ` +
        `threads on ${cores} cpus; the latency runs use 1 core for that reason`,
    ],
  }
}
