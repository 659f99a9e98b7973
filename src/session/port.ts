/**
 * SessionPort: one end of a session, over one side of a duplex ring channel (Barrelfish
 * UMP: once the process manager has bound the channel, the two ends talk directly).
 * The same class runs both ends, on any thread: the main thread, a spawnd's event loop
 * (domains share it), a plain worker; both ends may even share one thread.
 *
 * - Calls: call(method, args) writes a CALL frame with a tag (port_calls.ts) and is
 *   answered by a RESULT or ERROR frame with that tag; many may be in flight, answers
 *   come in completion order. The answering end runs methods[index] (awaiting a
 *   thenable); a throw comes back as CALL_FAILED with the server's error as cause.
 * - Streams: send(value) and sendBytes(bytes) one way, received by onBytes (bytes, zero
 *   copy, valid during the call) or by `for await` (values decoded, bytes copied).
 * - Sending never drops and never blocks (port_writer.ts): a full ring queues into an
 *   outbox, and send() answers false until drain() resolves (Node streams' convention).
 * - Receiving: an async reader loop drains every published frame, releases the ring
 *   once per batch, then sleeps on the doorbell in bounded waitAsync slices (50 ms:
 *   waitAsync can miss a wake-up under load). It never blocks its thread, and after
 *   64 turns without sleeping it yields to the event loop (setImmediate) so timers and
 *   I/O of the same thread keep turning.
 * - Backpressure: at most `inboxLimit` (default 1024) received values wait for the
 *   iterator; past that the reader stops draining, so the sender's ring fills and its
 *   outbox grows (send() false). Head-of-line: RESULT frames behind those values wait
 *   too, so calls on a session whose stream nobody reads stall until it is read.
 * - Close: close(reason) stores the reason word in the channel (first close wins; the
 *   process manager may close it too, holding the same buffer). Pending calls reject
 *   SESSION_CLOSED at once, saying why; the outbox is dropped. A close seen by the
 *   reader (the peer or a third party) first drains what was published before it, so
 *   results already sent still resolve and values already sent are still iterated.
 * - Keep-alive: one ref'd interval timer per port, toggled with ref()/unref() while a
 *   call, a drain() or an iterator's next() waits, or the outbox holds frames.
 */
import { KernelError } from '../errors.js'
import { Fifo } from '../fifo.js'
import {
  PromiseReject,
  SafeClearInterval,
  SafePromise,
  SafeQueueMicrotask,
  SafeSetImmediate,
  SafeSetInterval,
} from '../intrinsics.js'
import { Channel } from '../ring/channel.js'
import { checkSpin } from '../ring/checks.js'
import { DEFAULT_ASYNC_TIMEOUT_MS, type ReadyCheck } from '../ring/doorbell.js'
import type { SpscRing } from '../ring/spsc.js'
import { decodeValue } from './codec.js'
import { reasonFromWord, reasonToWord, type SessionEndReason } from './end_reason.js'
import { PendingCalls } from './port_calls.js'
import {
  KIND_BYTES,
  KIND_CALL,
  KIND_ERROR,
  KIND_RESULT,
  KIND_SEND,
  PORT_HDR,
} from './port_frames.js'
import { PortWriter } from './port_writer.js'
import { CallServer, type SessionMethod } from './port_server.js'
import {
  DEFAULT_INBOX_LIMIT,
  DONE,
  MAX_METHOD,
  MIN_PAYLOAD,
  WHY,
  YIELD_TURNS,
  noop,
  type BytesHandler,
  type SessionPortOptions,
  type SessionPortStats,
} from './port_options.js'

export type { SessionMethod, BytesHandler, SessionPortOptions, SessionPortStats }
export { DEFAULT_INBOX_LIMIT }

/** An exception from user code that has no caller to go to: thrown on a fresh stack. */
function reportLater(err: unknown): void {
  SafeQueueMicrotask(() => {
    throw err
  })
}

export class SessionPort implements AsyncIterable<unknown> {
  readonly channel: Channel
  readonly role: 'client' | 'server'
  /** Zero-copy receiver of BYTES frames: bytes[start, end) is valid during the call only. */
  onBytes: BytesHandler | null = null
  /** Settles when the port ends, whoever closed the channel, with the reason. */
  readonly closed: Promise<SessionEndReason>

