/**
 * SessionBridge: one end of a session carried over NATS (Barrelfish's UMP channel,
 * stretched across machines). A domain's session port works over a channel on its
 * own host as ever; the bridge holds the channel's other side and plays the far
 * end there: what the domain sends (its rx) goes out in batches to the far end's
 * subject, and what comes from the far end is written into its tx. Frames are the
 * session's own ring frames, copied byte for byte (wire.ts batches). Each end
 * listens on `P.sess.<nonce>.<role>`, so it does not matter where the other end
 * is: another node, the runtime's bridge worker, or the same node.
 *
 * Authenticated like the core links: keys per direction from the shared secret
 * and the session's nonce (which the runtime sends each node inside its own
 * authenticated link), exactly the next sequence number taken, a gap closes the
 * session (something was lost, and a session never loses a message silently).
 *
 * Start: NATS keeps nothing for a subject nobody listens to, so each bridge says
 * hello (once the broker has its subscription, then every 50 ms) and sends
 * nothing else until the far end's hello came; hellos alone may skip sequence
 * numbers (those sent before the far end listened are lost by design).
 *
 * Flow control: a sender keeps at most `window` bytes (the far ring's capacity)
 * unacknowledged; the receiver acknowledges what it has written into its ring, a
 * quarter window at a time. So a slow reader stops the writer's ring, and the
 * writer's own port sees it full and waits (send() false, drain()), as it would
 * on one host; nothing queues without bound in between.
 */
import { createHmac } from 'node:crypto'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import { Fifo } from '../fifo.js'
import { frameHeader } from '../protocol/frame.js'
import { Channel } from '../ring/channel.js'
import { reasonToWord } from '../session/end_reason.js'
import type { Secret } from './handshake.js'
import {
  BatchWriter,
  CONTROL,
  copyBytes,
  forEachFrame,
  openBatch,
  readFrameText,
  BATCH_HEADER_BYTES,
  FRAME_PREFIX_BYTES,
} from './wire.js'

/** A session whose carrier failed ends as one whose core failed. */
const CORE_FAILED = reasonToWord('core-failed')

export type SessionRole = 'client' | 'server'

/** The batch kind of a hello (the core field; data is 0, control CONTROL). */
const HELLO = 0xffff_fffe
/** Hellos until the far end answers, and how long before it is given up on. */
const HELLO_EVERY_MS = 50
const HELLO_GIVE_UP_MS = 15_000

/** How long a bridge polls for an answer after handing the near end frames, ms. */
const HOT_SPIN_MS = 0.05

/** Everything a host needs to carry one end of a session. */
export interface BridgeSpec {
  /** The session's nonce (its subjects and keys); the same at both ends. */
  nonce: string
  /** The role of the end this bridge stands in for: the far one. */
  far: SessionRole
  /** The channel's buffer; the bridge takes the far end's side of it. */
  buffer: SharedArrayBuffer
}

const SIDE: Record<SessionRole, 'a' | 'b'> = { client: 'a', server: 'b' }
const OTHER: Record<SessionRole, SessionRole> = { client: 'server', server: 'client' }

/** The channel side a session role uses (serve.ts: a client is side a, a server side b). */
export function sideOf(role: SessionRole): 'a' | 'b' {
  return SIDE[role]
}

function sessionKey(secret: Secret, nonce: string, to: SessionRole): Buffer {
  return createHmac('sha256', secret).update(`multikernel/1 session ${nonce} to ${to}`).digest()
}

export class SessionBridge {
  readonly chan: Channel
  private readonly sub: Subscription
  private readonly out: BatchWriter
  private readonly ctl: BatchWriter
  private readonly sendKey: Buffer
  private readonly receiveKey: Buffer
  private readonly toFar: string
  private txSeq = 0
  private rxSeq = 0
  /** Bytes sent, and acknowledged by the far end (written into its ring). */
  private sent = 0
  private acked = 0
  /** Bytes written into our ring, and how much of that we acknowledged. */
  private written = 0
  private ackedOut = 0
  private readonly window: number
  /** Frames from the far end waiting for ring room. */
  private readonly waiting = new Fifo<Uint8Array>()
  private ended = false
  /** The far end said hello: it listens, so batches to it are not lost. */
  private farReady = false
  private readonly helloTimer: NodeJS.Timeout
  private readonly h = frameHeader()

