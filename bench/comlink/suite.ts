/**
 * The comlink suite (`npm run bench -- comlink [--quick]`): comlink over the rings
 * (multikernel/comlink: a session between the main thread and a domain) against
 * comlink over a MessagePort (comlink's own transport: the main thread and a
 * worker), like for like:
 *
 *   - the same two threads' worth: the main thread calls, one other thread serves
 *     (the domain on a one-core runtime; a worker for the MessagePort);
 *   - the same comlink (this package's dependency), the same object exposed
 *     (api.ts), the same call loop (measure.ts) on a Comlink.wrap proxy;
 *   - the same waiting: both event-driven at their defaults (the session port spins
 *     a little, then sleeps in Atomics.waitAsync; the MessagePort wakes the loop);
 *   - rounds interleaved: each repetition measures the rings and then the port,
 *     with both alive throughout; the figure is the median of the repetitions.
 *
 * Figures: calls/s with 256 in flight (target >= 5x the MessagePort), round-trip
 * p50/p99 with one in flight (target p50 <= 1/3), and a call that passes a
 * callback (Comlink.proxy), which over a port costs a MessageChannel per call and
 * over the rings a sub-channel number on the session.
 */
import { Worker } from 'node:worker_threads'
import { loadavg } from 'node:os'
import * as Comlink from 'comlink'
import { boot, type Runtime, type Session } from '../../src/index.js'
import { installProxyHandler, uninstallProxyHandler, wrapSession } from '../../src/comlink/index.js'
import { cpuSnapshot, othersLoad } from '../lib/cpu.js'
import { finishFigure, stamp, type Figure, type SuiteReport } from '../lib/report.js'
import { median } from '../lib/stats.js'
import type { SuiteContext } from '../lib/suite.js'
import type { BenchApi } from './api.js'
import { loopbackPair } from './loopback.js'
import { benchApi } from './api.js'
import {
  callbackLatency,
  latency,
  rate,
  type LatencyRun,
  type Pinger,
  type Remote,
} from './measure.js'

const IN_FLIGHT = 256

interface Side {
  api: Remote
  close(): Promise<void>
}

/** Open a session of `name`, retrying (bounded) while the domain starts serving. */
async function open(rt: Runtime, name: string): Promise<Session> {
  const t0 = Date.now()
  for (;;) {
    try {
      return await rt.session(name, { label: 'bench' })
    } catch (err) {
      if (Date.now() - t0 > 10_000) throw err
      await new Promise((r) => setTimeout(r, 5))
    }
  }
}

async function ringSide(): Promise<Side & { plain: Pinger }> {
  const rt = await boot({ cores: 1 })
  await rt.spawn(new URL('./server-domain.js', import.meta.url), { core: 0, label: 'bench' })
  const s = await open(rt, 'comlink-bench')
  const p = await open(rt, 'plain-bench')
  return {
    api: wrapSession<BenchApi>(s),
    plain: { ping: (x: number) => p.call('ping', x) as Promise<number> },
    async close() {
      await s.close()
      await p.close()
      await rt.shutdown()
    },
  }
}

function portSide(): Side {
  const { port1, port2 } = new MessageChannel()
  const w = new Worker(new URL('./port-worker.js', import.meta.url), {
    workerData: { port: port2 },
    transferList: [port2],
  })
  return {
    api: Comlink.wrap<BenchApi>(port1 as unknown as Comlink.Endpoint),
    async close() {
      port1.close()
      await w.terminate()
    },
  }
}

/**
 * Transfer handlers are global in comlink: over the port, comlink's own proxy
 * handler (a MessageChannel per callback); over the rings, multikernel's.
 */
async function onRings<T>(body: () => Promise<T>): Promise<T> {
  installProxyHandler()
  return await body()
}

async function onPort<T>(body: () => Promise<T>): Promise<T> {
  uninstallProxyHandler()
  try {
    return await body()
  } finally {
    installProxyHandler()
  }
}

