/**
 * The remote suite (`npm run bench -- remote [--quick]`): a remote core over NATS
 * against bare NATS request/reply, like for like:
 *
 *   - the same broker (one nats-server on 127.0.0.1, started for the suite), the same
 *     two processes: the bench process asks; one other process answers (our
 *     `multikernel node` with one core; the bare peer's responder, which echoes 8
 *     bytes on a subject with the client's defaults);
 *   - the same loops: one at a time (`await rt.ping(core)` against `await
 *     nc.request(subject, 8 bytes)`), and W in flight (rt.pingMany(core, n, W)
 *     against a request loop keeping W outstanding);
 *   - rounds interleaved: each repetition measures the bare peer and then ours, with
 *     both alive throughout; every figure is the median of the repetitions.
 *
 * Figures: ping round trips/s and µs per round trip (target within 1.5x of the bare
 * round trip), pipelined pings at 64 and 256 in flight (target >= 5x the bare loop
 * with as many outstanding: batching is the lever), remote spawn + wait of a trivial
 * domain (ours only: no NATS peer spawns), and session calls from the main thread
 * to a server domain on the remote core (8 bytes echoed), one at a time and 256 in
 * flight, against the same bare request/reply.
 */
import { loadavg } from 'node:os'
import { cpuSnapshot, othersLoad } from '../lib/cpu.js'
import { finishFigure, stamp, type Figure, type SuiteReport } from '../lib/report.js'
import { median, percentileSorted } from '../lib/stats.js'
import type { SuiteContext } from '../lib/suite.js'
import { bareRoundTrips, barePipelined, barePubSub, startBare, type BarePeer } from './bare.js'
import { startBenchBroker, type BenchBroker } from './broker.js'
import {
  NODE_NAME,
  ourPipelined,
  ourRoundTrips,
  openEchoSession,
  ourSessionCalls,
  ourSessionPipelined,
  ourSpawnWait,
  startOurs,
  type OurSide,
} from './ours.js'

const WINDOWS = [64, 256] as const
const SPAWN_WINDOW = 64
const SESSION_WINDOW = 256
const BARE = 'nats-request'
const PUBSUB = 'nats-pubsub'

type Series = Record<string, number[]>

function push(s: Series, key: string, v: number): void {
  ;(s[key] ??= []).push(v)
}