  constructor(
    private readonly nc: NatsConnection,
    secret: Secret,
    prefix: string,
    spec: BridgeSpec,
    private readonly onEnd: (b: SessionBridge) => void,
  ) {
    const near = OTHER[spec.far]
    // We stand in for the far end: its side of the channel.
    this.chan = new Channel(spec.buffer, SIDE[spec.far], 0)
    const maxBatch = nc.info?.max_payload ?? 1 << 20
    this.out = new BatchWriter(maxBatch)
    this.ctl = new BatchWriter(4096)
    // What the far end's ring in our direction holds (the same capacities both ends).
    this.window = this.chan.rx.capacity
    this.sendKey = sessionKey(secret, spec.nonce, spec.far)
    this.receiveKey = sessionKey(secret, spec.nonce, near)
    this.toFar = `${prefix}.sess.${spec.nonce}.${spec.far}`
    this.sub = nc.subscribe(`${prefix}.sess.${spec.nonce}.${near}`, {
      callback: (_e, m) => this.receive(m.data),
    })
    // NATS keeps nothing for a subject nobody listens to: nothing goes to the far end
    // before it said hello (it listens), and we say hello once the broker has our
    // subscription, until the far end answers.
    const started = Date.now()
    this.helloTimer = setInterval(() => {
      if (Date.now() - started > HELLO_GIVE_UP_MS) this.close(CORE_FAILED)
      else this.sayHello()
    }, HELLO_EVERY_MS)
    this.helloTimer.unref()
    void nc.flush().then(
      () => this.sayHello(),
      () => {},
    )
    void this.pump()
  }

  private sayHello(): void {
    if (this.ended || this.nc.isClosed()) return
    this.nc.publish(this.toFar, this.ctl.seal(HELLO, ++this.txSeq, this.sendKey))
  }

  /** The far end said hello: it listens. Say it back once (it may have spoken first). */
  private heard(): void {
    if (this.farReady) return
    this.farReady = true
    clearInterval(this.helloTimer)
    this.sayHello()
    this.chan.rxBell.wake()
  }

  /** True when a frame of the channel could not fit a broker message. */
  static tooLarge(buffer: SharedArrayBuffer, maxBatch: number): boolean {
    const c = new Channel(buffer, 'a', 0)
    const most = Math.max(c.tx.maxPayload, c.rx.maxPayload)
    return BATCH_HEADER_BYTES + FRAME_PREFIX_BYTES + most > maxBatch
  }

  // ------------------------------------------------------------------ near -> far

  /** Relay what the near end sends, within the window; sleep on its doorbell. */
  private async pump(): Promise<void> {
    const chan = this.chan
    const readable = (): boolean =>
      (!chan.rx.isEmpty() && this.credit() > 0 && this.farReady) ||
      (chan.closed && this.farReady) ||
      this.ended
    while (!this.ended) {
      this.writeWaiting()
      const n = this.relay()
      // Closed here: once what was sent went out, say so (to a far end that listens).
      if (chan.closed && chan.rx.isEmpty() && this.farReady) return this.end(true)
      if (n > 0) {
        await new Promise<void>((r) => setImmediate(r))
        continue
      }
      // Frames waiting for our ring's room are retried soon; else sleep until rung.
      await chan.rxBell.waitAsync(readable, 0, this.waiting.length > 0 ? 1 : 50)
    }
  }

  /** Move what the near end sent (within the window) into one batch and publish it. */
  private relay(): number {
    if (!this.farReady) return 0
    const chan = this.chan
    const rx = chan.rx
    let n = 0
    while (this.credit() > 0) {
      const at = rx.poll()
      if (at < 0) break
      const len = rx.frameLength
      if (!this.out.fits(len)) this.publish()
      this.out.raw(rx.bytes, at, len)
      this.sent += len
      n++
    }
    if (n > 0 || rx.usedBytes() !== 0) chan.release()
    if (this.out.frames > 0) this.publish()
    return n
  }

