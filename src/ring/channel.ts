/**
 * Channel: two SPSC rings and their doorbells, a duplex link between two threads.
 * One thread creates it (side A) and transfers `channel.buffer` to the other, which
 * attaches (side B). A->B is A's transmit ring and B's receive ring, and vice versa.
 *
 * Memory layout of the channel's SharedArrayBuffer (bytes):
 *
 *     +0     header line (64 B): [0] magic 'MKCH' [1] version [2] capacity A->B
 *                                [3] capacity B->A [4] closed (0 open, else the
 *                                reason word: 1 by default; sessions store an end
 *                                reason, src/session/end_reason.ts)
 *     +64    doorbell: data for B   (B sleeps here when A->B is empty)
 *     +128   doorbell: room for A   (A sleeps here when A->B is full)
 *     +192   doorbell: data for A   (A sleeps here when B->A is empty)
 *     +256   doorbell: room for B   (B sleeps here when B->A is full)
 *     +320   ring A->B  (SpscRing.byteLength(capacity A->B))
 *     +...   ring B->A  (SpscRing.byteLength(capacity B->A))
 *
 * Close: either side (or a third thread holding the buffer) stores a non-zero reason
 * word in `closed` (compare-exchange from 0: the first close wins and its reason is
 * the one both sides read) and wakes all four doorbells, so every sleeper returns
 * and sees it. After close, sends throw CHANNEL_CLOSED; frames
 * already published stay readable until drained.
 */
import { KernelError } from '../errors.js'
import {
  DEFAULT_ASYNC_TIMEOUT_MS,
  DEFAULT_SPIN,
  DOORBELL_BYTES,
  Doorbell,
  type ReadyCheck,
} from './doorbell.js'
import { SpscRing } from './spsc.js'
import { checkSpin, checkWaitMs, notBytes, refuseLength, shown } from './checks.js'
import {
  AtomicsCompareExchange,
  AtomicsLoad,
  AtomicsStore,
  DateNow,
  MathMin,
} from '../intrinsics.js'

export const CHANNEL_MAGIC = 0x4d4b4348 // 'MKCH'
export const CHANNEL_VERSION = 1
const MAGIC = 0
const VERSION = 1
const CAP_AB = 2
const CAP_BA = 3
const CLOSED = 4
const BELLS_AT = 64
const RINGS_AT = BELLS_AT + 4 * DOORBELL_BYTES

export interface ChannelOptions {
  /** Data bytes of each ring (power of two). Default 65536. */
  capacity?: number
  /** Data bytes of the B->A ring, when it should differ from A->B. */
  replyCapacity?: number
  /** Spin iterations before a wait sleeps. Default DEFAULT_SPIN. */
  spin?: number
}

export type ChannelSide = 'a' | 'b'

function noop(): void {}

/** A wait's verdict now: true or false ends it, null keeps waiting. */
type Outcome = () => boolean | null

export class Channel {
  /** Bytes a channel of these capacities needs. */
  static byteLength(capacity: number, replyCapacity = capacity): number {
    return RINGS_AT + SpscRing.byteLength(capacity) + SpscRing.byteLength(replyCapacity)
  }

  /** Create a channel and return side A. Transfer `buffer` to the peer thread. */
  static create(opts: ChannelOptions = {}): Channel {
    const capAB = opts.capacity ?? 65536
    const capBA = opts.replyCapacity ?? capAB
    const sab = new SharedArrayBuffer(Channel.byteLength(capAB, capBA))
    const hdr = new Int32Array(sab, 0, 16)
    hdr[VERSION] = CHANNEL_VERSION
    hdr[CAP_AB] = capAB
    hdr[CAP_BA] = capBA
    for (let i = 0; i < 4; i++) Doorbell.init(sab, BELLS_AT + i * DOORBELL_BYTES)
    SpscRing.init(sab, RINGS_AT, capAB)
    SpscRing.init(sab, RINGS_AT + SpscRing.byteLength(capAB), capBA)
    AtomicsStore(hdr, MAGIC, CHANNEL_MAGIC)
    return new Channel(sab, 'a', opts.spin)
  }

  /** Attach side B to a channel created on another thread (checks magic, version, size). */
  static attach(sab: SharedArrayBuffer, opts: { spin?: number } = {}): Channel {
    return new Channel(sab, 'b', opts.spin)
  }

  readonly buffer: SharedArrayBuffer
  readonly side: ChannelSide
  /** The ring this side produces into. */
  readonly tx: SpscRing
  /** The ring this side consumes from. */
  readonly rx: SpscRing
  /** Rung by the peer when it publishes into rx; this side sleeps on it. */
  readonly rxBell: Doorbell
  /** This side rings it after publishing into tx. */
  readonly txBell: Doorbell
  /** The peer sleeps on it when tx is full; this side rings it after releasing rx. */
  readonly rxRoomBell: Doorbell
  /** This side sleeps on it when tx is full. */
  readonly txRoomBell: Doorbell
  spin: number

