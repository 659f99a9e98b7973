/**
 * One stress run: lay out the ring and the control block, start P producer and C
 * consumer worker threads around one MpmcRing, let them go together, stop them at
 * the deadline (duration mode), and collect their reports. Verification and the
 * figures are computed from the reports by verify.ts.
 */
import { Worker } from 'node:worker_threads'
import { Doorbell, MpmcRing } from '../ring/index.js'
import {
  consumerCounter,
  controlBytes,
  NOT_EMPTY_OFFSET,
  NOT_FULL_OFFSET,
  snapshotWord,
  START,
  STOP,
} from './control.js'
import { slotBytesFor } from './frame.js'
import type {
  ConsumerReport,
  Fault,
  ProducerReport,
  WorkerReport,
  WorkerSetup,
} from './protocol.js'
import type { WaitStrategy } from './wait.js'

export interface StressConfig {
  producers: number
  consumers: number
  /** Ring capacity in slots, a power of two. */
  capacity: number
  /** Bytes per frame, header included. */
  frameSize: number
  wait: WaitStrategy
  /** Spin bound of the spin and spin-then-sleep strategies. */
  spin: number
  /** Total frames over all producers, or null in duration mode. */
  frames: number | null
  /** Run time in ms, or null in frame-count mode. */
  durationMs: number | null
  /** Test-only: a fault producer 0 injects into one frame. */
  fault: Fault | null
}

export interface RawRun {
  config: StressConfig
  slotBytes: number
  producers: ProducerReport[]
  consumers: ConsumerReport[]
  /** Every producer's sent count when the first of them finished. */
  snapshot: number[]
  startMs: number
  endMs: number
}

export interface Progress {
  /** Frames received so far, over all consumers. */
  received: number
  elapsedMs: number
}

const PRODUCER_URL = new URL('./producer.js', import.meta.url)
const CONSUMER_URL = new URL('./consumer.js', import.meta.url)
const PROGRESS_EVERY_MS = 100

/** Frames producer `p` sends: the total split evenly, the remainder to the first ones. */
export function quotaOf(c: StressConfig, p: number): number {
  if (c.frames === null) return -1
  return Math.floor(c.frames / c.producers) + (p < c.frames % c.producers ? 1 : 0)
}

export async function runStressConfig(
  c: StressConfig,
  onProgress?: (p: Progress) => void,
): Promise<RawRun> {
  const slotBytes = slotBytesFor(c.frameSize)
  const ring = MpmcRing.create({ slots: c.capacity, slotBytes })
  const control = new SharedArrayBuffer(controlBytes(c))
  const ctrl = new Int32Array(control)
  Doorbell.init(control, NOT_EMPTY_OFFSET)
  Doorbell.init(control, NOT_FULL_OFFSET)

  const base = {
    producers: c.producers,
    consumers: c.consumers,
    ring: ring.buffer,
    control,
    frameSize: c.frameSize,
    wait: c.wait,
    spin: c.spin,
    origin: performance.timeOrigin,
    fault: c.fault,
  }
  const q0 = quotaOf(c, 0)
  const faultSeq = q0 >= 0 ? Math.floor(q0 / 2) : 100
  const setups: WorkerSetup[] = []
  for (let p = 0; p < c.producers; p++) {
    setups.push({ ...base, role: 'producer', index: p, quota: quotaOf(c, p), faultSeq })
  }
  for (let k = 0; k < c.consumers; k++) {
    setups.push({ ...base, role: 'consumer', index: k, quota: quotaOf(c, 0), faultSeq })
  }

  const workers: Worker[] = []
  const stopAll = (): void => {
    Atomics.store(ctrl, STOP, 1)
    Atomics.store(ctrl, START, 1)
    for (const w of workers) void w.terminate()
  }
  let ready!: () => void
  const allReady = new Promise<void>((resolve) => (ready = resolve))
  let readyCount = 0
  const results = setups.map((s) => {
    const w = new Worker(s.role === 'producer' ? PRODUCER_URL : CONSUMER_URL, { workerData: s })
    workers.push(w)
    return new Promise<WorkerReport>((resolve, reject) => {
      let report: WorkerReport | null = null
      w.on('message', (m: WorkerReport | { role: 'ready' }) => {
        if (m.role === 'ready') {
          if (++readyCount === setups.length) ready()
        } else {
          report = m
        }
      })
      w.on('error', (err) => {
        stopAll()
        reject(new Error(`stress ${s.role} ${s.index} failed: ${err.message}`, { cause: err }))
      })
      w.on('exit', (code) => {
        if (report !== null) resolve(report)
        else reject(new Error(`stress ${s.role} ${s.index} exited (code ${code}) without a report`))
      })
    })
  })
  // A failed worker must not leave the others waiting for a start that never comes.
  const failed = new Promise<never>((_, reject) => {
    for (const r of results) r.catch(reject)
  })
  failed.catch(() => {}) // also seen by Promise.all below; never unhandled
  await Promise.race([allReady, failed])

  const startMs = performance.now()
  Atomics.store(ctrl, START, 1)
  Atomics.notify(ctrl, START)
  const deadline =
    c.durationMs === null ? null : setTimeout(() => Atomics.store(ctrl, STOP, 1), c.durationMs)
  const ticker =
    onProgress === undefined
      ? null
      : setInterval(() => {
          let received = 0
          for (let k = 0; k < c.consumers; k++)
            received += Atomics.load(ctrl, consumerCounter(c, k))
          onProgress({ received, elapsedMs: performance.now() - startMs })
        }, PROGRESS_EVERY_MS)

  let reports: WorkerReport[]
  try {
    reports = await Promise.all(results)
  } finally {
    if (deadline !== null) clearTimeout(deadline)
    if (ticker !== null) clearInterval(ticker)
  }
  const producers = reports.filter((r): r is ProducerReport => r.role === 'producer')
  const consumers = reports.filter((r): r is ConsumerReport => r.role === 'consumer')
  const snapshot = Array.from({ length: c.producers }, (_, p) =>
    Atomics.load(ctrl, snapshotWord(c, p)),
  )
  return {
    config: c,
    slotBytes,
    producers,
    consumers,
    snapshot,
    startMs,
    endMs: Math.max(...consumers.map((r) => r.endMs)),
  }
}
