/**
 * The main thread's side of the hot path, for every spawnd link at once:
 *
 *  - requests are written into rings as they are made and published once per
 *    synchronous batch (a microtask), after which the main thread polls every reply
 *    ring for a bounded while (hotSpinMicros), so a hot core answers in microseconds
 *    without a wake-up;
 *  - otherwise one async loop sleeps on one doorbell shared by every spawnd
 *    (Atomics.waitAsync, bounded, re-checking) and drains every reply ring on each
 *    wake-up, yielding to the event loop between busy batches so timers and I/O of
 *    the embedding server keep running.
 *
 *   caller -> SpawndLink.request -> sender -> request ring ...flush (microtask)... spawnd
 *   caller <- handler <- receive queue <- drain <- reply ring <- spawnd (rings mainBell)
 *
 * The main thread never blocks in Atomics.wait; every spin is time-bounded.
 */
import type { Doorbell } from '../ring/doorbell.js'
import type { SpawndLink } from './spawnd_link.js'
import { noop } from './timers.js'

/** What the pump drives: the reply drain (reply_drain.ts). */
export interface PumpedLinks {
  readonly spawnds: readonly SpawndLink[]
  /** Handle every frame in one reply ring; returns how many. */
  drain(s: SpawndLink): number
  /** Requests not yet answered on every core. */
  outstanding(): number
}

/**
 * Longest the pump spins for replies within one event-loop turn, ms. Past it the
 * replies are left to the async loop, so timers and I/O of the embedding server
 * wait at most about this long for the hot path.
 */
const TURN_SPIN_LIMIT_MS = 0.5

const RESOLVED = Promise.resolve()

export class Pump {
  private flushScheduled = false
  /** performance.now() when this event-loop turn first spun, 0 when it has not. */
  private turnStart = 0
  private closed = false
  private keepAlive: NodeJS.Timeout | null = null
  private loopDone: Promise<void> = Promise.resolve()
  private loopEnded: () => void = noop
  /** Replies came on the async side's last round: more are likely on their way. */
  private flowing = false
  /** The async side's next round waits in setImmediate (stepSoon). */
  private stepPending = false
  private readonly anyReply: () => boolean

  constructor(
    private readonly links: PumpedLinks,
    private readonly mainBell: Doorbell,
    private readonly hotSpinMs: number,
  ) {
    this.anyReply = () => {
      const spawnds = this.links.spawnds
      for (let i = 0; i < spawnds.length; i++) {
        const s = spawnds[i]
        if (s.health === 'up' && !s.chan.rx.isEmpty()) return true
      }
      return this.closed
    }
  }

  /** Start the async loop, holding a ref'd handle while the runtime is open. */
  start(): void {
    // A pending waitAsync does not keep Node alive, and an open runtime is a
    // server's reason to live.
    this.keepAlive = setInterval(noop, 1 << 30)
    this.loopDone = new Promise((resolve) => {
      this.loopEnded = resolve
    })
    this.step()
  }

  /** End the loop and let the process exit. */
  async stop(): Promise<void> {
    this.closed = true
    this.mainBell.wake()
    await this.loopDone
    if (this.keepAlive !== null) clearInterval(this.keepAlive)
    this.keepAlive = null
  }

  /**
   * A request was queued: publish this turn's batch from a microtask. (A promise
   * job, not queueMicrotask: Node wraps each of those in an async resource, a few
   * hundred bytes per batch. flushNow hands its own exceptions to queueMicrotask,
   * so a throw is still an uncaught exception, not a rejection.)
   */
  schedule(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    void RESOLVED.then(this.flushNowGuarded)
  }

  private readonly flushNowGuarded = (): void => {
    try {
      this.flushNow()
    } catch (err) {
      queueMicrotask(() => {
        throw err
      })
    }
  }

  /**
   * Publish every batch written this turn; then poll the reply rings for at most
   * hotSpinMicros, until the first replies are handled: their clients'
   * continuations must run next (they are what sends the following requests), and
   * they run only once this microtask returns. No spinning once the current
   * event-loop turn has spun for TURN_SPIN_LIMIT_MS: a chain of requests each
   * answered within the spin (an `await rt.ping()` loop) would otherwise never
   * return to the event loop; past the limit the async loop takes the replies.
   */
  private readonly flushNow = (): void => {
    this.flushScheduled = false
    const spawnds = this.links.spawnds
    for (let i = 0; i < spawnds.length; i++) spawnds[i].flush()
    if (this.hotSpinMs <= 0 || this.links.outstanding() === 0) return
    const now = performance.now()
    if (this.turnStart === 0) {
      this.turnStart = now
      // The async side's own pending immediate marks the turn as well: one fewer per turn.
      if (!this.stepPending) setImmediate(this.turnPassed)
    } else if (now - this.turnStart > TURN_SPIN_LIMIT_MS) {
      return
    }
    const end = now + this.hotSpinMs
    for (let k = 1; ; k++) {
      if (this.drainAll() > 0) return
      if ((k & 15) === 0 && performance.now() > end) return
    }
  }

  /** The event loop turned (a check phase ran): spinning is allowed again. */
  private readonly turnPassed = (): void => {
    this.turnStart = 0
  }

  /** Drain every reply ring once, then flush what the handlers sent. */
  drainAll(): number {
    let n = 0
    const spawnds = this.links.spawnds
    for (let i = 0; i < spawnds.length; i++)
      if (spawnds[i].health === 'up') n += this.links.drain(spawnds[i])
    // Replies free ring room and their handlers may have sent follow-ups.
    for (let i = 0; i < spawnds.length; i++) spawnds[i].flush()
    return n
  }

  /**
   * The async side of the pump, one round per call: drain every reply ring, and
   * when some replied, come back after the event loop turned (setImmediate), so
   * timers and I/O run between busy batches. When dry right after a batch, with
   * requests outstanding, poll for up to hotSpinMicros before sleeping: while this
   * side sleeps in waitAsync, every spawnd publish must Atomics.notify it
   * (microseconds on the spawnd, and a task to wake this thread), so a reply on its
   * way is cheaper caught by a short poll. Then sleep on the doorbell every spawnd
   * rings (bounded, re-checking). (Callbacks, not an async loop: an await per round
   * was a promise, its resolvers and a closure of garbage per domain at 1 in flight.)
   */
  private readonly step = (): void => {
    for (;;) {
      if (this.closed) return this.loopEnded()
      if (this.drainAll() > 0) {
        this.flowing = true
        this.stepPending = true
        setImmediate(this.stepSoon)
        return
      }
      const busy = this.links.outstanding() > 0
      // A request that takes long (a module to load) gets one poll, not one per bounded wait.
      if (this.flowing && busy && this.hotSpinMs > 0 && this.awaitReply(this.hotSpinMs)) continue
      this.flowing = false
      void this.mainBell.waitAsync(this.anyReply, 0, busy ? 5 : 50).then(this.step)
      return
    }
  }

  /** The async side's round after the event loop turned: a check phase ran, so spinning is allowed again. */
  private readonly stepSoon = (): void => {
    this.stepPending = false
    this.turnStart = 0
    this.step()
  }

  /** Poll the reply rings for at most `ms`; true as soon as one holds a frame. */
  private awaitReply(ms: number): boolean {
    const end = performance.now() + ms
    for (let k = 1; ; k++) {
      if (this.anyReply()) return true
      if ((k & 15) === 0 && performance.now() > end) return false
    }
  }
}
