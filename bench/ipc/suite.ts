/**
 * The ipc suite (`npm run bench -- ipc`): a session's data plane (SessionPort over a
 * ring channel, pair.ts) between two worker_threads, and with the main thread as
 * client, beside its peers measured in the same run, like for like:
 *
 * - RPC, one call in flight, event-driven at the default options: against a
 *   postMessage echo between two workers and against comlink over a MessagePort;
 *   back to back with the ends kept warm (a spin that outlasts the gap between
 *   calls) against a polling peer (receiveMessageOnPort on both sides).
 * - Pipelined calls, 256 in flight: calls/s against comlink and a postMessage echo.
 * - One-way streaming, small values and 64-byte messages, 64 per publish against 64
 *   per postMessage.
 * - Bytes allocated per call (one call in flight, after a full GC) and GCs on the
 *   byte-streaming path.
 */
import { loadavg } from 'node:os'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { finishFigure, stamp, type Figure, type SuiteReport } from '../lib/report.js'
import type { RoundData } from '../lib/rounds.js'
import { median } from '../lib/stats.js'
import type { SuiteContext } from '../lib/suite.js'
import { interleave, startedRound, type Contender } from './interleave.js'
import { openPair } from './pair.js'
import { latency, pipelined, rpcClient, type Caller } from './rpc.js'
import { boot } from '../../src/index.js'
import type { RpcImpl, RpcMode, RpcTask, StreamImpl, StreamKind, StreamTask } from './tasks.js'

/** Ring bytes each way of an RPC session and of a streaming one. */
const RPC_CAPACITY = 1 << 16
const STREAM_CAPACITY = 1 << 18
/** Spin of the "warm" figures: outlasts the gap between back-to-back calls. */
const WARM_SPIN = 1 << 16
const INFLIGHT = 256
const BATCH = 64
const PM_WINDOW = 64

type Cleanup = () => void