  private callsOut = 0
  private messagesIn = 0
  private bytesIn = 0
  private readonly rx: SpscRing
  private readonly server: CallServer
  private readonly spin: number
  private readonly inboxLimit: number
  private readonly calls = new PendingCalls()
  private readonly writer: PortWriter
  private readonly inbox = new Fifo<unknown>()
  private readonly nextWaiters = new Fifo<(r: IteratorResult<unknown>) => void>()
  /** The reader stopped at a full inbox: next() wakes it (rxBell) when room frees. */
  private roomWanted = false
  private started = false
  /** While set, the reader takes no frame: they wait in the ring (pause, detach). */
  private pausedUntil: Promise<void> | null = null
  private unpause: () => void = noop
  private endReason: SessionEndReason | null = null
  private resolveClosed: (r: SessionEndReason) => void = noop
  private readonly keepAlive: ReturnType<typeof setInterval>
  private refd = false
  // Allocated once, so that neither a wait nor a next() makes a closure.
  private readonly readable: ReadyCheck
  private readonly nextExecutor: (res: (r: IteratorResult<unknown>) => void) => void
  private readonly roomReady: ReadyCheck
  private readonly iterator: AsyncIterableIterator<unknown>

  constructor(channel: Channel, opts: SessionPortOptions) {
    if (!(channel instanceof Channel)) throw new TypeError('a session port runs over a Channel')
    if (opts === null || typeof opts !== 'object') throw new TypeError('options are required')
    if (opts.role !== 'client' && opts.role !== 'server') {
      throw new TypeError(`a port's role is 'client' or 'server'`)
    }
    const methods = opts.methods ?? []
    if (!Array.isArray(methods) || methods.some((m) => typeof m !== 'function')) {
      throw new TypeError('methods must be an array of functions')
    }
    const spin = opts.spin ?? channel.spin
    checkSpin(spin)
    const inboxLimit = opts.inboxLimit ?? DEFAULT_INBOX_LIMIT
    if (!Number.isInteger(inboxLimit) || inboxLimit < 1) {
      throw new RangeError(`inboxLimit must be a positive integer, got ${inboxLimit}`)
    }
    if (channel.tx.maxPayload < MIN_PAYLOAD || channel.rx.maxPayload < MIN_PAYLOAD) {
      throw new RangeError(`a session port needs rings of at least ${MIN_PAYLOAD + 8} bytes`)
    }
    this.channel = channel
    this.role = opts.role
    this.rx = channel.rx
    this.spin = spin
    this.inboxLimit = inboxLimit
    this.writer = new PortWriter(channel, spin, () => this.updateRef())
    this.server = new CallServer(this.writer, [...methods], opts.thisArg)
    this.closed = new SafePromise<SessionEndReason>((res) => {
      this.resolveClosed = res
    })
    this.keepAlive = SafeSetInterval(noop, 1 << 30)
    this.keepAlive.unref()
    this.readable = () => !this.rx.isEmpty() || channel.closed
    this.nextExecutor = (res) => this.nextWaiters.push(res)
    this.roomReady = () => channel.closed || this.inbox.length < this.inboxLimit
    this.iterator = {
      next: () => this.next(),
      return: () => SafePromise.resolve(DONE),
      [Symbol.asyncIterator]() {
        return this
      },
    }
  }

  /**
   * A server's methods, set after the port exists (its open() is handed the port's
   * session before it returns them). Calls read before this find none.
   */
  serve(methods: readonly SessionMethod[], thisArg: unknown): void {
    if (!Array.isArray(methods) || methods.some((m) => typeof m !== 'function')) {
      throw new TypeError('methods must be an array of functions')
    }
    this.server.use([...methods], thisArg)
  }

  /**
   * Stop taking frames (they stay in the ring for whoever reads it next) and resolve
   * once every call already taken is answered: the quiescent point of a live update.
   */
  pause(): Promise<void> {
    if (this.pausedUntil === null) {
      this.pausedUntil = new SafePromise<void>((r) => (this.unpause = r))
      // The reader may sleep on the bell: wake it, so it sees the pause.
      this.channel.rxBell.wake()
    }
    return this.server.idle()
  }

  /** Take frames again after pause(). */
  resume(): void {
    const go = this.unpause
    this.pausedUntil = null
    this.unpause = noop
    go()
  }

  /**
   * Hand the channel's end to another thread (a session moved to a child, or adopted
   * by a new incarnation): this port stops for good without closing the channel.
   * Frames not yet read stay in the ring for the new end; calls waiting here reject.
   */
  detach(): void {
    if (this.endReason !== null) return
    void this.pause()
    this.finish('closed', true)
    this.resume()
  }

  /** Start the reader loop (once; later calls do nothing). */
  start(): void {
    if (this.started) return
    this.started = true
    void this.readLoop()
  }

