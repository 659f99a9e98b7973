/**
 * multikernel/stress: the ring stress engine as a library. Producer and consumer
 * worker threads around one MpmcRing (Vyukov); every run verifies that each frame
 * arrived exactly once, intact and in per-producer order, and reports throughput,
 * latency percentiles, CAS retries, full/empty stalls and fairness between
 * producers. `multikernel stress` is this library plus options, printing and an
 * HTML page.
 *
 *     import { runStress } from 'multikernel/stress'
 *     const s = await runStress({ producers: 4, consumers: 2, capacity: 16, frames: 1e6 })
 *     if (!s.verification.ok) console.error(s.verification.problems)
 */
import { MAX_FRAME, MIN_FRAME, slotBytesFor } from './frame.js'
import type { Fault } from './protocol.js'
import { runStressConfig, type Progress, type StressConfig } from './run.js'
import { summarize, type StressRunSummary } from './summary.js'
import { WAIT_STRATEGIES, type WaitStrategy } from './wait.js'

export { WAIT_STRATEGIES, type WaitStrategy } from './wait.js'
export { MAX_FRAME, MIN_FRAME, slotBytesFor } from './frame.js'
export type { Progress, StressConfig } from './run.js'
export {
  STRESS_SCHEMA,
  jain,
  type StressJson,
  type StressRunSummary,
  type StressVerification,
} from './summary.js'

export interface StressOptions {
  /** Producer threads (default 4). */
  producers?: number
  /** Consumer threads (default 2). */
  consumers?: number
  /** Ring capacity in slots, a power of two from 2 to 2^20 (default 64). */
  capacity?: number
  /** Bytes per frame, its 20-byte header included (default 56: one 64-byte slot). */
  frameSize?: number
  /** What a blocked thread does (default 'spin-then-sleep'). */
  wait?: WaitStrategy
  /** Spin bound of spin and spin-then-sleep; 0 = no spinning (default 256). */
  spin?: number
  /** Total frames over all producers (default 200 000, unless durationMs is given). */
  frames?: number
  /** Run for this long instead of a frame count (at most 300 000 ms). */
  durationMs?: number
  /** Called about ten times a second while the run lasts. */
  onProgress?: (p: Progress) => void
}

export const STRESS_DEFAULTS = {
  producers: 4,
  consumers: 2,
  capacity: 64,
  frameSize: 56,
  wait: 'spin-then-sleep' as WaitStrategy,
  spin: 256,
  frames: 200_000,
}

/** Limits every run is held to (the command line's options share them). */
export const STRESS_LIMITS = {
  threads: 64,
  capacity: 1 << 20,
  ringBytes: 256 * 1024 * 1024,
  frames: 2 ** 31 - 1,
  durationMs: 300_000,
}

function intIn(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${typeof v}`)
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${v}`)
  }
  return v
}

/**
 * Check `o` and fill in the defaults: the exact configuration a run will use.
 * Bad values throw TypeError or RangeError naming the option.
 */
export function stressConfig(o: StressOptions = {}, fault: Fault | null = null): StressConfig {
  const d = STRESS_DEFAULTS
  const L = STRESS_LIMITS
  const producers = intIn('producers', o.producers ?? d.producers, 1, L.threads)
  const consumers = intIn('consumers', o.consumers ?? d.consumers, 1, L.threads)
  const capacity = intIn('capacity', o.capacity ?? d.capacity, 2, L.capacity)
  if ((capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`capacity must be a power of two, got ${capacity}`)
  }
  const frameSize = intIn('frameSize', o.frameSize ?? d.frameSize, MIN_FRAME, MAX_FRAME)
  if (capacity * slotBytesFor(frameSize) > L.ringBytes) {
    throw new RangeError(
      `a ring of ${capacity} slots of ${slotBytesFor(frameSize)} bytes exceeds ${L.ringBytes} bytes`,
    )
  }
  const wait = o.wait ?? d.wait
  if (!(WAIT_STRATEGIES as readonly string[]).includes(wait)) {
    throw new RangeError(`wait must be one of ${WAIT_STRATEGIES.join(', ')}, got ${String(wait)}`)
  }
  const spin = intIn('spin', o.spin ?? d.spin, 0, 2 ** 31 - 1)
  if (o.frames !== undefined && o.durationMs !== undefined) {
    throw new TypeError('give either frames or durationMs, not both')
  }
  let frames: number | null = null
  let durationMs: number | null = null
  if (o.durationMs !== undefined) {
    const ms = o.durationMs
    if (typeof ms !== 'number' || !(ms > 0) || ms > L.durationMs) {
      throw new RangeError(`durationMs must be above 0 and at most ${L.durationMs}, got ${ms}`)
    }
    durationMs = ms
  } else {
    frames = intIn('frames', o.frames ?? d.frames, producers, L.frames)
  }
  return { producers, consumers, capacity, frameSize, wait, spin, frames, durationMs, fault }
}

/** One verified stress run: its summary (the shape `multikernel stress --json` prints). */
export async function runStress(options: StressOptions = {}): Promise<StressRunSummary> {
  const config = stressConfig(options)
  return summarize(await runStressConfig(config, options.onProgress))
}
