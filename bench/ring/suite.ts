/**
 * The ring suite: single-thread costs (benchmark.js), cross-thread one-way throughput
 * and round-trip latency beside postMessage and ringbuf.js, MPMC contention, and the
 * allocation probe. Every cross-thread figure is the median of `runs` rounds (after a
 * warm-up round) measured in this same process run, beside its peers, like for like:
 * the same frames per publish and per postMessage; polling against polling (a
 * postMessage consumer polling `receiveMessageOnPort`) and the bare Atomics hand-off;
 * sleeping against sleeping. Each figure's `compares` says what it compares.
 */
import { availableParallelism, loadavg } from 'node:os'
import { DEFAULT_SPIN } from '../../src/ring/index.js'
import type { QuietGate } from '../lib/cpu.js'
import { finishFigure, stamp, type Figure, type SuiteReport } from '../lib/report.js'
import { median } from '../lib/stats.js'
import { runAlloc } from './alloc.js'
import {
  prepareMpmc,
  prepareOneWay,
  prepareRoundTrip,
  runInterleaved,
  type Measured,
  type Prepared,
} from './crossthread.js'
import type { OneWayImpl, RoundTripImpl } from './tasks.js'
import { runMicro } from './micro.js'

export interface SuiteOptions {
  quick: boolean
  /** Called with a line of progress (to stderr), so long runs show life. */
  progress?: (line: string) => void
  /** Waits (bounded) for other processes to leave the CPUs before each measured round. */
  quiet?: QuietGate
}

/** Frames per publish in the batched runs, and the consumer's release interval. */
const BATCH = 64
const RELEASE_EVERY = 256
/** One-way: iterations a waiting side polls before it sleeps on its Doorbell. */
const ONEWAY_SPIN = 1 << 14
/** Round trip, spin mode: iterations before a waiting side sleeps (a few ms at most). */
const RT_SPIN = 1 << 20
/** Data bytes of the one-way rings (ours and ringbuf.js alike): the Channel default. */
const ONEWAY_CAPACITY = 1 << 16
/** The large-ring variant: bigger than a core's L2. */
const LARGE_CAPACITY = 1 << 22
/** postMessage one-way runs: frames in flight at most (credit through a shared word). */
const PM_WINDOW = 8192
/** One-way consumer: busy-loop rounds between two looks at an empty ring. */
const BACKOFF = 32
/** Round trip, consumer asleep: how long the pinger lets it sleep before each ping. */
const SLEEP_GAP_US = 20
const MPMC_PRODUCERS = 4
const MPMC_SLOTS = 256