  private readonly hdr: Int32Array
  private readonly readable: ReadyCheck
  private readonly writable: ReadyCheck
  /** Readable: frames left (even after close) is true, closed is false, else undecided. */
  private readonly readableNow: Outcome
  /** Writable: closed is false, room for writableNeed is true, else undecided. */
  private readonly writableNow: Outcome
  private writableNeed = 0

  constructor(sab: SharedArrayBuffer, side: ChannelSide, spin = DEFAULT_SPIN) {
    if (!(sab instanceof SharedArrayBuffer)) {
      throw new KernelError('BAD_BUFFER', 'a channel lives in a SharedArrayBuffer')
    }
    // Anything but 'a' would silently be side B: two threads on one side share a
    // producer and corrupt its ring.
    if (side !== 'a' && side !== 'b') {
      throw new TypeError(`a channel side is 'a' or 'b', got ${shown(side)}`)
    }
    checkSpin(spin)
    if (sab.byteLength < RINGS_AT) {
      throw new KernelError('BAD_BUFFER', `a ${sab.byteLength}-byte buffer holds no channel`)
    }
    const hdr = new Int32Array(sab, 0, 16)
    if (AtomicsLoad(hdr, MAGIC) !== CHANNEL_MAGIC) {
      throw new KernelError('BAD_BUFFER', 'not a channel buffer (bad magic)')
    }
    if (hdr[VERSION] !== CHANNEL_VERSION) {
      throw new KernelError(
        'BAD_BUFFER',
        `channel version ${hdr[VERSION]}, expected ${CHANNEL_VERSION}`,
      )
    }
    const capAB = hdr[CAP_AB]
    const capBA = hdr[CAP_BA]
    let expected: number
    try {
      expected = Channel.byteLength(capAB, capBA)
    } catch (err) {
      throw KernelError.push(err, 'BAD_BUFFER', 'channel header names impossible ring sizes')
    }
    if (expected !== sab.byteLength) {
      throw new KernelError(
        'BAD_BUFFER',
        `channel buffer is ${sab.byteLength} bytes, its header says ${expected}`,
      )
    }
    this.buffer = sab
    this.side = side
    this.hdr = hdr
    this.spin = spin
    const ab = new SpscRing(sab, RINGS_AT)
    const ba = new SpscRing(sab, RINGS_AT + SpscRing.byteLength(capAB))
    const bell = (i: number): Doorbell => new Doorbell(sab, BELLS_AT + i * DOORBELL_BYTES)
    const dataB = bell(0)
    const roomA = bell(1)
    const dataA = bell(2)
    const roomB = bell(3)
    if (side === 'a') {
      this.tx = ab
      this.rx = ba
      this.rxBell = dataA
      this.txBell = dataB
      this.rxRoomBell = roomB
      this.txRoomBell = roomA
    } else {
      this.tx = ba
      this.rx = ab
      this.rxBell = dataB
      this.txBell = dataA
      this.rxRoomBell = roomA
      this.txRoomBell = roomB
    }
    // Allocated once: the wait loops pass these instead of fresh closures.
    this.readable = () => !this.rx.isEmpty() || this.closed
    this.writable = () => this.tx.canReserve(this.writableNeed) || this.closed
    this.readableNow = () => (!this.rx.isEmpty() ? true : this.closed ? false : null)
    this.writableNow = () =>
      this.closed ? false : this.tx.canReserve(this.writableNeed) ? true : null
  }

  /** True once either side closed the channel. */
  get closed(): boolean {
    return AtomicsLoad(this.hdr, CLOSED) !== 0
  }

  private refuseIfClosed(): void {
    if (AtomicsLoad(this.hdr, CLOSED) !== 0) {
      throw new KernelError('CHANNEL_CLOSED', 'the channel is closed; nothing more is accepted')
    }
  }

  // ------------------------------------------------------------------ send

  /** Reserve a frame in tx (see SpscRing.reserve); throws CHANNEL_CLOSED once closed. */
  reserve(length: number): number {
    this.refuseIfClosed()
    return this.tx.reserve(length)
  }

  /** Publish reserved frames and ring the peer if it sleeps. */
  flush(): void {
    this.tx.publish()
    this.txBell.ring()
  }

  /** Copy one frame (a Uint8Array) in and flush. False when the ring is full (nothing was written). */
  send(payload: Uint8Array): boolean {
    if (!(payload instanceof Uint8Array)) notBytes(payload)
    const at = this.reserve(payload.length)
    if (at < 0) {
      // reserve() may have committed a wrap marker: the peer must see it to pass it.
      this.flush()
      return false
    }
    this.tx.bytes.set(payload, at)
    this.flush()
    return true
  }

  // --------------------------------------------------------------- receive