  /**
   * After handing the near end frames, poll for its answer a bounded while and
   * relay it at once: a call is answered in microseconds, and the doorbell and
   * event-loop wake-up of the pump costs more (the rings' hotSpinMicros rule).
   */
  private awaitAnswer(): void {
    const rx = this.chan.rx
    const end = performance.now() + HOT_SPIN_MS
    for (let k = 1; ; k++) {
      if (!rx.isEmpty()) {
        this.relay()
        return
      }
      if ((k & 15) === 0 && performance.now() > end) return
    }
  }

  private credit(): number {
    return this.window - (this.sent - this.acked)
  }

  private publish(): void {
    if (this.nc.isClosed()) return this.out.discard()
    this.nc.publish(this.toFar, this.out.seal(0, ++this.txSeq, this.sendKey))
  }

  private control(m: Record<string, unknown>): void {
    if (this.nc.isClosed()) return
    this.ctl.frame(this.h, JSON.stringify(m))
    this.nc.publish(this.toFar, this.ctl.seal(CONTROL, ++this.txSeq, this.sendKey))
  }

  // ------------------------------------------------------------------ far -> near

  private receive(msg: Uint8Array): void {
    if (this.ended) return
    const b = openBatch(msg, this.receiveKey, true)
    if (b === null || b.seq <= this.rxSeq) return
    // Hellos may be lost (sent before we listened): they alone may skip numbers.
    if (b.core === HELLO) {
      this.rxSeq = b.seq
      return this.heard()
    }
    // Something the far end sent never came: the session cannot go on in order.
    if (b.seq !== this.rxSeq + 1) return this.close(CORE_FAILED)
    this.rxSeq = b.seq
    if (b.core === CONTROL) {
      forEachFrame(msg, (at, _len, v) => {
        const text = readFrameText(msg, v, at)
        if (text === null) return
        let c: { t?: unknown; bytes?: unknown; reason?: unknown }
        try {
          c = JSON.parse(text) as typeof c
        } catch {
          return
        }
        if (c.t === 'ack' && typeof c.bytes === 'number') this.acked = c.bytes
        else if (c.t === 'close') this.close(typeof c.reason === 'number' ? c.reason : 1)
      })
      // Credit came back: the pump may go on.
      this.chan.rxBell.wake()
      return
    }
    forEachFrame(msg, (at, len) => {
      if (this.waiting.length > 0 || !this.write(msg, at, len)) {
        this.waiting.push(msg.slice(at, at + len))
      }
    })
    this.chan.flush()
    this.acknowledge()
    this.awaitAnswer()
  }

  /** Frames that waited for room, in order, while room lasts. */
  private writeWaiting(): void {
    const q = this.waiting
    if (q.length === 0) return
    let moved = false
    for (let f = q.peek(); f !== undefined; f = q.peek()) {
      if (!this.write(f, 0, f.length)) break
      q.shift()
      moved = true
    }
    if (moved) {
      this.chan.flush()
      this.acknowledge()
    }
  }

  private write(src: Uint8Array, at: number, len: number): boolean {
    if (this.chan.closed) return true
    const to = this.chan.tx.reserve(len)
    if (to < 0) return false
    copyBytes(this.chan.tx.bytes, to, src, at, len)
    this.written += len
    return true
  }

  /**
   * Tell the far end what reached our ring, a quarter window at a time. Enough: a
   * sender stalls only with a whole window unacknowledged, and then at least a
   * quarter of it is written here, or waits for room the near end's reading frees.
   */
  private acknowledge(): void {
    if (this.written - this.ackedOut < this.window / 4) return
    this.ackedOut = this.written
    this.control({ t: 'ack', bytes: this.written })
  }

  // ------------------------------------------------------------------ end

  /** Close the session here (the far end closed it, or it cannot go on). */
  close(reason: number): void {
    if (this.ended) return
    this.chan.close(reason)
    this.end(false)
  }

  /** End the bridge; `tell`: the near end closed, so say so to the far end. */
  private end(tell: boolean): void {
    if (this.ended) return
    this.ended = true
    clearInterval(this.helloTimer)
    if (tell) this.control({ t: 'close', reason: this.chan.closeReason })
    this.sub.unsubscribe()
    this.chan.rxBell.wake()
    this.onEnd(this)
  }
}