export async function runIpcSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const quick = ctx.quick
  const say = ctx.progress
  const loadavgStart = loadavg()[0]
  const runs = quick ? 1 : 5
  const n = (full: number): number =>
    Math.max(1024, Math.round((full * (quick ? 1 / 16 : 1)) / 256) * 256)
  const figures: Figure[] = []
  const add = (...fs: Figure[]): void => {
    for (const f of fs) figures.push(stamp(f))
  }
  const cleanups: Cleanup[] = []

  function rpc(
    impl: RpcImpl,
    mode: RpcMode,
    count: number,
    opts: { spin?: number; mainClient?: boolean } = {},
  ): Contender {
    const base = { kind: 'rpc' as const, impl, mode, count, inflight: INFLIGHT, spin: opts.spin }
    let client: RpcTask
    let server: RpcTask
    let clientPort: MessagePort | undefined
    const serverTransfers: MessagePort[] = []
    if (impl === 'port') {
      const pair = openPair(RPC_CAPACITY)
      client = { ...base, side: 'client', end: pair.client }
      server = { ...base, side: 'server', end: pair.server }
    } else {
      const { port1, port2 } = new MessageChannel()
      clientPort = port1
      client = { ...base, side: 'client', port: port1 }
      server = { ...base, side: 'server', port: port2 }
      serverTransfers.push(port2)
    }
    if (opts.mainClient !== true) {
      return {
        tasks: [client, server],
        transfers: [clientPort ? [clientPort] : [], serverTransfers],
      }
    }
    const started = new SharedArrayBuffer(4)
    server.started = started
    const word = new Int32Array(started)
    const fn = rpcClient(client)
    if (clientPort) cleanups.push(() => clientPort.close())
    return {
      tasks: [server],
      transfers: [serverTransfers],
      main: async (round) => {
        await startedRound(word, round)
        return fn(round)
      },
    }
  }

  function stream(impl: StreamImpl, what: StreamKind, count: number): Contender {
    const base = { kind: 'stream' as const, impl, what, count, batch: BATCH, window: PM_WINDOW }
    if (impl === 'port') {
      const pair = openPair(STREAM_CAPACITY)
      const source: StreamTask = { ...base, side: 'source', end: pair.client }
      const sink: StreamTask = { ...base, side: 'sink', end: pair.server }
      return { tasks: [source, sink] }
    }
    const { port1, port2 } = new MessageChannel()
    const credit = new SharedArrayBuffer(4)
    return {
      tasks: [
        { ...base, side: 'source', port: port1, credit },
        { ...base, side: 'sink', port: port2, credit },
      ],
      transfers: [[port1], [port2]],
    }
  }

  const col = (rounds: RoundData[][], w: number, key: string): number[] =>
    rounds.map((r) => r[w][key] ?? NaN)
  const checkClean = (rounds: RoundData[][], what: string): void => {
    for (const r of rounds)
      for (const d of r) if ((d.bad ?? 0) !== 0) throw new Error(`${what}: ${d.bad} bad answers`)
  }

  try {
    // ------------------------------------------------------------- RPC latency
    for (const mainClient of [false, true]) {
      const where = mainClient ? 'main thread -> worker' : '2 workers'
      say(`RPC, one call in flight (${where}): port, postMessage echo, comlink; warm vs polling`)
      const count = n(20_000)
      const [ev, pm, cl, warm, poll] = await interleave(
        [
          rpc('port', 'latency', count, { mainClient }),
          rpc('postMessage', 'latency', count, { mainClient }),
          rpc('comlink', 'latency', n(10_000), { mainClient }),
          rpc('port', 'latency', count, { mainClient, spin: WARM_SPIN }),
          rpc('poll', 'latency', count, { mainClient }),
        ],
        runs,
        ctx.quiet,
      )
      for (const [m, what] of [
        [ev, 'port'],
        [pm, 'postMessage'],
        [cl, 'comlink'],
        [warm, 'warm port'],
        [poll, 'poll'],
      ] as const) {
        checkClean(m, what)
      }
      const group = `RPC, one call in flight (${where})`
      for (const k of ['p50', 'p99'] as const) {
        add({
          name: `RPC ${k}, event-driven, default options (${where})`,
          group,
          unit: 'us',
          better: 'lower',
          value: median(col(ev, 0, k)),
          runs: col(ev, 0, k),
          compares:
            'one call in flight, a small integer each way, both ends event-driven at their ' +
            'defaults: SessionPort call vs a postMessage echo worker vs comlink over a MessagePort',
          peers: { postMessage: median(col(pm, 0, k)), comlink: median(col(cl, 0, k)) },
          target: k === 'p50' ? { op: '>=', value: 10, peer: 'comlink' } : undefined,
        })
        add({
          name: `RPC ${k}, back to back, warm (${where})`,
          group,
          unit: 'us',
          better: 'lower',
          value: median(col(warm, 0, k)),
          runs: col(warm, 0, k),
          compares:
            `calls back to back, both ports spinning ${WARM_SPIN} checks before a sleep (kept ` +
            'warm by the traffic) vs postMessage with both sides polling receiveMessageOnPort',
          peers: { 'postMessage-poll': median(col(poll, 0, k)) },
          target: k === 'p50' ? { op: '<=', value: 3 } : undefined,
        })
      }

      // ---------------------------------------------------------- pipelined
      say(`RPC, ${INFLIGHT} in flight (${where}): port, comlink, postMessage echo`)
      const [pp, pc, ppm] = await interleave(
        [
          rpc('port', 'pipelined', n(200_000), { mainClient }),
          rpc('comlink', 'pipelined', n(40_000), { mainClient }),
          rpc('postMessage', 'pipelined', n(100_000), { mainClient }),
        ],
        runs,
        ctx.quiet,
      )
      checkClean(pp, 'port pipelined')
      add({
        name: `RPC pipelined, ${INFLIGHT} in flight (${where})`,
        group: `RPC pipelined (${where})`,
        unit: 'calls/s',
        better: 'higher',
        value: median(col(pp, 0, 'rate')),
        runs: col(pp, 0, 'rate'),
        compares: `${INFLIGHT} calls in flight, each lane calling again as its call resolves, event-driven defaults`,
        peers: { comlink: median(col(pc, 0, 'rate')), postMessage: median(col(ppm, 0, 'rate')) },
        target: [
          { op: '>=', value: 1_000_000 },
          { op: '>=', value: 10, peer: 'comlink' },
        ],
      })
    }

    // ------------------------------------- a real session: main thread -> domain
    say('RPC over a real session: the main thread (rt.session) -> a server domain on a core')
    const rt = await boot({ cores: 2 })
    try {
      await rt.services.up('echo', new URL('./echo-domain.js', import.meta.url), {
        initTimeoutMs: 10_000,
      })
      const session = await rt.session('echo', { label: 'bench' })
      const call: Caller = (v) => session.call('echo', v) as Promise<number>
      const mainClient = true
      const [dl, dpm, dcl, dp, dpc] = await interleave(
        [
          { tasks: [], main: () => latency(call, n(20_000)) },
          rpc('postMessage', 'latency', n(20_000), { mainClient }),
          rpc('comlink', 'latency', n(10_000), { mainClient }),
          { tasks: [], main: () => pipelined(call, n(200_000), INFLIGHT) },
          rpc('comlink', 'pipelined', n(40_000), { mainClient }),
        ],
        runs,
        ctx.quiet,
      )
      checkClean(dl, 'domain latency')
      checkClean(dp, 'domain pipelined')
      const group = 'RPC over a real session (main thread -> a domain, rt.session)'
      for (const k of ['p50', 'p99'] as const) {
        add({
          name: `RPC ${k}, event-driven, rt.session -> domain`,
          group,
          unit: 'us',
          better: 'lower',
          value: median(col(dl, 0, k)),
          runs: col(dl, 0, k),
          compares:
            'one call in flight, event-driven defaults: session.call through a session ' +
            'opened by the process manager vs a postMessage echo worker vs comlink over a ' +
            'MessagePort (the main thread as client in all three)',
          peers: { postMessage: median(col(dpm, 0, k)), comlink: median(col(dcl, 0, k)) },
          target: k === 'p50' ? { op: '>=', value: 10, peer: 'comlink' } : undefined,
          note:
            'a session opened through the process manager to a supervised domain on a ' +
            'spawnd (its event loop shared with the spawnd)',
        })
      }
      add({
        name: `RPC pipelined, ${INFLIGHT} in flight, rt.session -> domain`,
        group,
        unit: 'calls/s',
        better: 'higher',
        value: median(col(dp, 0, 'rate')),
        runs: col(dp, 0, 'rate'),
        compares: `${INFLIGHT} calls in flight from the main thread, event-driven defaults`,
        peers: { comlink: median(col(dpc, 0, 'rate')) },
        target: [
          { op: '>=', value: 1_000_000 },
          { op: '>=', value: 10, peer: 'comlink' },
        ],
      })
      // ----------------------------------- a real session: domain -> domain
      // The client on the other core than the server's: two cores, not one shared loop.
      const echoCore = rt.status(rt.services.lookup('echo')!.domain!).cores[0]
      say(
        `RPC between domains: a client domain on core ${1 - echoCore} -> the server on core ${echoCore}`,
      )
      await rt.services.up('bench-client', new URL('./client-domain.js', import.meta.url), {
        core: 1 - echoCore,
        initTimeoutMs: 10_000,
      })
      const driver = await rt.session('bench-client')
      const run = (mode: 'latency' | 'pipelined', count: number): Promise<RoundData> =>
        driver.call('run', { mode, count, inflight: INFLIGHT }) as Promise<RoundData>
      const [el, epm, ecl, ep, epc] = await interleave(
        [
          { tasks: [], main: () => run('latency', n(20_000)) },
          rpc('postMessage', 'latency', n(20_000)),
          rpc('comlink', 'latency', n(10_000)),
          { tasks: [], main: () => run('pipelined', n(200_000)) },
          rpc('comlink', 'pipelined', n(40_000)),
        ],
        runs,
        ctx.quiet,
      )
      checkClean(el, 'domain-domain latency')
      checkClean(ep, 'domain-domain pipelined')
      const dgroup = 'RPC between domains on two cores (ctx.session)'
      for (const k of ['p50', 'p99'] as const) {
        add({
          name: `RPC ${k}, event-driven, domain -> domain`,
          group: dgroup,
          unit: 'us',
          better: 'lower',
          value: median(col(el, 0, k)),
          runs: col(el, 0, k),
          compares:
            'one call in flight, event-driven defaults: a client domain calling a server ' +
            'domain on the other core vs a postMessage echo between two workers vs comlink ' +
            'over a MessagePort between two workers',
          peers: { postMessage: median(col(epm, 0, k)), comlink: median(col(ecl, 0, k)) },
          target: k === 'p50' ? { op: '>=', value: 10, peer: 'comlink' } : undefined,
          note: 'both ends on spawnds: their event loops shared with the spawnd loops',
        })
      }
      add({
        name: `RPC pipelined, ${INFLIGHT} in flight, domain -> domain`,
        group: dgroup,
        unit: 'calls/s',
        better: 'higher',
        value: median(col(ep, 0, 'rate')),
        runs: col(ep, 0, 'rate'),
        compares: `${INFLIGHT} calls in flight between two cores, event-driven defaults`,
        peers: { comlink: median(col(epc, 0, 'rate')) },
        target: [
          { op: '>=', value: 1_000_000 },
          { op: '>=', value: 10, peer: 'comlink' },
        ],
      })
    } finally {
      await rt.shutdown()
    }

    // -------------------------------------------------------------- streaming
    say(`one-way streaming, ${BATCH} per publish / per postMessage: values, 64-byte messages`)
    const [sv, pv, sb, pb] = await interleave(
      [
        stream('port', 'values', n(1_000_000)),
        stream('postMessage', 'values', n(500_000)),
        stream('port', 'bytes', n(4_000_000)),
        stream('postMessage', 'bytes', n(1_000_000)),
      ],
      runs,
      ctx.quiet,
    )
    for (const [m, what] of [
      [sv, 'values'],
      [pv, 'pm values'],
      [sb, 'bytes'],
      [pb, 'pm bytes'],
    ] as const) {
      checkClean(m, what)
    }
    const sgroup = 'one-way streaming (2 workers)'
    add(
      {
        name: `small values, ${BATCH} per publish`,
        group: sgroup,
        unit: 'msgs/s',
        better: 'higher',
        value: median(col(sv, 1, 'rate')),
        runs: col(sv, 1, 'rate'),
        compares: `{ seq, kind, ok } per message; ${BATCH} sends then flush() vs postMessage of an array of ${BATCH}; the port sink iterates (for await)`,
        peers: { postMessage: median(col(pv, 1, 'rate')) },
        target: { op: '>=', value: 2_000_000 },
        extra: { sourceFull: median(col(sv, 0, 'full')) },
      },
      {
        name: `64-byte messages, ${BATCH} per publish`,
        group: sgroup,
        unit: 'msgs/s',
        better: 'higher',
        value: median(col(sb, 1, 'rate')),
        runs: col(sb, 1, 'rate'),
        compares: `sendBytes x ${BATCH} then flush(), read zero-copy by onBytes, vs postMessage of an array of ${BATCH} Uint8Arrays`,
        peers: { postMessage: median(col(pb, 1, 'rate')) },
        target: { op: '>=', value: 20_000_000 },
        extra: {
          sinkGcs: median(col(sb, 1, 'gcs')),
          sourceGcs: median(col(sb, 0, 'gcs')),
          sourceFull: median(col(sb, 0, 'full')),
        },
      },
      {
        name: 'GCs while streaming 64-byte messages: receiving end',
        group: 'allocation',
        unit: 'gcs',
        better: 'none',
        value: Math.max(...col(sb, 1, 'gcs')),
        runs: col(sb, 1, 'gcs'),
        note: `most in one round of ${n(4_000_000)} messages (onBytes, zero-copy)`,
        peers: { postMessage: Math.max(...col(pb, 1, 'gcs')) },
      },
      {
        name: 'GCs while streaming 64-byte messages: sending end',
        group: 'allocation',
        unit: 'gcs',
        better: 'none',
        value: Math.max(...col(sb, 0, 'gcs')),
        runs: col(sb, 0, 'gcs'),
        note: 'a send into a full ring copies the frame into the outbox and drain() makes a promise',
        peers: { postMessage: Math.max(...col(pb, 0, 'gcs')) },
      },
    )

    // ------------------------------------------------------------- allocation
    say('bytes allocated per call (one in flight, after a full GC)')
    const [ap, ac, am] = await interleave(
      [
        rpc('port', 'alloc', 5000),
        rpc('comlink', 'alloc', 5000),
        rpc('postMessage', 'alloc', 5000),
      ],
      runs,
      ctx.quiet,
    )
    add({
      name: 'bytes allocated per call (client thread)',
      group: 'allocation',
      unit: 'B/call',
      better: 'lower',
      value: median(col(ap, 0, 'bytesPerCall')),
      runs: col(ap, 0, 'bytesPerCall'),
      compares:
        'V8 used-heap growth over 5000 calls after a full GC, divided by the calls (the ' +
        'promise, the argument array and the decoded result are in it); rounds with a GC ' +
        'in them under-count, see extra.gcs',
      peers: {
        comlink: median(col(ac, 0, 'bytesPerCall')),
        postMessage: median(col(am, 0, 'bytesPerCall')),
      },
      extra: { gcs: Math.max(...col(ap, 0, 'gcs')) },
    })
  } finally {
    for (const c of cleanups) c()
  }

  return {
    figures: figures.map(finishFigure),
    runs,
    loadavgStart,
    notes: [
      'the session is a Channel and a SessionPort per end (bench/ipc/pair.ts: the data plane ' +
        'alone); sessions opened through the process manager will replace it there',
      `RPC rings ${RPC_CAPACITY} bytes each way, streaming rings ${STREAM_CAPACITY}; the ` +
        `streaming port source awaits drain() when a send says false; postMessage sources ` +
        `keep at most ${PM_WINDOW} batches in flight (credit through a shared word)`,
      'latency: performance.now() per call in the client, sorted; p50/p99 are the median ' +
        'over runs of each run’s percentile',
      'ours and its peers run in turn, round by round (each after a warm-up round)',
      'ratio = times better than the peer (value/peer for throughput, peer/value for latency)',
    ],
  }
}