  /** Next frame's payload offset in rx.bytes (length in rx.frameLength), or -1. */
  poll(): number {
    return this.rx.poll()
  }

  /** Release polled frames and ring the peer if it waits for room. */
  release(): void {
    this.rx.release()
    this.rxRoomBell.ring()
  }

  /** Copy the next frame out and release it (allocates). Null when none. */
  recv(): Uint8Array | null {
    const at = this.rx.poll()
    if (at < 0) {
      // poll() may have skipped a wrap marker: hand its bytes back, or a peer waiting
      // for room at offset 0 waits forever.
      this.release()
      return null
    }
    const out = this.rx.bytes.slice(at, at + this.rx.frameLength)
    this.release()
    return out
  }

  // ----------------------------------------------------------------- waits

  /**
   * Worker threads: block until a frame is readable or the channel closes, at most
   * `timeoutMs`. True when readable (a closed channel with frames left is readable).
   */
  waitReadable(timeoutMs = Infinity): boolean {
    checkWaitMs(timeoutMs)
    return this.until(this.rxBell, this.readableNow, this.readable, timeoutMs)
  }

  /**
   * Any thread, without blocking its event loop: resolves true when a frame is
   * readable, false on close or timeout. Each sleep is a bounded waitAsync that
   * re-checks; a ref'd timer keeps the process alive while this waits.
   */
  async readableAsync(timeoutMs = Infinity): Promise<boolean> {
    checkWaitMs(timeoutMs)
    return this.untilAsync(this.rxBell, this.readableNow, this.readable, timeoutMs)
  }

  /**
   * Worker threads: flush, then block until a frame of `length` payload bytes can
   * be reserved in tx (or the channel closes), at most `timeoutMs`. True when it can.
   */
  waitWritable(length: number, timeoutMs = Infinity): boolean {
    this.checkWritable(length, timeoutMs)
    this.writableNeed = length
    this.flush()
    return this.until(this.txRoomBell, this.writableNow, this.writable, timeoutMs)
  }

  /** Async counterpart of waitWritable (bad arguments reject). */
  async writableAsync(length: number, timeoutMs = Infinity): Promise<boolean> {
    this.checkWritable(length, timeoutMs)
    this.writableNeed = length
    this.flush()
    return this.untilAsync(this.txRoomBell, this.writableNow, this.writable, timeoutMs)
  }

  /**
   * A length no frame can have would never become writable: refuse it (as reserve()
   * does) instead of waiting out the whole timeout, or for ever.
   */
  private checkWritable(length: number, timeoutMs: number): void {
    if (length >>> 0 !== length || length > this.tx.maxPayload) {
      refuseLength(length, this.tx.capacity, this.tx.maxPayload)
    }
    checkWaitMs(timeoutMs)
  }

  /** Sleep on `bell` until `outcome` decides (true/false), at most `timeoutMs`; false on timeout. */
  private until(bell: Doorbell, outcome: Outcome, ready: ReadyCheck, timeoutMs: number): boolean {
    const deadline = timeoutMs === Infinity ? Infinity : DateNow() + timeoutMs
    for (;;) {
      const o = outcome()
      if (o !== null) return o
      const left = deadline === Infinity ? Infinity : deadline - DateNow()
      if (left <= 0) return false
      bell.waitSync(ready, this.spin, left)
    }
  }

  /** The same without blocking: bounded waitAsync sleeps, a ref'd timer meanwhile. */
  private async untilAsync(
    bell: Doorbell,
    outcome: Outcome,
    ready: ReadyCheck,
    timeoutMs: number,
  ): Promise<boolean> {
    const deadline = timeoutMs === Infinity ? Infinity : DateNow() + timeoutMs
    const keepAlive = setInterval(noop, 1 << 30)
    try {
      for (;;) {
        const o = outcome()
        if (o !== null) return o
        const left = deadline === Infinity ? Infinity : deadline - DateNow()
        if (left <= 0) return false
        await bell.waitAsync(ready, this.spin, MathMin(left, DEFAULT_ASYNC_TIMEOUT_MS))
      }
    } finally {
      clearInterval(keepAlive)
    }
  }

  /** The word the channel was closed with (0 while open). */
  get closeReason(): number {
    return AtomicsLoad(this.hdr, CLOSED)
  }

  /**
   * Close: refuse further sends on both sides, wake every sleeper. `reason` (a
   * non-zero int32) is stored in the closed word unless the channel is closed
   * already (the first close wins). Any thread holding the buffer may close it.
   */
  close(reason = 1): void {
    if ((reason | 0) !== reason || reason === 0) {
      throw new RangeError(`a close reason is a non-zero int32, got ${shown(reason)}`)
    }
    if (AtomicsCompareExchange(this.hdr, CLOSED, 0, reason) !== 0) return
    this.rxBell.wake()
    this.txBell.wake()
    this.rxRoomBell.wake()
    this.txRoomBell.wake()
  }
}
