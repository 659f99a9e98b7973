/**
 * SpawndState: the process manager's view of one spawnd (Barrelfish's
 * `struct spawnd_state`): its channel, its send queue of requests waiting for
 * ring room, and its receive queue of clients waiting for replies.
 */
import type { Worker } from 'node:worker_threads'
import type { Channel } from '../ring/channel.js'
import { KernelError } from '../errors.js'
import { errToWire } from '../protocol/errcodes.js'
import { HEADER_BYTES, encodeText, writeFrame } from '../protocol/frame.js'
import { ReceiveQueue, type ReplyHandler } from './receive_queue.js'
import { SendQueue } from './send_queue.js'

export type SpawndHealth = 'up' | 'failed' | 'down'

export class SpawndState {
  readonly core: number
  readonly chan: Channel
  readonly worker: Worker
  readonly sendQueue = new SendQueue()
  readonly receiveQueue = new ReceiveQueue()
  health: SpawndHealth = 'up'
  /** Why it failed, once it has (for error messages). */
  failure = ''
  /** Frames written into the request ring and not yet published. */
  private unpublished = false
  /** Requests sent, replies and notifications received: for the demo and benchmarks. */
  requests = 0
  replies = 0
  notifications = 0
  /** Date.now() when the core last answered anything (updated once per drained batch). */
  lastSeen = Date.now()
  private readonly token: number

  constructor(core: number, chan: Channel, worker: Worker, token: number) {
    this.core = core
    this.chan = chan
    this.worker = worker
    this.token = token
  }

  /**
   * Send a request: straight into the ring when the send queue is empty and the
   * ring has room, else behind the queue (TX_BUSY). Not published until flush().
   * Returns the tag under which `handler` waits for the reply.
   */
  request(
    op: number,
    domainId: number,
    arg: number,
    text: string | null,
    handler: ReplyHandler,
  ): number {
    // A frame that can never fit the ring would throw later from the send-queue pump
    // and wedge this core's queue: refuse it now, before a client is parked for it.
    // Encoded once: the text stays in the codec's scratch buffer for write() below.
    const bytes = text === null ? 0 : encodeText(text)
    if (HEADER_BYTES + bytes > this.chan.tx.maxPayload) {
      throw new KernelError(
        'FRAME_TOO_LARGE',
        `a ${HEADER_BYTES + bytes}-byte request can never fit core ${this.core}'s ${this.chan.tx.capacity}-byte request ring`,
      )
    }
    const tag = this.receiveQueue.add(handler)
    this.requests++
    if (this.sendQueue.length > 0 || !this.write(op, tag, domainId, arg, text, bytes)) {
      this.sendQueue.push({ op, tag, domainId, arg, text })
    }
    return tag
  }

  /**
   * Send a frame that expects no reply (a RESULT to a domain's call): into the
   * ring, or behind the send queue in order. Not published until flush().
   */
  post(op: number, tag: number, domainId: number, arg: number, text: string | null): void {
    const frameBytes = text === null ? 0 : HEADER_BYTES + encodeText(text)
    if (frameBytes > this.chan.tx.maxPayload) {
      // An answer that can never fit would throw here, or from the pump and wedge the
      // queue: the call fails with FRAME_TOO_LARGE instead (`arg` is RESULT's error word).
      const msg = `a ${frameBytes}-byte answer can never fit a ${this.chan.tx.capacity}-byte ring`
      arg = errToWire('FRAME_TOO_LARGE')
      text = HEADER_BYTES + encodeText(msg) <= this.chan.tx.maxPayload ? msg : null
    }
    if (this.sendQueue.length > 0 || !this.write(op, tag, domainId, arg, text)) {
      this.sendQueue.push({ op, tag, domainId, arg, text })
    }
  }

  /** `encoded`: the text's length if it is already in the codec's scratch buffer. */
  private write(
    op: number,
    tag: number,
    domainId: number,
    arg: number,
    text: string | null,
    encoded = -1,
  ): boolean {
    const bytes = encoded >= 0 ? encoded : text === null ? 0 : encodeText(text)
    // Published even when it fails: reserve() may have committed a wrap marker, and a
    // frame that needs the marker's bytes fits only once the spawnd has passed it.
    this.unpublished = true
    return writeFrame(this.chan.tx, op, tag, this.token, domainId, arg, bytes)
  }

  /** Move queued requests into the ring while it has room, in order. */
  pumpSendQueue(): void {
    const q = this.sendQueue
    for (let r = q.peek(); r !== undefined; r = q.peek()) {
      if (!this.write(r.op, r.tag, r.domainId, r.arg, r.text)) break
      q.shift()
    }
  }

  /** Publish what was written and ring the spawnd if it sleeps: once per batch. */
  flush(): void {
    if (this.sendQueue.length > 0) this.pumpSendQueue()
    if (!this.unpublished) return
    this.unpublished = false
    this.chan.flush()
  }

  /** Requests not yet answered (queued or in the ring or in the spawnd). */
  get outstanding(): number {
    return this.receiveQueue.size
  }
}
