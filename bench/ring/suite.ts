/**
 * The ring suite: single-thread costs (benchmark.js), cross-thread one-way throughput
 * and round-trip latency beside postMessage and ringbuf.js, MPMC contention, and the
 * allocation probe. Every cross-thread figure is the median of `runs` rounds (after a
 * warm-up round) measured in this same process run, beside its peers.
 */
import { availableParallelism, loadavg } from 'node:os'
import { DEFAULT_SPIN } from '../../src/ring/index.js'
import { finishFigure, type Figure, type SuiteReport, type Target } from '../lib/report.js'
import type { QuietOptions } from '../lib/rounds.js'
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
import type { OneWayImpl } from './tasks.js'
import { runMicro } from './micro.js'

export interface SuiteOptions {
  quick: boolean
  /** Called with a line of progress (to stderr), so long runs show life. */
  progress?: (line: string) => void
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
/** Targets of batched 16-byte frames (fresh objects: finishFigure fills in `met`). */
const batchedTargets = (): Target[] => [
  { op: '>=', value: 80e6 },
  { op: '>=', value: 200, peer: 'postMessage-1' },
]
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
  // Full runs start each measured round only once other processes leave the CPUs
  // (at most 30 s of waiting); the load they caused is recorded as othersCpuMax.
  const quiet: QuietOptions | undefined = quick ? undefined : { threshold: 0.1, maxWaitMs: 30_000 }

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
      f.note = `ringbuf.js: ±${m.peer.rme.toFixed(2)}%, ${m.peer.samples} samples`
    }
    figures.push(f)
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
    if (pm) out.postMessageOthersCpuMax = pm.extra.othersCpuMax
    return out
  }
  const batchedNote = (payload: number): string =>
    `postMessage = ${BATCH} frames per message, postMessage-1 = one frame per message ` +
    `(from the per-frame run); ringbuf = ringbuf.js push of ${BATCH} frames (no frame ` +
    `header: ${payload} B per frame where the ring moves ${payload + 8}); bare = the ` +
    `ring's ${payload + 8} B per frame in fixed slots, written frame by frame, without ring ` +
    `bookkeeping (a minimal hand-off of the same bytes)`
  let pm16: { batched: number; single: number } | null = null
  for (const payload of [16, 64]) {
    const k = payload === 16 ? 1 : 0.5
    say(`one-way ${payload} B frames, ${BATCH} per publish: ring, bare, ringbuf.js, postMessage`)
    const [ringB, ringR, bareB, rbB, pmB] = await runInterleaved(
      [
        ow('ringMany', payload, BATCH, 8_000_000 * k),
        ow('ring', payload, BATCH, 8_000_000 * k),
        ow('bare', payload, BATCH, 8_000_000 * k),
        ow('ringbuf', payload, BATCH, 8_000_000 * k),
        ow('postMessage', payload, BATCH, 2_000_000 * k),
      ],
      owRuns,
      quiet,
    )
    say(`one-way ${payload} B frames, 1 per publish: ring, bare, ringbuf.js, postMessage`)
    const [ringF, bareF, rbF, pmF] = await runInterleaved(
      [
        ow('ring', payload, 1, 4_000_000 * k),
        ow('bare', payload, 1, 4_000_000 * k),
        ow('ringbuf', payload, 1, 2_000_000 * k),
        ow('postMessage', payload, 1, 150_000),
      ],
      owRuns,
      quiet,
    )
    if (payload === 16) pm16 = { batched: median(pmB.values), single: median(pmF.values) }
    figures.push({
      name: `one-way ${payload} B frames, ${BATCH} per publish (reserveMany)`,
      group,
      unit: 'frames/s',
      better: 'higher',
      value: median(ringB.values),
      runs: ringB.values,
      peers: {
        'postMessage-1': median(pmF.values),
        postMessage: median(pmB.values),
        ringbuf: median(rbB.values),
        bare: median(bareB.values),
      },
      target: payload === 16 ? batchedTargets() : undefined,
      extra: { ...ringB.extra, ...sideCounters(rbB, pmB) },
      note: batchedNote(payload),
    })
    figures.push({
      name: `one-way ${payload} B frames, ${BATCH} per publish, reserve() each`,
      group,
      unit: 'frames/s',
      better: 'higher',
      value: median(ringR.values),
      runs: ringR.values,
      peers: { 'ring reserveMany': median(ringB.values), bare: median(bareB.values) },
      extra: ringR.extra,
      note: `the same batches reserved one frame at a time with reserve() instead of reserveMany()`,
    })
    figures.push({
      name: `one-way ${payload} B frames, 1 per publish`,
      group,
      unit: 'frames/s',
      better: 'higher',
      value: median(ringF.values),
      runs: ringF.values,
      peers: {
        postMessage: median(pmF.values),
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
  const largePeers: Record<string, number> = {
    ringbuf: median(rbL.values),
    bare: median(bareL.values),
  }
  if (pm16) {
    largePeers['postMessage-1'] = pm16.single
    largePeers.postMessage = pm16.batched
  }
  figures.push({
    name: `one-way 16 B frames, ${BATCH} per publish (reserveMany), ${LARGE_CAPACITY >> 20} MiB ring`,
    group: `one-way throughput (2 workers), ${LARGE_CAPACITY >> 20} MiB rings`,
    unit: 'frames/s',
    better: 'higher',
    value: median(ringL.values),
    runs: ringL.values,
    peers: largePeers,
    target: batchedTargets(),
    extra: { ...ringL.extra, ...sideCounters(rbL, null) },
    note:
      `ringbuf and bare with ${LARGE_CAPACITY >> 20} MiB too; the postMessage figures are ` +
      `those of the ${ONEWAY_CAPACITY >> 10} KiB group above (no ring there)`,
  })

  // ----------------------------------------------------------- round trip
  say('round trip: ring and bare word spinning, asleep, back to back; postMessage')
  const rt = (
    impl: 'ring' | 'postMessage' | 'bare',
    mode: 'spin' | 'sleep',
    count: number,
    gapUs: number,
  ): Prepared => prepareRoundTrip({ impl, mode, count: n(count), spin: RT_SPIN, gapUs })
  const [rtSpin, bareSpin, rtSleep, bareSleep, rtDoze, rtPm] = await runInterleaved(
    [
      rt('ring', 'spin', 200_000, 0),
      rt('bare', 'spin', 200_000, 0),
      rt('ring', 'sleep', 20_000, SLEEP_GAP_US),
      rt('bare', 'sleep', 20_000, SLEEP_GAP_US),
      rt('ring', 'sleep', 20_000, 0),
      rt('postMessage', 'spin', 20_000, 0),
    ],
    runs,
    quiet,
  )
  const p99 = (m: Measured): number[] => m.p99 ?? []
  const rtGroup = 'round trip, 16 B each way (2 workers)'
  const pm50 = median(rtPm.values)
  const pm99 = median(p99(rtPm))
  figures.push(
    {
      name: 'round trip p50, both sides spinning',
      group: rtGroup,
      unit: 'us',
      better: 'lower',
      value: median(rtSpin.values),
      runs: rtSpin.values,
      peers: { postMessage: pm50, bare: median(bareSpin.values) },
      target: { op: '<=', value: 1 },
      extra: rtSpin.extra,
      note: 'bare = one Int32 word each way with Atomics.store/load, no ring (the floor)',
    },
    {
      name: 'round trip p99, both sides spinning',
      group: rtGroup,
      unit: 'us',
      better: 'lower',
      value: median(p99(rtSpin)),
      runs: p99(rtSpin),
      peers: { postMessage: pm99, bare: median(p99(bareSpin)) },
    },
    {
      name: `round trip p50, consumer asleep (${SLEEP_GAP_US} us after it slept)`,
      group: rtGroup,
      unit: 'us',
      better: 'lower',
      value: median(rtSleep.values),
      runs: rtSleep.values,
      peers: { postMessage: pm50, bare: median(bareSleep.values) },
      target: { op: '<=', value: 8 },
      extra: rtSleep.extra,
      note:
        'the echo spins zero and Atomics.waits on its Doorbell every time; each ping waits ' +
        `until it announced sleep plus ${SLEEP_GAP_US} us, so the round trip includes a full ` +
        'wake-up. bare = plain Atomics.wait/notify on one word, same gap (the floor)',
    },
    {
      name: `round trip p99, consumer asleep (${SLEEP_GAP_US} us after it slept)`,
      group: rtGroup,
      unit: 'us',
      better: 'lower',
      value: median(p99(rtSleep)),
      runs: p99(rtSleep),
      peers: { postMessage: pm99, bare: median(p99(bareSleep)) },
    },
    {
      name: 'round trip p50, consumer spins zero, pings back to back',
      group: rtGroup,
      unit: 'us',
      better: 'lower',
      value: median(rtDoze.values),
      runs: rtDoze.values,
      peers: { postMessage: pm50 },
      target: { op: '<=', value: 8 },
      extra: { p99: median(p99(rtDoze)), ...rtDoze.extra },
      note:
        'the echo heads for Atomics.wait after every reply; the next ping may catch it on ' +
        'the way (echoSleepsPerRoundTrip says how often it reached the wait)',
    },
    {
      name: 'postMessage round trip p50 (the peer)',
      group: rtGroup,
      unit: 'us',
      better: 'none',
      value: pm50,
      runs: rtPm.values,
      extra: { p99: pm99, ...rtPm.extra },
    },
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
  figures.push(
    {
      name: 'MPMC 16 B frames, spin only',
      group: mpGroup,
      unit: 'frames/s',
      better: 'higher',
      value: median(mpSpin.values),
      runs: mpSpin.values,
      peers: { postMessage: median(mpPm.values) },
      extra: mpSpin.extra,
    },
    {
      name: `MPMC 16 B frames, spin ${DEFAULT_SPIN} then sleep`,
      group: mpGroup,
      unit: 'frames/s',
      better: 'higher',
      value: median(mpSleep.values),
      runs: mpSleep.values,
      peers: { postMessage: median(mpPm.values) },
      extra: mpSleep.extra,
    },
  )

  // ---------------------------------------------------------- allocation
  say('allocation probe')
  for (const a of await runAlloc(quick)) {
    figures.push({
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
        `shared word)`,
      'ours and its peers run in turn, round by round (each after a warm-up round), so they ' +
        'meet the same conditions; full runs start each measured round once other processes ' +
        'use < 0.1 CPU (waiting at most 30 s); othersCpuMax = most CPUs other processes took ' +
        'during a measured round',
      `one-way throughput figures are the median of ${owRuns} measured rounds; round trips ` +
        `and MPMC of ${runs}`,
      'round trips: performance.now() per round trip in the pinger, sorted; p50/p99 are the ' +
        'median over runs of each run’s percentile',
      'ratio = times better than the peer (value/peer for throughput, peer/value for latency)',
    ],
  }
}
