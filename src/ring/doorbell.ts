/**
 * Doorbell: the sleep/wake protocol beside a ring. A consumer spins a bounded
 * while, then announces that it sleeps and waits on a futex word; a producer, after
 * publishing, notifies only when someone announced sleep. With nobody asleep,
 * ringing costs one Atomics.load.
 *
 * Memory layout: one 64-byte line at `byteOffset` (a line of its own so ringing
 * never shares a line with ring indices):
 *
 *     +0  [0] seq      bumped by a ringer that saw a sleeper; the futex word
 *     +4  [1] sleepers count of threads between announcing sleep and waking
 *     +8  [2] armed    1: a sleep was announced and no ringer has woken it yet
 *     +12 [3..15] unused
 *
 * No lost wake-up (a Dekker-style argument over sequentially consistent atomics):
 * the sleeper does  s = load(seq); add(sleepers); store(armed, 1);
 *                   if (ready()) return; wait(seq, s)
 * the ringer does   publish data; if (load(sleepers) > 0 && exchange(armed, 0) === 1)
 *                   { add(seq); notify(seq) }
 * Either the sleeper's ready() sees the published data, or the ringer's load sees
 * the sleeper and its exchange sees armed (set before ready() was checked), bumps
 * seq and notifies; or another ringer disarmed it after it was set, and that
 * ringer bumps seq after the sleeper read it, so the sleeper's wait is woken or
 * finds seq != s and returns at once. Several sleepers (MPMC consumers) are all
 * woken by the one notify. `armed` makes one notify per sleep: a woken thread stays
 * counted in `sleepers` until it runs again (on a busy machine, a while), and
 * without it every ringer meanwhile would notify again, for nobody. Each notify
 * wakes a thread the OS may then run in the ringer's place.
 */
import { KernelError } from '../errors.js'
import { checkSpin, checkWaitMs } from './checks.js'
import {
  AtomicsAdd,
  AtomicsExchange,
  AtomicsLoad,
  AtomicsNotify,
  AtomicsStore,
  AtomicsSub,
  AtomicsWait,
  AtomicsWaitAsync,
} from '../intrinsics.js'

export const DOORBELL_BYTES = 64
const SEQ = 0
const SLEEPERS = 1
const ARMED = 2
/** announce()'s answer when no sleep is needed: seq is an int32, so never 0.5. */
const READY = 0.5

/** Spin iterations before sleeping; small because cores are oversubscribed here. */
export const DEFAULT_SPIN = 256
/** Bound on one async wait: waitAsync has been reported to miss wake-ups under load. */
export const DEFAULT_ASYNC_TIMEOUT_MS = 50

export type ReadyCheck = () => boolean

export class Doorbell {
  /** Lay out a quiet doorbell at `byteOffset` of `sab`. */
  static init(sab: SharedArrayBuffer, byteOffset: number): Doorbell {
    const bell = new Doorbell(sab, byteOffset)
    AtomicsStore(bell.word, SEQ, 0)
    AtomicsStore(bell.word, SLEEPERS, 0)
    AtomicsStore(bell.word, ARMED, 0)
    return bell
  }

  /** A doorbell in a SharedArrayBuffer of its own. */
  static create(): Doorbell {
    return Doorbell.init(new SharedArrayBuffer(DOORBELL_BYTES), 0)
  }

  readonly buffer: SharedArrayBuffer
  readonly byteOffset: number
  /** Times this side rang with a sleeper present (an Atomics.notify was issued). */
  notifies = 0
  /** Times this side went to sleep (reached Atomics.wait / waitAsync). */
  sleeps = 0
  private readonly word: Int32Array

  constructor(sab: SharedArrayBuffer, byteOffset = 0) {
    // A futex word in unshared memory can never be notified from another thread: every
    // wait on it would sleep out its whole timeout.
    if (!(sab instanceof SharedArrayBuffer)) {
      throw new KernelError('BAD_BUFFER', 'a doorbell lives in a SharedArrayBuffer')
    }
    if (
      !(byteOffset >= 0) ||
      byteOffset % 4 !== 0 ||
      byteOffset + DOORBELL_BYTES > sab.byteLength
    ) {
      throw new RangeError(`a doorbell needs ${DOORBELL_BYTES} bytes at a 4-aligned offset`)
    }
    this.buffer = sab
    this.byteOffset = byteOffset
    this.word = new Int32Array(sab, byteOffset, 3)
  }