export async function runRingSuite(opts: SuiteOptions): Promise<SuiteReport> {
  const quick = opts.quick
  const say = opts.progress ?? (() => {})
  const loadavgStart = loadavg()[0]
  // Round trips and MPMC: 5 measured rounds. One-way throughput: 9 shorter rounds, so
  // the median samples more of a machine whose speed drifts over seconds.
  const runs = quick ? 1 : 5
  const owRuns = quick ? 1 : 9
  const scale = quick ? 1 / 32 : 1
  const n = (full: number): number => Math.max(1024, Math.round(full * scale))
  const figures: Figure[] = []
  // Each figure carries the load average when it was measured.
  const add = (...fs: Figure[]): void => {
    for (const f of fs) figures.push(stamp(f))
  }
  // Full runs start each measured round once other processes leave the CPUs, waiting a
  // bounded time (bench/main.ts); the load they caused is recorded as othersCpuMax.
  const quiet = opts.quiet

  // ------------------------------------------------------- single thread
  say('single-thread costs (benchmark.js)')
  for (const m of runMicro(quick)) {
    const f: Figure = {
      name: m.name,
      group: 'single thread (benchmark.js)',
      unit: 'ops/s',
      better: 'higher',
      value: m.hz,
      rme: m.rme,
      samples: m.samples,
    }
    if (m.framesPerOp > 1) f.extra = { framesPerSecond: m.hz * m.framesPerOp }
    if (m.peer) {
      f.peers = { [m.peer.name]: m.peer.hz }
      f.compares = 'the same batches in one thread (benchmark.js), no waiting'
      f.note = `ringbuf.js: ±${m.peer.rme.toFixed(2)}%, ${m.peer.samples} samples`
    }
    add(f)
  }

  // -------------------------------------------------------------- one-way
  const group = `one-way throughput (2 workers), ${ONEWAY_CAPACITY >> 10} KiB rings`
  const ow = (
    impl: OneWayImpl,
    payload: number,
    batch: number,
    frames: number,
    capacity = ONEWAY_CAPACITY,
  ): Prepared =>
    prepareOneWay({
      impl,
      payload,
      batch,
      frames: n(frames),
      spin: ONEWAY_SPIN,
      releaseEvery: RELEASE_EVERY,
      backoff: BACKOFF,
      capacity,
      window: PM_WINDOW,
    })
  const sideCounters = (rb: Measured, pm: Measured | null): Record<string, number> => {
    const out: Record<string, number> = {
      ringbufConsumerSleeps: rb.extra.consumerSleeps,
      ringbufOthersCpuMax: rb.extra.othersCpuMax,
    }
    if (pm) {
      out.postMessagePollOthersCpuMax = pm.extra.othersCpuMax
      out.postMessagePollConsumerNaps = pm.extra.consumerSleeps
    }
    return out
  }
  const owCompares = (batch: number, payload: number): string =>
    `${batch} frame${batch > 1 ? 's' : ''} per publish and per postMessage; every consumer ` +
    `polls (ring, bare and ringbuf.js: ${ONEWAY_SPIN} polls, then a doorbell sleep; ` +
    `postMessage-poll: receiveMessageOnPort, ${ONEWAY_SPIN} polls, then a 50 us nap); ` +
    `ringbuf.js moves ${payload} B per frame (no header) where the ring moves ${payload + 8}; ` +
    `bare = the ring's bytes in fixed slots without ring bookkeeping (the limit)`
  for (const payload of [16, 64]) {
    const k = payload === 16 ? 1 : 0.5
    say(`one-way ${payload} B frames, ${BATCH} per publish: ring, bare, ringbuf.js, postMessage`)
    const [ringB, ringR, bareB, rbB, pmB] = await runInterleaved(
      [
        ow('ringMany', payload, BATCH, 8_000_000 * k),
        ow('ring', payload, BATCH, 8_000_000 * k),
        ow('bare', payload, BATCH, 8_000_000 * k),
        ow('ringbuf', payload, BATCH, 8_000_000 * k),
        ow('postMessagePoll', payload, BATCH, 2_000_000 * k),
      ],
      owRuns,
      quiet,
    )
    add(
      {
        name: `one-way ${payload} B frames, ${BATCH} per publish (reserveMany)`,
        group,
        unit: 'frames/s',
        better: 'higher',
        value: median(ringB.values),
        runs: ringB.values,
        compares: owCompares(BATCH, payload),
        peers: {
          'postMessage-poll': median(pmB.values),
          ringbuf: median(rbB.values),
          bare: median(bareB.values),
        },
        target: payload === 16 ? { op: '>=', value: 80e6 } : undefined,
        extra: { ...ringB.extra, ...sideCounters(rbB, pmB) },
      },
      {
        name: `one-way ${payload} B frames, ${BATCH} per publish, reserve() each`,
        group,
        unit: 'frames/s',
        better: 'higher',
        value: median(ringR.values),
        runs: ringR.values,
        compares: 'the same batches reserved one frame at a time with reserve()',
        peers: { 'ring reserveMany': median(ringB.values), bare: median(bareB.values) },
        extra: ringR.extra,
      },
    )
    say(`one-way ${payload} B frames, 1 per publish: ring, bare, ringbuf.js, postMessage`)
    const [ringF, bareF, rbF, pmF] = await runInterleaved(
      [
        ow('ring', payload, 1, 4_000_000 * k),
        ow('bare', payload, 1, 4_000_000 * k),
        ow('ringbuf', payload, 1, 2_000_000 * k),
        ow('postMessagePoll', payload, 1, 200_000),
      ],
      owRuns,
      quiet,
    )
    add({
      name: `one-way ${payload} B frames, 1 per publish`,
      group,
      unit: 'frames/s',
      better: 'higher',
      value: median(ringF.values),
      runs: ringF.values,
      compares: owCompares(1, payload),
      peers: {
        'postMessage-poll': median(pmF.values),
        ringbuf: median(rbF.values),
        bare: median(bareF.values),
      },
      target: payload === 16 ? { op: '>=', value: 12e6 } : undefined,
      extra: { ...ringF.extra, ...sideCounters(rbF, pmF) },
    })
  }

  // A ring larger than the cores' private caches: a line the producer writes again a
  // lap later has left the consumer's caches, so no invalidation has to reach them.
  say(`one-way 16 B frames, ${BATCH} per publish, ${LARGE_CAPACITY >> 20} MiB rings`)
  const [ringL, bareL, rbL] = await runInterleaved(
    [
      ow('ringMany', 16, BATCH, 8_000_000, LARGE_CAPACITY),
      ow('bare', 16, BATCH, 8_000_000, LARGE_CAPACITY),
      ow('ringbuf', 16, BATCH, 8_000_000, LARGE_CAPACITY),
    ],
    owRuns,
    quiet,
  )
  add({
    name: `one-way 16 B frames, ${BATCH} per publish (reserveMany), ${LARGE_CAPACITY >> 20} MiB ring`,
    group: `one-way throughput (2 workers), ${LARGE_CAPACITY >> 20} MiB rings`,
    unit: 'frames/s',
    better: 'higher',
    value: median(ringL.values),
    runs: ringL.values,
    compares: `${owCompares(BATCH, 16)}; every ring ${LARGE_CAPACITY >> 20} MiB (no postMessage: it has no ring)`,
    peers: { ringbuf: median(rbL.values), bare: median(bareL.values) },
    target: { op: '>=', value: 80e6 },
    extra: { ...ringL.extra, ...sideCounters(rbL, null) },
  })

  // ----------------------------------------------------------- round trip
  say('round trip: polling (ring, bare, postMessage), asleep (ring, bare), event-driven')
  const rt = (
    impl: RoundTripImpl,
    mode: 'spin' | 'sleep',
    count: number,
    gapUs: number,
    spin = RT_SPIN,
  ): Prepared => prepareRoundTrip({ impl, mode, count: n(count), spin, gapUs })
  const [rtSpin, bareSpin, pollSpin, rtSleep, bareSleep, rtDoze, bareDoze, rtBlock, rtPm] =
    await runInterleaved(
      [
        rt('ring', 'spin', 200_000, 0),
        rt('bare', 'spin', 200_000, 0),
        rt('postMessagePoll', 'spin', 50_000, 0),
        rt('ring', 'sleep', 20_000, SLEEP_GAP_US),
        rt('bare', 'sleep', 20_000, SLEEP_GAP_US),
        rt('ring', 'sleep', 20_000, 0),
        rt('bare', 'sleep', 20_000, 0),
        rt('ring', 'sleep', 20_000, 0, 0),
        rt('postMessage', 'spin', 20_000, 0),
      ],
      runs,
      quiet,
    )
  const p99 = (m: Measured): number[] => m.p99 ?? []
  const rtGroup = 'round trip, 16 B each way (2 workers)'
  const both = (
    name: string,
    m: Measured,
    peers: Record<string, Measured>,
    compares: string,
    target?: number,
    note?: string,
  ): void => {
    const at = (k: 'p50' | 'p99'): Record<string, number> => {
      const out: Record<string, number> = {}
      for (const [peer, pm] of Object.entries(peers))
        out[peer] = median(k === 'p50' ? pm.values : p99(pm))
      return out
    }
    add(
      {
        name: `round trip p50, ${name}`,
        group: rtGroup,
        unit: 'us',
        better: 'lower',
        value: median(m.values),
        runs: m.values,
        compares,
        peers: at('p50'),
        target: target === undefined ? undefined : { op: '<=', value: target },
        extra: m.extra,
        note,
      },
      {
        name: `round trip p99, ${name}`,
        group: rtGroup,
        unit: 'us',
        better: 'lower',
        value: median(p99(m)),
        runs: p99(m),
        compares,
        peers: at('p99'),
      },
    )
  }
  both(
    'both sides polling',
    rtSpin,
    { 'postMessage-poll': pollSpin, bare: bareSpin },
    'both sides poll: ring (2^20 polls, then a doorbell sleep), postMessage-poll ' +
      '(receiveMessageOnPort on both sides), bare (one Int32 word each way, Atomics.store/load: the limit)',
    1,
  )
  both(
    `consumer asleep (${SLEEP_GAP_US} us after it slept)`,
    rtSleep,
    { bare: bareSleep },
    'the echo sleeps in Atomics.wait before every ping, the pinger polls; bare = plain ' +
      'Atomics.wait/notify on one word with the same gap (the floor; no postMessage peer ' +
      'can be made to sleep the same way)',
    8,
    'each ping waits until the echo announced sleep plus the gap, so every round trip ' +
      'includes a full wake-up',
  )
  both(
    'consumer spins zero, pings back to back',
    rtDoze,
    { bare: bareDoze },
    'the echo heads for Atomics.wait after every reply, the pinger polls; bare = ' +
      'Atomics.wait/notify on one word, back to back too (the limit)',
    8,
    'the next ping may catch the echo on its way to sleep (echoSleepsPerRoundTrip says how ' +
      'often it reached the wait)',
  )
  both(
    'both sides asleep (spin 0)',
    rtBlock,
    { postMessage: rtPm },
    'nobody spins: the ring pinger and echo sleep in Atomics.wait on their doorbells between ' +
      'messages; postMessage: both event loops idle between messages (event-driven)',
  )

  // ----------------------------------------------------------------- mpmc
  const mp = (impl: 'ring' | 'postMessage', mode: 'spin' | 'sleep'): Prepared =>
    prepareMpmc({
      impl,
      mode,
      producers: MPMC_PRODUCERS,
      frames: n(impl === 'ring' ? 500_000 : 75_000),
      slots: MPMC_SLOTS,
      spin: DEFAULT_SPIN,
      window: 4096,
    })
  say(`${MPMC_PRODUCERS} producers into one MpmcRing: spin only, spin then sleep, postMessage`)
  const [mpSpin, mpSleep, mpPm] = await runInterleaved(
    [mp('ring', 'spin'), mp('ring', 'sleep'), mp('postMessage', 'sleep')],
    runs,
    quiet,
  )
  const mpGroup = `${MPMC_PRODUCERS} producers -> 1 consumer, MpmcRing of ${MPMC_SLOTS} x 64 B (${MPMC_PRODUCERS + 1} threads on ${availableParallelism()} cpus)`
  add(
    {
      name: 'MPMC 16 B frames, spin only',
      group: mpGroup,
      unit: 'frames/s',
      better: 'higher',
      value: median(mpSpin.values),
      runs: mpSpin.values,
      compares: 'no ratio: no polling multi-producer peer is measured',
      extra: mpSpin.extra,
    },
    {
      name: `MPMC 16 B frames, spin ${DEFAULT_SPIN} then sleep (default)`,
      group: mpGroup,
      unit: 'frames/s',
      better: 'higher',
      value: median(mpSleep.values),
      runs: mpSleep.values,
      compares:
        `the ring at its default (spin ${DEFAULT_SPIN}, then a doorbell sleep) against ` +
        `postMessage with an event-driven consumer, one frame per message, ${MPMC_PRODUCERS} ` +
        `producers each`,
      peers: { postMessage: median(mpPm.values) },
      extra: mpSleep.extra,
    },
  )

  // ---------------------------------------------------------- allocation
  say('allocation probe')
  for (const a of await runAlloc(quick)) {
    add({
      name: `GCs during ${a.messages} msgs: ${a.name}`,
      group: 'allocation per message (one thread, after warm-up and a full GC)',
      unit: 'gcs',
      better: 'none',
      value: a.gcs,
      extra: { heapGrowthBytes: a.heapGrowth, bytesPerMessage: a.bytesPerMessage },
    })
  }

  return {
    figures: figures.map(finishFigure),
    runs,
    loadavgStart,
    notes: [
      'like for like: the same frames per publish and per postMessage message; polling ' +
        'figures against polling peers (receiveMessageOnPort) and the bare Atomics limit; ' +
        'sleeping against sleeping; each figure says what it compares',
      `one-way rings: ${ONEWAY_CAPACITY} data bytes unless the group says otherwise (ours, ` +
        `bare and ringbuf.js alike); a producer that finds the ring full publishes, then ` +
        `polls up to ${ONEWAY_SPIN} times and sleeps on a Doorbell; the consumer releases ` +
        `every ${RELEASE_EVERY} frames and whenever it runs dry, then polls up to ` +
        `${ONEWAY_SPIN} times (${BACKOFF} rounds of register-only work between two looks at ` +
        `the tail) before it sleeps on its Doorbell`,
      'batched ring figures use reserveMany() (one call per batch); the "reserve() each" row ' +
        'is the same batches reserved frame by frame',
      'throughput is timed by the consumer from the common start to its last frame; every ' +
        'frame carries a sequence number the consumer checks',
      `postMessage one-way runs keep at most ${PM_WINDOW} frames in flight (credit through a ` +
        `shared word); their consumer polls receiveMessageOnPort`,
      'ours and its peers run in turn, round by round (each after a warm-up round), so they ' +
        'meet the same conditions; full runs start each measured round once other processes ' +
        'use < 0.1 CPU, waiting a bounded time (the report\'s "quiet" says how long in all); ' +
        'othersCpuMax = most CPUs other processes took during a measured round; loadavg = ' +
        'the 1-minute load average when the figure was measured',
      `one-way throughput figures are the median of ${owRuns} measured rounds; round trips ` +
        `and MPMC of ${runs}`,
      'round trips: performance.now() per round trip in the pinger, sorted; p50/p99 are the ' +
        'median over runs of each run’s percentile',
      'ratio = times better than the peer (value/peer for throughput, peer/value for latency)',
    ],
  }
}
