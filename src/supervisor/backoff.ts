/**
 * Restart pacing, from two originals:
 *  - MINIX 3's reincarnation server backs off exponentially: the first failure is
 *    restarted at once, then after 2, 4, 8, 16 and at most 30 periods.
 *  - Erlang/OTP supervisors bound restart intensity: more than `maxRestarts`
 *    restarts within `withinMs` and the supervisor gives up and reports.
 * A run that stayed up for `healthyMs` resets the backoff to its first step.
 */
import { Fifo } from '../fifo.js'
import { describe, intOption, MAX_TIMER_MS, msOption, optionsObject } from '../kernel/options.js'

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

/** The keys of RestartLimits (a service's options include them). */
export const RESTART_LIMITS = ['backoff', 'maxRestarts', 'withinMs', 'healthyMs'] as const

/**
 * Restart limits, checked, each refusal naming `what`.key: backoff a non-empty
 * array of finite non-negative periods, maxRestarts a non-negative integer,
 * withinMs and healthyMs timer delays (healthyMs may be 0: every run is healthy).
 */
export function checkRestartLimits(what: string, limits: RestartLimits | undefined): RestartLimits {
  const o = optionsObject(what, limits, RESTART_LIMITS)
  return pickRestartLimits(what, o)
}

/** The restart limits among `o`'s keys (a service's options hold others too), checked. */
export function pickRestartLimits(what: string, o: RestartLimits): RestartLimits {
  const steps = o.backoff ?? MINIX_BACKOFF
  if (!Array.isArray(steps) || steps.length === 0)
    throw new TypeError(
      `${what}.backoff must be a non-empty array of periods, got ${describe(steps)}`,
    )
  for (const s of steps as unknown[]) {
    if (typeof s !== 'number' || !(s >= 0 && s <= MAX_TIMER_MS))
      throw new RangeError(
        `${what}.backoff must hold finite non-negative numbers of periods, got ${describe(s)}`,
      )
  }
  const withinMs = msOption(`${what}.withinMs`, o.withinMs, 10_000)
  return {
    backoff: (steps as number[]).slice(),
    maxRestarts: intOption(`${what}.maxRestarts`, o.maxRestarts, 5, 0),
    withinMs,
    healthyMs: msOption(`${what}.healthyMs`, o.healthyMs, withinMs, true),
  }
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
    const l = pickRestartLimits('restart limits', limits) as Required<RestartLimits>
    this.steps = l.backoff
    this.maxRestarts = l.maxRestarts
    this.withinMs = l.withinMs
    this.healthyMs = l.healthyMs
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
    // A timer keeps at most MAX_TIMER_MS: a longer delay would fire after 1 ms.
    const delayMs = Math.min(step * this.periodMs, MAX_TIMER_MS)
    return { giveUp: false, delayMs, attempt: this.attempt }
  }

  /** An explicit restart (rt.services.restart): start afresh. */
  reset(): void {
    this.attempt = 0
    this.history.clear()
  }
}
