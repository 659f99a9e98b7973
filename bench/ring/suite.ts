/**
 * The ring suite: single-thread costs (benchmark.js), cross-thread one-way throughput
 * and round-trip latency beside postMessage and ringbuf.js, MPMC contention, and the
 * allocation probe. Every cross-thread figure is the median of `runs` rounds (after a
 * warm-up round) measured in this same process run, beside its peers, like for like:
 * the same frames per publish and per postMessage; polling against polling (a
 * postMessage consumer polling `receiveMessageOnPort`) and the bare Atomics hand-off;
 * sleeping against sleeping. Each figure's `compares` says what it compares.
 *
 * The cross-thread sections are one file each: suite-oneway.ts, suite-roundtrip.ts,
 * suite-mpmc.ts; this file runs them in order, with the single-thread costs before
 * and the allocation probe after, and writes the report's notes.
 */
import { loadavg } from 'node:os'
import type { QuietGate } from '../lib/cpu.js'
import { finishFigure, stamp, type Figure, type SuiteReport } from '../lib/report.js'
import { runAlloc } from './alloc.js'
import { runMicro } from './micro.js'
import { mpmcSection } from './suite-mpmc.js'
import {
  BACKOFF,
  ONEWAY_CAPACITY,
  ONEWAY_SPIN,
  onewaySection,
  PM_WINDOW,
  RELEASE_EVERY,
} from './suite-oneway.js'
import { roundTripSection } from './suite-roundtrip.js'
import type { Section } from './suite-section.js'

export interface SuiteOptions {
  quick: boolean
  /** Called with a line of progress (to stderr), so long runs show life. */
  progress?: (line: string) => void
  /** Waits (bounded) for other processes to leave the CPUs before each measured round. */
  quiet?: QuietGate
}

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

  const c: Section = { say, runs, owRuns, n, add, quiet }

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

  await onewaySection(c)
  await roundTripSection(c)
  await mpmcSection(c)

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
