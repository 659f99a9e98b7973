/**
 * Restart pacing, from two originals:
 *  - MINIX 3's reincarnation server backs off exponentially: the first failure is
 *    restarted at once, then after 2, 4, 8, 16 and at most 30 periods.
 *  - Erlang/OTP supervisors bound restart intensity: more than `maxRestarts`
 *    restarts within `withinMs` and the supervisor gives up and reports.
 * A run that stayed up for `healthyMs` resets the backoff to its first step.
 */
import { Fifo } from '../fifo.js'

/** MINIX RS's schedule, in supervisor periods. */
export const MINIX_BACKOFF: readonly number[] = [0, 2, 4, 8, 16, 30]

export interface RestartLimits {
  /** Delay steps in periods; the last repeats. Default MINIX_BACKOFF. */
  backoff?: readonly number[]
  /** Restarts allowed within `withinMs` before giving up. Default 5. */
  maxRestarts?: number
  /** The intensity window. Default 10 s. */
  withinMs?: number
  /** A run at least this long resets the backoff. Default `withinMs`. */
  healthyMs?: number
}

export type Verdict =
  { giveUp: true; restarts: number } | { giveUp: false; delayMs: number; attempt: number }

export class RestartPacer {
  private readonly steps: readonly number[]
  private readonly maxRestarts: number
  readonly withinMs: number
  private readonly healthyMs: number
  private readonly periodMs: number
  private attempt = 0
  /** Times of the restarts within the intensity window, oldest first. */
  private readonly history = new Fifo<number>()

  constructor(periodMs: number, limits: RestartLimits = {}) {
    this.periodMs = periodMs
    this.steps = limits.backoff ?? MINIX_BACKOFF
    if (this.steps.length === 0 || this.steps.some((s) => !(s >= 0))) {
      throw new RangeError('backoff must be a non-empty list of non-negative periods')
    }
    this.maxRestarts = limits.maxRestarts ?? 5
    this.withinMs = limits.withinMs ?? 10_000
    this.healthyMs = limits.healthyMs ?? this.withinMs
    if (!Number.isInteger(this.maxRestarts) || this.maxRestarts < 0) {
      throw new RangeError('maxRestarts must be a non-negative integer')
    }
    if (!(this.withinMs > 0)) throw new RangeError('withinMs must be positive')
  }

  /** A failure happened after a run of `ranMs`: restart after a delay, or give up. */
  failed(now: number, ranMs: number): Verdict {
    if (ranMs >= this.healthyMs) this.attempt = 0
    while (this.history.length > 0 && now - this.history.peek()! > this.withinMs)
      this.history.shift()
    if (this.history.length >= this.maxRestarts)
      return { giveUp: true, restarts: this.history.length }
    this.history.push(now)
    const step = this.steps[Math.min(this.attempt, this.steps.length - 1)]
    this.attempt++
    return { giveUp: false, delayMs: step * this.periodMs, attempt: this.attempt }
  }

  /** An explicit restart (rt.services.restart): start afresh. */
  reset(): void {
    this.attempt = 0
    this.history.clear()
  }
}
