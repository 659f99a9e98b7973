/**
 * The sending half of a session port: every frame a port writes (calls, results,
 * errors, values, bytes) goes through here, in order, into the channel's tx ring.
 *
 * - A value is encoded straight into the ring: claim() the contiguous room, encode
 *   into it, commit() the length. When it does not fit there, it is measured in a
 *   reused scratch buffer (grown by doubling up to the ring's maxPayload) and copied
 *   into a reserve() of the exact length, or queued.
 * - Batching: frames written in one synchronous run are published together by one
 *   queued microtask (or by publishNow), and the peer's doorbell is rung once.
 * - The outbox: when the ring is full, a frame is copied into the outbox (a Fifo) and
 *   every later frame queues behind it, so order is kept; a pump moves the outbox into
 *   the ring as the peer releases room (bounded waits on the tx room doorbell).
 *   Nothing is ever dropped while the channel is open.
 */
import { KernelError } from '../errors.js'
import { Fifo } from '../fifo.js'
import { MathMin, PromiseReject, SafePromise, SafeQueueMicrotask } from '../intrinsics.js'
import type { Channel } from '../ring/channel.js'
import { DEFAULT_ASYNC_TIMEOUT_MS, type ReadyCheck } from '../ring/doorbell.js'
import type { SpscRing } from '../ring/spsc.js'
import { encodeValue } from './codec.js'
import { PORT_HDR } from './port_frames.js'

const SCRATCH_START = 1024
const RESOLVED: Promise<void> = SafePromise.resolve()

export class PortWriter {
  /** Frames accepted (written or queued) and their bytes, port header included. */
  messages = 0
  bytes = 0
  private readonly ch: Channel
  private readonly tx: SpscRing
  private readonly spin: number
  /** Called when `busy` may have changed (the port toggles its keep-alive timer). */
  private readonly onBusy: () => void
  private readonly outbox = new Fifo<Uint8Array>()
  private scratch = new Uint8Array(SCRATCH_START)
  private scratch32 = new Int32Array(this.scratch.buffer)
  private unpublished = false
  private pumping = false
  private failure: KernelError | null = null
  private readonly drainResolve = new Fifo<() => void>()
  private readonly drainReject = new Fifo<(err: unknown) => void>()
  // Allocated once: no closure per batch, per wait or per drain().
  private readonly publishTask: () => void
  private readonly roomReady: ReadyCheck
  private readonly executor: (res: () => void, rej: (err: unknown) => void) => void

  constructor(ch: Channel, spin: number, onBusy: () => void) {
    this.ch = ch
    this.tx = ch.tx
    this.spin = spin
    this.onBusy = onBusy
    this.publishTask = () => {
      if (this.unpublished) this.publishNow()
    }
    this.roomReady = () => {
      const next = this.outbox.peek()
      return (
        next === undefined || this.failure !== null || ch.closed || this.tx.canReserve(next.length)
      )
    }
    this.executor = (res, rej) => {
      this.drainResolve.push(res)
      this.drainReject.push(rej)
    }
  }

  /** True while frames wait in the outbox or someone awaits drain(). */
  get busy(): boolean {
    return this.outbox.length > 0 || this.drainResolve.length > 0
  }

  /** True once the port ended (drop()): nothing more is written. */
  get ended(): boolean {
    return this.failure !== null
  }

  /** True while the outbox holds frames (send() then answers false). */
  get queued(): boolean {
    return this.outbox.length > 0
  }

  /**
   * One frame whose body is `value` encoded. True when it went into the ring, false
   * when it was queued. Throws NOT_CLONEABLE or MESSAGE_TOO_LARGE (nothing written).
   */
  writeValue(word: number, tag: number, value: unknown): boolean {
    const tx = this.tx
    if (this.outbox.length === 0) {
      const at = tx.claim(PORT_HDR)
      if (at >= 0) {
        const end = encodeValue(value, tx.bytes, at + PORT_HDR, at + tx.claimable)
        if (end >= 0) {
          const w = at >> 2
          tx.i32[w] = word
          tx.i32[w + 1] = tag
          tx.commit(end - at)
          this.accepted(end - at)
          return true
        }
      }
    }
    return this.writeMeasured(word, tag, this.measure(value))
  }