  // ------------------------------------------------------------------ send

  /**
   * Call method `method` of the other end with `args` (structured clone). Resolves
   * with its result; rejects CALL_FAILED (cause: the server's error), NO_SUCH_METHOD,
   * NOT_CLONEABLE or MESSAGE_TOO_LARGE (either way), SESSION_CLOSED.
   */
  call(method: number, args: readonly unknown[]): Promise<unknown> {
    if (this.endReason !== null || this.channel.closed) return PromiseReject(this.closedError())
    if (method >>> 0 !== method || method > MAX_METHOD) {
      return PromiseReject(
        new RangeError(`a method index is an integer in [0, 2^23), got ${method}`),
      )
    }
    if (!Array.isArray(args)) return PromiseReject(new TypeError('call arguments are an array'))
    const tag = this.calls.take(method)
    try {
      this.writer.writeValue(KIND_CALL | (method << 8), tag, args)
    } catch (err) {
      this.calls.cancel(tag)
      return PromiseReject(err)
    }
    this.callsOut++
    const p = this.calls.open(tag)
    if (!this.refd) this.updateRef()
    return p
  }

  /**
   * Send one value (structured clone). False when it, or anything before it, waits in
   * the outbox (the ring is full): await drain() before sending much more. Throws
   * NOT_CLONEABLE, MESSAGE_TOO_LARGE, SESSION_CLOSED; never drops.
   */
  send(value: unknown): boolean {
    if (this.endReason !== null || this.channel.closed) throw this.closedError()
    this.writer.writeValue(KIND_SEND, 0, value)
    return !this.writer.queued
  }

  /** Send a copy of `bytes` as one message; as send(). */
  sendBytes(bytes: Uint8Array): boolean {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('sendBytes takes a Uint8Array')
    if (this.endReason !== null || this.channel.closed) throw this.closedError()
    this.writer.writeBytes(KIND_BYTES, bytes)
    return !this.writer.queued
  }

  /** Publish what this run wrote now, instead of at the end of the run. */
  flush(): void {
    if (this.endReason === null) this.writer.publishNow()
  }

  /** Resolves when the outbox is empty; rejects SESSION_CLOSED when the port ends first. */
  drain(): Promise<void> {
    if (this.endReason !== null) return PromiseReject(this.closedError())
    return this.writer.drain()
  }

  // ----------------------------------------------------------------- close

  /**
   * Close the session with `reason` (an end reason or its channel word): the channel's
   * closed word takes it unless it is closed already (the first reason stays).
   */
  close(reason: SessionEndReason | number = 'closed'): void {
    const word = typeof reason === 'number' ? reason : reasonToWord(reason)
    if ((word | 0) !== word || word <= 0) {
      throw new RangeError(`not a session end reason: ${String(reason)}`)
    }
    this.channel.close(word)
    this.finish(reasonFromWord(this.channel.closeReason) ?? 'closed', true)
  }

  stats(): SessionPortStats {
    return {
      callsOut: this.callsOut,
      callsIn: this.server.calls,
      messagesOut: this.writer.messages,
      messagesIn: this.messagesIn,
      bytesOut: this.writer.bytes,
      bytesIn: this.bytesIn,
    }
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    return this.iterator
  }

  // --------------------------------------------------------------- receive

  private async readLoop(): Promise<void> {
    const ch = this.channel
    const bell = ch.rxBell
    let turns = 0
    while (this.endReason === null) {
      if (this.pausedUntil !== null) {
        await this.pausedUntil
        continue
      }
      const full = this.drainRx(false)
      if (this.endReason !== null) return
      if (ch.closed) {
        // Seeing the closed word orders every frame published before it (the peer
        // published, then closed): one more pass takes them all, whatever the inbox holds.
        this.drainRx(true)
        this.finish(reasonFromWord(ch.closeReason) ?? 'closed', false)
        return
      }
      if (full) {
        // Sleep until next() takes a value (it wakes this bell) or the channel closes.
        turns = 0
        this.roomWanted = true
        await bell.waitAsync(this.roomReady, 0, DEFAULT_ASYNC_TIMEOUT_MS)
        continue
      }
      // The spin below is synchronous: let what the frames just dispatched set off run
      // first (a caller's next call, a lane's continuation), and publish what it wrote,
      // so the peer works on it while this end spins for the answer.
      await null
      if (this.endReason !== null) return
      this.writer.publishPending()
      const sleeps = bell.sleeps
      await bell.waitAsync(this.readable, this.spin, DEFAULT_ASYNC_TIMEOUT_MS)
      if (bell.sleeps !== sleeps) turns = 0
      else if (++turns >= YIELD_TURNS) {
        turns = 0
        await new SafePromise<void>(SafeSetImmediate)
      }
    }
  }

