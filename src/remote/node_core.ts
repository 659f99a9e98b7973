/**
 * NodeCore: a node's relay for one of its spawnds, the node-side half of a remote
 * core. Requests arrive from the runtime in verified batches and are copied byte
 * for byte into the spawnd's request ring (its token put in the aux word, where
 * the runtime's process manager put its own); replies, EXITs and CALLs are copied
 * out of the reply ring into one batch per drain, which the node seals and
 * publishes. Neither direction decodes a frame: the spawnd is the same program as
 * on the runtime's own machine, and speaks the same frames.
 *
 * A request ring that is full keeps what does not fit in the send queue, in order
 * (Barrelfish's TX_BUSY, as the local links do), and it goes when room frees.
 *
 * A reply frame can be larger than the broker's largest message (the reply ring
 * takes up to its capacity; a domain's CALL text is the domain's to choose). It is
 * never published as it is, which the client refuses by throwing: a CALL is
 * answered here with FRAME_TOO_LARGE, as the process manager answers a RESULT that
 * cannot fit; any other frame goes without its text, a REPLY that was a success
 * turned into FRAME_TOO_LARGE for its client.
 */
import { Fifo } from '../fifo.js'
import type { SpawndLink } from '../link/spawnd_link.js'
import { ERR_OK, errToWire } from '../protocol/errcodes.js'
import { frameHeader, HEADER_BYTES } from '../protocol/frame.js'
import { Op } from '../protocol/opcodes.js'
import { BatchWriter, copyBytes } from './wire.js'

/** Byte offset of the aux word (the process manager's token) in a frame's payload. */
const AUX_OFFSET = 8
const FRAME_TOO_LARGE_WIRE = errToWire('FRAME_TOO_LARGE')

export class NodeCore {
  /** Replies to the runtime, sealed and published by the node once per drain. */
  readonly out: BatchWriter
  /** Request frames waiting for ring room (copies: the batch they came in is gone). */
  private readonly sendQueue = new Fifo<Uint8Array>()
  private unpublished = false
  /** The header of a frame rewritten here (too large to relay), and a RESULT's bytes. */
  private readonly h = frameHeader()
  private readonly result = new Uint8Array(HEADER_BYTES)

  constructor(
    /** The core's index on this node. */
    readonly index: number,
    /** The local spawnd: its worker and channel. */
    readonly link: SpawndLink,
    /** The token the local spawnd expects in every request. */
    private readonly token: number,
    maxBatch: number,
  ) {
    this.out = new BatchWriter(maxBatch)
  }

  /** The largest frame payload its request ring takes. */
  get maxFrame(): number {
    return this.link.chan.tx.maxPayload
  }

  /** Queue one request frame (bytes [at, at+len) of a verified batch). */
  request(msg: Uint8Array, at: number, len: number): void {
    if (this.sendQueue.length > 0 || !this.write(msg, at, len)) {
      this.sendQueue.push(msg.slice(at, at + len))
    }
  }

  /** Move what waits for room into the ring, then publish and ring the spawnd once. */
  flush(): void {
    const q = this.sendQueue
    for (let f = q.peek(); f !== undefined; f = q.peek()) {
      if (!this.write(f, 0, f.length)) break
      q.shift()
    }
    if (!this.unpublished) return
    this.unpublished = false
    this.link.chan.tx.publish()
    this.link.chan.txBell.ring()
  }

  /** Requests waiting for ring room. */
  get backlog(): number {
    return this.sendQueue.length
  }

  private write(src: Uint8Array, at: number, len: number): boolean {
    const tx = this.link.chan.tx
    // Marked even on failure: reserve() may have committed a wrap marker.
    this.unpublished = true
    const to = tx.reserve(len)
    if (to < 0) return false
    copyBytes(tx.bytes, to, src, at, len)
    tx.i32[(to + AUX_OFFSET) >> 2] = this.token
    return true
  }

  /**
   * Copy every frame of the reply ring into `out`, up to a batch's room; `full` is
   * called to seal and publish a batch that cannot take the next frame. Returns
   * frames copied.
   */
  drain(full: (c: NodeCore) => void): number {
    const rx = this.link.chan.rx
    let n = 0
    for (;;) {
      const at = rx.poll()
      if (at < 0) break
      const len = rx.frameLength
      if (this.out.tooLarge(len)) this.oversized(at, full)
      else {
        if (!this.out.fits(len)) full(this)
        this.out.raw(rx.bytes, at, len)
      }
      n++
    }
    if (n > 0 || rx.usedBytes() !== 0) this.link.chan.release()
    return n
  }

  /** A reply-ring frame at `at` that no batch can hold (see the header). */
  private oversized(at: number, full: (c: NodeCore) => void): void {
    const w = this.link.chan.rx.i32
    const i = at >> 2
    const h = this.h
    h.op = w[i]
    h.tag = w[i + 1]
    h.aux = w[i + 2]
    h.domainId = w[i + 3]
    h.value = w[i + 4]
    if (h.op === Op.CALL) {
      // Its RESULT, into the spawnd's request ring (the token is put in by request()).
      const v = new DataView(this.result.buffer)
      v.setInt32(0, Op.RESULT, true)
      v.setInt32(4, h.tag, true)
      v.setInt32(12, h.domainId, true)
      v.setInt32(16, FRAME_TOO_LARGE_WIRE, true)
      v.setInt32(20, 0, true)
      this.request(this.result, 0, HEADER_BYTES)
      this.flush()
      return
    }
    if (h.op === Op.REPLY && h.aux === ERR_OK) h.aux = FRAME_TOO_LARGE_WIRE
    if (!this.out.fits(HEADER_BYTES)) full(this)
    this.out.frame(h, null)
  }

  /** True when the reply ring holds something. */
  get readable(): boolean {
    return !this.link.chan.rx.isEmpty()
  }

  /** Drop what waits (the link ended). */
  clear(): void {
    this.sendQueue.clear()
  }
}