export async function runComlinkSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const quick = ctx.quick
  const say = ctx.progress
  const runs = quick ? 1 : 5
  const n = (full: number, small: number): number => (quick ? small : full)
  const loadAtStart = loadavg()[0]
  const calls = n(200_000, 20_000)
  const latCount = n(20_000, 2_000)
  const cbCount = n(5_000, 500)

  const rates = {
    rings: [] as number[],
    port: [] as number[],
    loop: [] as number[],
    plain: [] as number[],
  }
  const lat = {
    rings: [] as LatencyRun[],
    port: [] as LatencyRun[],
    loop: [] as LatencyRun[],
    plain: [] as LatencyRun[],
  }
  const cb = { rings: [] as LatencyRun[], port: [] as LatencyRun[] }
  let othersMax = 0

  const ring = await ringSide()
  const port = portSide()
  const [callEnd, serveEnd] = loopbackPair()
  Comlink.expose(benchApi, serveEnd)
  const loop = Comlink.wrap<BenchApi>(callEnd)
  try {
    say('warm-up')
    await onRings(async () => {
      await rate(ring.api, calls >> 3, IN_FLIGHT)
      await latency(ring.api, latCount >> 3)
      await callbackLatency(ring.api, cbCount >> 3)
    })
    await onPort(async () => {
      await rate(port.api, calls >> 3, IN_FLIGHT)
      await latency(port.api, latCount >> 3)
      await callbackLatency(port.api, cbCount >> 3)
    })
    await rate(loop, calls >> 3, IN_FLIGHT)
    await latency(loop, latCount >> 3)
    await rate(ring.plain, calls >> 3, IN_FLIGHT)
    await latency(ring.plain, latCount >> 3)
    for (let r = 1; r <= runs; r++) {
      say(`run ${r}/${runs}`)
      await ctx.quiet?.wait()
      const before = cpuSnapshot()
      await onRings(async () => {
        rates.rings.push(await rate(ring.api, calls, IN_FLIGHT))
        lat.rings.push(await latency(ring.api, latCount))
        cb.rings.push(await callbackLatency(ring.api, cbCount))
      })
      await onPort(async () => {
        rates.port.push(await rate(port.api, calls, IN_FLIGHT))
        lat.port.push(await latency(port.api, latCount))
        cb.port.push(await callbackLatency(port.api, cbCount))
      })
      rates.loop.push(await rate(loop, calls, IN_FLIGHT))
      lat.loop.push(await latency(loop, latCount))
      rates.plain.push(await rate(ring.plain, calls, IN_FLIGHT))
      lat.plain.push(await latency(ring.plain, latCount))
      othersMax = Math.max(othersMax, othersLoad(before, cpuSnapshot()))
    }
  } finally {
    await Promise.allSettled([ring.close(), port.close()])
  }

  const group =
    'comlink: main thread -> one other thread (a domain over the rings; a worker over a MessagePort)'
  const compares =
    'the same comlink, the same exposed object and the same call loop on a Comlink.wrap ' +
    'proxy; rings = multikernel/comlink over a session to a domain on a 1-core runtime ' +
    '(default options); messageport = comlink over a MessageChannel port to a worker; ' +
    'both event-driven; repetitions interleaved'
  const med = (rs: LatencyRun[], k: keyof LatencyRun): number => median(rs.map((x) => x[k]))
  const figures: Figure[] = [
    {
      name: `calls/s, ${IN_FLIGHT} in flight (ping(x))`,
      group,
      unit: 'calls/s',
      better: 'higher',
      value: median(rates.rings),
      runs: rates.rings,
      samples: calls,
      compares,
      peers: { messageport: median(rates.port), 'comlink-alone': median(rates.loop) },
      headline: 'messageport',
      target: { op: '>=', value: 5, peer: 'messageport' },
      extra: { sessionCall: median(rates.plain) },
    },
  ]
  for (const k of ['p50', 'p99'] as const) {
    figures.push({
      name: `round trip ${k}, 1 in flight (ping(x))`,
      group,
      unit: 'us',
      better: 'lower',
      value: med(lat.rings, k),
      runs: lat.rings.map((x) => x[k]),
      samples: latCount,
      compares,
      peers: { messageport: med(lat.port, k), 'comlink-alone': med(lat.loop, k) },
      headline: 'messageport',
      // p50 at most a third of the port's: a ratio (port / rings) of at least 3.
      target: k === 'p50' ? { op: '>=', value: 3, peer: 'messageport' } : undefined,
      extra: { mean: med(lat.rings, 'mean'), sessionCall: med(lat.plain, k) },
    })
  }
  figures.push({
    name: 'round trip p50, a call passing a callback (Comlink.proxy), 1 in flight',
    group,
    unit: 'us',
    better: 'lower',
    value: med(cb.rings, 'p50'),
    runs: cb.rings.map((x) => x.p50),
    samples: cbCount,
    compares:
      compares +
      '; the callee calls the callback once and releases it: over the port a ' +
      "MessageChannel per call (comlink's handler), over the rings a sub-channel number",
    peers: { messageport: med(cb.port, 'p50') },
    headline: 'messageport',
    extra: { p99: med(cb.rings, 'p99'), peerP99: med(cb.port, 'p99') },
  })
  for (const f of figures) {
    f.extra = { ...f.extra, othersCpuMax: othersMax }
    finishFigure(stamp(f))
  }
  return {
    figures,
    runs,
    loadavgStart: loadAtStart,
    notes: [
      `${runs} repetition(s), each: rings then MessagePort, ${calls} calls at ${IN_FLIGHT} in flight, ` +
        `${latCount} round trips with 1 in flight, ${cbCount} callback calls`,
      'ratios: calls/s = rings / messageport; latency = messageport / rings (higher is better for both)',
      'comlink-alone = comlink with both halves on the main thread over a loopback endpoint ' +
        '(a microtask per message, no copy, no thread hop): the ceiling comlink itself puts on ' +
        'any transport, not a peer to beat (bench/comlink/loopback.ts)',
      'sessionCall (extra) = the same ping as a plain session method (session.call) to the ' +
        'same domain: the rings without comlink, for scale',
    ],
  }
}
