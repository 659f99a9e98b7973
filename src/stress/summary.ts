/**
 * The figures of one stress run, as `--json` prints them (the documented, stable
 * shape: docs/stress.md): verification, throughput, latency percentiles from the
 * merged consumer histograms, contention counters and fairness between producers.
 */
import { build, decodeFromCompressedBase64 } from 'hdr-histogram-js'
import type { Fault } from './protocol.js'
import type { RawRun } from './run.js'
import { verify, type Verification } from './verify.js'
import type { WaitStrategy } from './wait.js'

/** Bumped only on an incompatible change of the JSON shape. */
export const STRESS_SCHEMA = 'multikernel-stress/1'

export interface StressJson {
  schema: typeof STRESS_SCHEMA
  mode: 'run' | 'sweep'
  /** Every run verified. */
  ok: boolean
  runs: StressRunSummary[]
  /** Path of the HTML report written, or null. */
  report: string | null
}

/** The verifier's findings, less its per-producer counts. */
export type StressVerification = Omit<Verification, 'perProducer'>

export interface StressRunSummary {
  config: {
    producers: number
    consumers: number
    capacity: number
    frameSize: number
    slotBytes: number
    wait: WaitStrategy
    spin: number
    frames: number | null
    durationMs: number | null
  }
  /** Present only when a test-only fault was injected. */
  fault?: Fault
  /** The verifier's findings, less its per-producer counts (they are in `producers`). */
  verification: StressVerification
  elapsedMs: number
  throughput: { framesPerSec: number; bytesPerSec: number }
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number }
  contention: {
    casRetries: number
    producerCasRetries: number
    consumerCasRetries: number
    fullSpins: number
    emptySpins: number
    fullStalls: number
    emptyStalls: number
    producerSleeps: number
    consumerSleeps: number
    yields: number
    notifies: number
  }
  fairness: { jain: number; minShare: number; maxShare: number; shares: number[] }
  producers: Array<{
    id: number
    sent: number
    delivered: number
    share: number
    framesPerSec: number
    casRetries: number
    fullStalls: number
    sleeps: number
  }>
  consumers: Array<{
    id: number
    received: number
    casRetries: number
    emptyStalls: number
    sleeps: number
  }>
}

/** Jain's fairness index: 1 when all equal, 1/n when one takes everything. */
export function jain(xs: number[]): number {
  const sum = xs.reduce((a, b) => a + b, 0)
  const sq = xs.reduce((a, b) => a + b * b, 0)
  return sq === 0 ? 1 : (sum * sum) / (xs.length * sq)
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)

export function summarize(raw: RawRun): StressRunSummary {
  const c = raw.config
  const producers = [...raw.producers].sort((a, b) => a.index - b.index)
  const consumers = [...raw.consumers].sort((a, b) => a.index - b.index)
  const v = verify(producers, consumers)

  const hist = build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, autoResize: true })
  for (const r of consumers) hist.add(decodeFromCompressedBase64(r.histogram, 32))
  const us = (ns: number): number => round(ns / 1000, 3)
  const empty = hist.totalCount === 0

  const elapsedMs = Math.max(raw.endMs - raw.startMs, 1e-3)
  const fps = v.delivered / (elapsedMs / 1000)
  // Fairness over the window every producer competed in: their counts when the first
  // of them finished (all producers stop together in duration mode).
  const window = raw.snapshot
  const total = sum(window)
  const shares = window.map((n) => (total === 0 ? 0 : round(n / total, 4)))
  const pCas = sum(producers.map((p) => p.casRetries))
  const cCas = sum(consumers.map((k) => k.casRetries))

  const out: StressRunSummary = {
    config: {
      producers: c.producers,
      consumers: c.consumers,
      capacity: c.capacity,
      frameSize: c.frameSize,
      slotBytes: raw.slotBytes,
      wait: c.wait,
      spin: c.wait === 'sleep' ? 0 : c.spin,
      frames: c.frames,
      durationMs: c.durationMs,
    },
    verification: {
      ok: v.ok,
      expected: v.expected,
      delivered: v.delivered,
      missing: v.missing,
      duplicates: v.duplicates,
      corrupt: v.corrupt,
      outOfOrder: v.outOfOrder,
      problems: v.problems,
    },
    elapsedMs: round(elapsedMs, 1),
    throughput: { framesPerSec: Math.round(fps), bytesPerSec: Math.round(fps * c.frameSize) },
    latencyUs: {
      p50: empty ? 0 : us(hist.getValueAtPercentile(50)),
      p90: empty ? 0 : us(hist.getValueAtPercentile(90)),
      p99: empty ? 0 : us(hist.getValueAtPercentile(99)),
      p999: empty ? 0 : us(hist.getValueAtPercentile(99.9)),
      max: empty ? 0 : us(hist.maxValue),
      mean: empty ? 0 : us(hist.mean),
    },
    contention: {
      casRetries: pCas + cCas,
      producerCasRetries: pCas,
      consumerCasRetries: cCas,
      fullSpins: sum(producers.map((p) => p.fullSpins)),
      emptySpins: sum(consumers.map((k) => k.emptySpins)),
      fullStalls: sum(producers.map((p) => p.fullStalls)),
      emptyStalls: sum(consumers.map((k) => k.emptyStalls)),
      producerSleeps: sum(producers.map((p) => p.sleeps)),
      consumerSleeps: sum(consumers.map((k) => k.sleeps)),
      yields: sum(producers.map((p) => p.yields)) + sum(consumers.map((k) => k.yields)),
      notifies: sum(producers.map((p) => p.notifies)) + sum(consumers.map((k) => k.notifies)),
    },
    fairness: {
      jain: round(jain(window), 4),
      minShare: Math.min(...shares),
      maxShare: Math.max(...shares),
      shares,
    },
    producers: producers.map((p, i) => ({
      id: p.index,
      sent: p.sent,
      delivered: v.perProducer[i],
      share: shares[i],
      framesPerSec: Math.round(p.sent / (Math.max(p.endMs - p.startMs, 1e-3) / 1000)),
      casRetries: p.casRetries,
      fullStalls: p.fullStalls,
      sleeps: p.sleeps,
    })),
    consumers: consumers.map((k) => ({
      id: k.index,
      received: k.received,
      casRetries: k.casRetries,
      emptyStalls: k.emptyStalls,
      sleeps: k.sleeps,
    })),
  }
  if (c.fault !== null) out.fault = c.fault
  return out
}