  /** Producer side: wake the sleepers, if any not yet woken. Call after publishing. */
  ring(): void {
    if (AtomicsLoad(this.word, SLEEPERS) !== 0 && AtomicsExchange(this.word, ARMED, 0) === 1) {
      this.wake()
    }
  }

  /** Wake unconditionally (close, shutdown). */
  wake(): void {
    AtomicsAdd(this.word, SEQ, 1)
    AtomicsNotify(this.word, SEQ)
    this.notifies++
  }

  /** True while some thread has announced it sleeps here. */
  hasSleepers(): boolean {
    return AtomicsLoad(this.word, SLEEPERS) !== 0
  }

  /** The arguments of a wait, checked before it announces anything (cheap compares). */
  private checkWait(ready: ReadyCheck, spin: number, timeoutMs: number): void {
    if (typeof ready !== 'function') {
      throw new TypeError(`ready must be a function returning a boolean, got ${typeof ready}`)
    }
    checkSpin(spin)
    checkWaitMs(timeoutMs)
  }

  /**
   * The first half of every wait: spin, then read seq and announce sleep, then
   * re-check (the order the no-lost-wake-up argument above needs). Returns READY
   * when the wait is over already (nothing announced), else the seq to sleep on,
   * with this thread counted among the sleepers.
   */
  private announce(ready: ReadyCheck, spin: number): number {
    for (let i = 0; i < spin; i++) if (ready()) return READY
    const s = AtomicsLoad(this.word, SEQ)
    AtomicsAdd(this.word, SLEEPERS, 1)
    AtomicsStore(this.word, ARMED, 1)
    let now: boolean
    try {
      now = ready()
    } catch (err) {
      // A throwing check must not leave this thread counted as asleep: every later
      // ring() would then pay for a notify nobody needs.
      AtomicsSub(this.word, SLEEPERS, 1)
      throw err
    }
    if (now) {
      AtomicsSub(this.word, SLEEPERS, 1)
      return READY
    }
    this.sleeps++
    return s
  }

  /**
   * Blocking wait for a worker thread: spin `spin` checks of `ready`, then sleep in
   * Atomics.wait for at most `timeoutMs`. Returns ready() after waking. Never call
   * this on the main thread: Node allows Atomics.wait there, but it freezes the event
   * loop, so the rule is ours to keep.
   */
  waitSync(ready: ReadyCheck, spin = DEFAULT_SPIN, timeoutMs = Infinity): boolean {
    this.checkWait(ready, spin, timeoutMs)
    const s = this.announce(ready, spin)
    if (s === READY) return true
    AtomicsWait(this.word, SEQ, s, timeoutMs)
    AtomicsSub(this.word, SLEEPERS, 1)
    return ready()
  }

  /**
   * Non-blocking wait for a thread whose event loop must keep turning (the main
   * thread, or a spawnd hosting domains): spin, then Atomics.waitAsync bounded by
   * `timeoutMs`. Resolves to ready() after waking or timing out; callers loop.
   * The pending waitAsync does not keep Node alive; a caller that must stay alive
   * holds a ref'd handle of its own (Channel and the process manager do).
   */
  async waitAsync(
    ready: ReadyCheck,
    spin = DEFAULT_SPIN,
    timeoutMs = DEFAULT_ASYNC_TIMEOUT_MS,
  ): Promise<boolean> {
    this.checkWait(ready, spin, timeoutMs)
    const s = this.announce(ready, spin)
    if (s === READY) return true
    const r = AtomicsWaitAsync(this.word, SEQ, s, timeoutMs)
    if (r.async) await r.value
    AtomicsSub(this.word, SLEEPERS, 1)
    return ready()
  }
}