  /** Dispatch every published frame (up to the inbox bound), release once; true when stopped full. */
  private drainRx(unbounded: boolean): boolean {
    const rx = this.rx
    let full = false
    for (;;) {
      if (!unbounded && this.inbox.length >= this.inboxLimit) {
        full = true
        break
      }
      const at = rx.poll()
      if (at < 0) break
      this.dispatch(rx, at, rx.frameLength)
      if (this.endReason !== null) break
    }
    this.channel.release()
    // Answers written while dispatching go out now, not a microtask later.
    if (this.endReason === null) this.writer.publishNow()
    return full
  }

  private dispatch(rx: SpscRing, at: number, length: number): void {
    this.messagesIn++
    this.bytesIn += length
    if (length < PORT_HDR) return
    const w = at >> 2
    const word = rx.i32[w]
    const body = at + PORT_HDR
    const end = at + length
    switch (word & 0xff) {
      case KIND_BYTES: {
        const handler = this.onBytes
        if (handler === null) this.deliver(rx.bytes.slice(body, end))
        else {
          try {
            handler(rx.bytes, body, end)
          } catch (err) {
            reportLater(err)
          }
        }
        return
      }
      case KIND_SEND: {
        let v: unknown
        try {
          v = decodeValue(rx.bytes, body, end - body)
        } catch (err) {
          reportLater(err)
          return
        }
        this.deliver(v)
        return
      }
      case KIND_RESULT: {
        const tag = rx.i32[w + 1]
        let v: unknown
        let ok = true
        try {
          v = decodeValue(rx.bytes, body, end - body)
        } catch (err) {
          v = KernelError.push(err, 'CALL_FAILED', 'the result could not be decoded')
          ok = false
        }
        this.calls.settle(tag, ok, v)
        if (this.calls.count === 0) this.updateRef()
        return
      }
      case KIND_ERROR:
        this.calls.fail(rx.i32[w + 1], word >>> 8, rx.bytes, body, end)
        if (this.calls.count === 0) this.updateRef()
        return
      case KIND_CALL:
        this.server.serve(word >>> 8, rx.i32[w + 1], rx.bytes, body, end)
        return
      default:
      // An unknown kind from a newer peer: skipped.
    }
  }

  private deliver(v: unknown): void {
    const waiter = this.nextWaiters.shift()
    if (waiter === undefined) this.inbox.push(v)
    else {
      waiter({ value: v, done: false })
      if (this.nextWaiters.length === 0) this.updateRef()
    }
  }

  // ---------------------------------------------------------------- iterate

  private next(): Promise<IteratorResult<unknown>> {
    if (this.inbox.length > 0) {
      const value = this.inbox.shift()
      if (this.roomWanted && this.inbox.length < this.inboxLimit) {
        this.roomWanted = false
        this.channel.rxBell.wake()
      }
      return SafePromise.resolve({ value, done: false })
    }
    if (this.endReason !== null) return SafePromise.resolve(DONE)
    const p = new SafePromise<IteratorResult<unknown>>(this.nextExecutor)
    this.updateRef()
    return p
  }

  // ------------------------------------------------------------------ end

  private closedError(): KernelError {
    const reason = this.endReason ?? reasonFromWord(this.channel.closeReason) ?? 'closed'
    return new KernelError('SESSION_CLOSED', `the session is closed: ${WHY[reason]} (${reason})`)
  }

  /** The port ends: reject what waits, end the iterators, settle `closed`. */
  private finish(reason: SessionEndReason, local: boolean): void {
    if (this.endReason !== null) return
    this.endReason = reason
    const err = this.closedError()
    this.calls.rejectAll(err)
    this.writer.drop(err)
    // A local close ends the iterators at once; a close seen by the reader still
    // hands over what was received before it.
    if (local) this.inbox.clear()
    for (let w = this.nextWaiters.shift(); w !== undefined; w = this.nextWaiters.shift()) w(DONE)
    SafeClearInterval(this.keepAlive)
    this.resolveClosed(reason)
  }

  /** Keep the process alive exactly while something waits on this port. */
  private updateRef(): void {
    const want =
      this.endReason === null &&
      (this.calls.count > 0 || this.nextWaiters.length > 0 || this.writer.busy)
    if (want === this.refd) return
    this.refd = want
    if (want) this.keepAlive.ref()
    else this.keepAlive.unref()
  }
}