export async function runRemoteSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const quick = ctx.quick
  const say = ctx.progress
  const runs = quick ? 1 : 5
  const n = (full: number, small: number): number => (quick ? small : full)
  const loadAtStart = loadavg()[0]
  const rtCount = n(5_000, 500)
  const pipeCount = n(50_000, 5_000)
  const spawnCount = n(1_000, 100)
  const spawnManyCount = n(10_000, 1_000)
  const sessionCount = n(5_000, 500)

  // Operations per second of every measurement (and round-trip percentiles, µs), by
  // key, one entry per repetition.
  const rate: Series = {}
  let othersMax = 0
  /** The last measurement that finished (for a failure's message). */
  let last = 'none'

  let broker: BenchBroker | null = null
  let bare: BarePeer | null = null
  let ours: OurSide | null = null
  try {
    say('remote: starting the broker, the responder and a node')
    broker = await startBenchBroker()
    bare = await startBare(broker.url)
    ours = await startOurs(broker.url)
    const nc = bare.nc
    const rt = ours.rt
    const session = await openEchoSession(rt)

    const round = async (scale: number, keep: boolean): Promise<void> => {
      const c = (x: number): number => Math.max(1, Math.round(x * scale))
      const record = (key: string, count: number, secs: number): void => {
        last = key
        if (keep) push(rate, key, count / secs)
      }
      // One at a time: the rate, and the p50/p99 of the round trips (µs).
      const lat = new Float64Array(c(rtCount))
      const tails = (key: string): void => {
        lat.sort()
        if (!keep) return
        push(rate, `${key}-p50`, percentileSorted(lat, 50) * 1000)
        push(rate, `${key}-p99`, percentileSorted(lat, 99) * 1000)
      }
      record('bare-rt', c(rtCount), await bareRoundTrips(nc, c(rtCount), lat))
      tails('bare-rt')
      record('pubsub-rt', c(rtCount), await barePubSub(nc, c(rtCount), 1, lat))
      tails('pubsub-rt')
      record('ours-rt', c(rtCount), await ourRoundTrips(rt, c(rtCount), lat))
      tails('ours-rt')
      record('session-rt', c(sessionCount), await ourSessionCalls(session, c(sessionCount), lat))
      tails('session-rt')
      for (const w of WINDOWS) {
        record(`bare-${w}`, c(pipeCount), await barePipelined(nc, c(pipeCount), w))
        record(`pubsub-${w}`, c(pipeCount), await barePubSub(nc, c(pipeCount), w))
        record(`ours-${w}`, c(pipeCount), await ourPipelined(rt, c(pipeCount), w))
      }
      record(
        `session-${SESSION_WINDOW}`,
        c(pipeCount),
        await ourSessionPipelined(session, c(pipeCount), SESSION_WINDOW),
      )
      record('spawn-1', c(spawnCount), await ourSpawnWait(rt, c(spawnCount), 1))
      record(
        `spawn-${SPAWN_WINDOW}`,
        c(spawnManyCount),
        await ourSpawnWait(rt, c(spawnManyCount), SPAWN_WINDOW),
      )
    }

    say('remote: warm-up')
    await round(0.2, false)
    for (let r = 1; r <= runs; r++) {
      say(`remote: run ${r}/${runs}`)
      await ctx.quiet?.wait()
      const before = cpuSnapshot()
      await round(1, true)
      othersMax = Math.max(othersMax, othersLoad(before, cpuSnapshot()))
    }
  } catch (e) {
    // A failed run says what the node said (why it left, what it refused).
    const node = ours?.output().trim()
    throw new Error(
      `${String(e)} (after measurement ${last})${node ? `\nnode ${NODE_NAME} said:\n${node}` : ''}`,
      {
        cause: e,
      },
    )
  } finally {
    await Promise.allSettled([ours?.close(), bare?.close()])
    await broker?.stop()
  }

  const group = 'remote core over NATS (bench process -> broker -> one other process)'
  const compares =
    'the same nats-server on 127.0.0.1, the same two processes (the bench process asks; ' +
    `a multikernel node with one core, or the bare peer's responder, answers); ${BARE} = ` +
    'nc.request of 8 bytes echoed by a subscriber (the client defaults: a shared reply ' +
    `subscription, one publish per request); ${PUBSUB} = the same requests published with a ` +
    'reply subject to one subscription of the requester, each reply publishing the next (no ' +
    'per-request promise or timer); headline = the faster of the two; repetitions interleaved'
  const med = (k: string): number => median(rate[k] ?? [])
  const fig = (f: Figure): Figure => {
    // The headline: the faster bare peer (the peer at its best).
    let head: string | undefined
    for (const [k, v] of Object.entries(f.peers ?? {})) {
      const cur = head === undefined ? NaN : (f.peers as Record<string, number>)[head]
      if (v > 0 && (head === undefined || (f.better === 'higher' ? v > cur : v < cur))) head = k
    }
    if (head !== undefined) f.headline = head
    f.extra = { ...f.extra, othersCpuMax: othersMax }
    return stamp(f)
  }
  const figures: Figure[] = [
    fig({
      name: 'ping round trips/s, 1 in flight (await rt.ping)',
      group,
      unit: 'ops/s',
      better: 'higher',
      value: med('ours-rt'),
      runs: rate['ours-rt'],
      samples: rtCount,
      compares,
      peers: { [BARE]: med('bare-rt'), [PUBSUB]: med('pubsub-rt') },
      // Within 1.5x of the bare round trip: at least 1/1.5 of its rate.
      target: [
        { op: '>=', value: 0.667, peer: BARE },
        { op: '>=', value: 0.667, peer: PUBSUB },
      ],
    }),
    fig({
      name: 'ping round trip, µs per op (mean, 1 in flight)',
      group,
      unit: 'us',
      better: 'lower',
      value: 1e6 / med('ours-rt'),
      runs: rate['ours-rt']?.map((v) => 1e6 / v),
      samples: rtCount,
      compares,
      peers: { [BARE]: 1e6 / med('bare-rt'), [PUBSUB]: 1e6 / med('pubsub-rt') },
    }),
    ...(['p50', 'p99'] as const).map((p) =>
      fig({
        name: `ping round trip ${p}, 1 in flight`,
        group,
        unit: 'us',
        better: 'lower',
        value: med(`ours-rt-${p}`),
        runs: rate[`ours-rt-${p}`],
        samples: rtCount,
        compares,
        peers: { [BARE]: med(`bare-rt-${p}`), [PUBSUB]: med(`pubsub-rt-${p}`) },
        // Within 1.5x of the bare round trip: the peer's time is at least 1/1.5 of ours.
        target:
          p === 'p50'
            ? [
                { op: '>=', value: 0.667, peer: BARE },
                { op: '>=', value: 0.667, peer: PUBSUB },
              ]
            : undefined,
      }),
    ),
    ...WINDOWS.map((w) =>
      fig({
        name: `pings/s, ${w} in flight (rt.pingMany)`,
        group,
        unit: 'ops/s',
        better: 'higher',
        value: med(`ours-${w}`),
        runs: rate[`ours-${w}`],
        samples: pipeCount,
        compares: `${compares}; the bare loop keeps ${w} requests outstanding`,
        peers: { [`${BARE}-${w}`]: med(`bare-${w}`), [`${PUBSUB}-${w}`]: med(`pubsub-${w}`) },
        target: [
          { op: '>=', value: 5, peer: `${BARE}-${w}` },
          { op: '>=', value: 5, peer: `${PUBSUB}-${w}` },
        ],
      }),
    ),
    ...[1, SPAWN_WINDOW].map((w) =>
      fig({
        name: `remote spawn + wait (reaped) of a trivial domain, ${w} in flight`,
        group: 'remote lifecycle (ours only: no NATS peer spawns)',
        unit: 'domains/s',
        better: 'higher',
        value: med(`spawn-${w}`),
        runs: rate[`spawn-${w}`],
        samples: w === 1 ? spawnCount : spawnManyCount,
        note: 'the program path exists on the node host (here the same machine)',
      }),
    ),
  ]
  const sessionGroup =
    'session calls across machines (main thread -> a server domain on the remote core)'
  const sessionCompares = `${compares}; ours = session.call('echo', 8 bytes) to a domain serving on the remote core`
  figures.push(
    fig({
      name: 'session calls/s, 1 in flight',
      group: sessionGroup,
      unit: 'calls/s',
      better: 'higher',
      value: med('session-rt'),
      runs: rate['session-rt'],
      samples: sessionCount,
      compares: sessionCompares,
      peers: { [BARE]: med('bare-rt'), [PUBSUB]: med('pubsub-rt') },
    }),
    ...(['p50', 'p99'] as const).map((p) =>
      fig({
        name: `session call round trip ${p}, 1 in flight`,
        group: sessionGroup,
        unit: 'us',
        better: 'lower',
        value: med(`session-rt-${p}`),
        runs: rate[`session-rt-${p}`],
        samples: sessionCount,
        compares: sessionCompares,
        peers: { [BARE]: med(`bare-rt-${p}`), [PUBSUB]: med(`pubsub-rt-${p}`) },
      }),
    ),
    fig({
      name: `session calls/s, ${SESSION_WINDOW} in flight`,
      group: sessionGroup,
      unit: 'calls/s',
      better: 'higher',
      value: med(`session-${SESSION_WINDOW}`),
      runs: rate[`session-${SESSION_WINDOW}`],
      samples: pipeCount,
      compares: `${sessionCompares}; the bare loop keeps ${SESSION_WINDOW} requests outstanding`,
      peers: {
        [`${BARE}-${SESSION_WINDOW}`]: med(`bare-${SESSION_WINDOW}`),
        [`${PUBSUB}-${SESSION_WINDOW}`]: med(`pubsub-${SESSION_WINDOW}`),
      },
    }),
  )
  return {
    figures: figures.map(finishFigure),
    runs,
    loadavgStart: loadAtStart,
    notes: [
      `counts per repetition: ${rtCount} round trips and ${sessionCount} session calls ` +
        `one at a time, ${pipeCount} pipelined pings or session calls per window, ${spawnCount} spawns one at a time and ${spawnManyCount} at ` +
        `${SPAWN_WINDOW} in flight; a warm-up at a fifth of that first`,
      `targets (issue 15): a ping within 1.5x of a bare round trip (>= 0.667x its rate), ` +
        `pipelined pings >= 5x a bare loop with as many in flight; each is held against both ` +
        `bare peers: ${BARE} (the client's request API, the issue's peer) and ${PUBSUB} (the ` +
        'same wire traffic without per-request bookkeeping, the bare peer at its best)',
      'a runtime with 1 local core joined to one node (`multikernel node --cores 1`); the ' +
        'remote core is core 1; the broker, the node and the responder are child processes ' +
        'of the bench, so othersCpuMax counts them too',
      'session calls: the main thread of the runtime to a domain on the remote core (one ' +
        'session, opened once); node to node sessions (two remote domains) are not measured',
    ],
  }
}