  /** One frame whose body is a copy of `src`. True when written, false when queued. */
  writeBytes(word: number, src: Uint8Array): boolean {
    const total = PORT_HDR + src.length
    if (total > this.tx.maxPayload) this.tooLarge(total)
    if (this.outbox.length === 0) {
      const tx = this.tx
      const at = tx.reserve(total)
      if (at >= 0) {
        const w = at >> 2
        tx.i32[w] = word
        tx.i32[w + 1] = 0
        tx.bytes.set(src, at + PORT_HDR)
        this.accepted(total)
        return true
      }
    }
    const frame = new Uint8Array(total)
    const f32 = new Int32Array(frame.buffer, 0, 2)
    f32[0] = word
    f32[1] = 0
    frame.set(src, PORT_HDR)
    this.enqueue(frame)
    this.messages++
    this.bytes += total
    return false
  }

  /** Publish every frame written so far and ring the peer. */
  publishNow(): void {
    this.unpublished = false
    this.tx.publish()
    this.ch.txBell.ring()
  }

  /** Publish now if a write of this run is waiting for its microtask. */
  publishPending(): void {
    if (this.unpublished) this.publishNow()
  }

  /** Resolves when the outbox is empty (at once when it is). */
  drain(): Promise<void> {
    if (this.failure !== null) return PromiseReject(this.failure)
    if (this.outbox.length === 0) return RESOLVED
    const p = new SafePromise<void>(this.executor)
    this.onBusy()
    return p
  }

  /** The port ended: drop the outbox, reject drain() waiters with `err`, accept nothing more. */
  drop(err: KernelError): void {
    if (this.failure !== null) return
    this.failure = err
    this.outbox.clear()
    this.drainResolve.clear()
    for (let rej = this.drainReject.shift(); rej !== undefined; rej = this.drainReject.shift()) {
      rej(err)
    }
    this.onBusy()
  }

  /**
   * Encode `value` into the scratch buffer after a frame header's room; returns the
   * frame's length (header included). MESSAGE_TOO_LARGE beyond the ring's maxPayload.
   */
  private measure(value: unknown): number {
    const max = this.tx.maxPayload
    for (;;) {
      const s = this.scratch
      const end = encodeValue(value, s, PORT_HDR, MathMin(s.length, max))
      if (end >= 0) return end
      if (s.length >= max) this.tooLarge(-1)
      this.scratch = new Uint8Array(MathMin(s.length * 2, (max + 7) & ~7))
      this.scratch32 = new Int32Array(this.scratch.buffer)
    }
  }

  /** The measured frame (scratch[0, total)) into the ring, or a copy of it into the outbox. */
  private writeMeasured(word: number, tag: number, total: number): boolean {
    const s = this.scratch
    this.scratch32[0] = word
    this.scratch32[1] = tag
    const frame = total === s.length ? s : s.subarray(0, total)
    if (this.outbox.length === 0) {
      const at = this.tx.reserve(total)
      if (at >= 0) {
        this.tx.bytes.set(frame, at)
        this.accepted(total)
        return true
      }
    }
    this.enqueue(frame.slice())
    this.messages++
    this.bytes += total
    return false
  }

  private tooLarge(total: number): never {
    const max = this.tx.maxPayload - PORT_HDR
    throw new KernelError(
      'MESSAGE_TOO_LARGE',
      `${total < 0 ? 'this message is larger than' : `a ${total - PORT_HDR}-byte message exceeds`} the ${max} bytes one message may take on this channel (messages are not split: open the session with a bigger channel)`,
    )
  }

  /** A frame went into the ring: count it and make sure a publish follows this run. */
  private accepted(total: number): void {
    this.messages++
    this.bytes += total
    if (!this.unpublished) {
      this.unpublished = true
      SafeQueueMicrotask(this.publishTask)
    }
  }

  private enqueue(frame: Uint8Array): void {
    this.outbox.push(frame)
    if (this.outbox.length === 1) {
      this.onBusy()
      if (!this.pumping) void this.pump()
    }
  }

  /** Move the outbox into the ring as room frees, in order; stops when the channel closes. */
  private async pump(): Promise<void> {
    this.pumping = true
    const tx = this.tx
    try {
      for (;;) {
        const frame = this.outbox.peek()
        if (frame === undefined || this.failure !== null || this.ch.closed) break
        const at = tx.reserve(frame.length)
        if (at >= 0) {
          tx.bytes.set(frame, at)
          this.outbox.shift()
          continue
        }
        // The peer must see what is written (and any wrap marker) to make room.
        this.publishNow()
        await this.ch.txRoomBell.waitAsync(this.roomReady, this.spin, DEFAULT_ASYNC_TIMEOUT_MS)
      }
    } finally {
      this.pumping = false
    }
    if (this.failure !== null || this.outbox.length > 0) return
    this.publishNow()
    this.drainReject.clear()
    for (let res = this.drainResolve.shift(); res !== undefined; res = this.drainResolve.shift()) {
      res()
    }
    this.onBusy()
  }
}
