/**
 * Wait strategies of the stress workers, for a producer facing a full ring or a
 * consumer facing an empty one:
 *   spin             spin `spin` checks, then yield (a short timed Atomics.wait on a
 *                    private word nobody notifies), and again; never relies on a wake-up
 *   sleep            the doorbell with zero spin: announce sleep at once, be woken
 *   spin-then-sleep  the doorbell with a spin bound, then sleep
 * Spinning is always bounded: stress runs put more threads than CPUs on this machine,
 * and an unbounded spinner would starve the very thread it waits for.
 */
import { Doorbell, type ReadyCheck } from '../ring/index.js'
import { YIELD_WORD } from './control.js'

export const WAIT_STRATEGIES = ['spin', 'sleep', 'spin-then-sleep'] as const
export type WaitStrategy = (typeof WAIT_STRATEGIES)[number]

/** One yield of the spin strategy: long enough for the scheduler to run someone else. */
const YIELD_MS = 0.05
/** Bound on one doorbell sleep: a safety net, the wake-up normally comes first. */
const SLEEP_TIMEOUT_MS = 100

export class Waiter {
  /** Times the spin strategy yielded the CPU. */
  yields = 0
  /** Whether the other side may be asleep on our doorbell (so we must ring it). */
  readonly rings: boolean
  private readonly spin: number

  constructor(
    private readonly strategy: WaitStrategy,
    /** The doorbell this side sleeps on. */
    readonly bell: Doorbell,
    spin: number,
    private readonly ctrl: Int32Array,
  ) {
    this.rings = strategy !== 'spin'
    // spin 0 means no spinning: spin-then-sleep sleeps at once; the spin strategy
    // still looks once before each yield.
    this.spin = strategy === 'spin' ? Math.max(1, spin) : Math.max(0, spin)
  }

  /** Block until ready() returns true. */
  wait(ready: ReadyCheck): void {
    if (this.strategy === 'spin') {
      for (;;) {
        for (let i = 0; i < this.spin; i++) if (ready()) return
        this.yields++
        Atomics.wait(this.ctrl, YIELD_WORD, 0, YIELD_MS)
      }
    }
    const spin = this.strategy === 'sleep' ? 0 : this.spin
    while (!this.bell.waitSync(ready, spin, SLEEP_TIMEOUT_MS)) {
      // Timed out or woken for another waiter: check again.
    }
  }
}
