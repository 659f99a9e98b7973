/**
 * ReplyPort: a spawnd's side of its reply ring (spawnd -> process manager). Frames
 * are written straight into the ring; one that finds the ring full waits in the
 * outbox, in order, and goes when room frees (the spawnd's own TX_BUSY). Inside a
 * drained batch frames are published once at its end; outside one (a reply from a
 * finished module load, an EXIT, a domain's CALL) at once. Publishing rings the
 * process manager's doorbell, shared by every spawnd.
 */
import type { Doorbell } from '../src/ring/doorbell.js'
import type { SpscRing } from '../src/ring/spsc.js'
import { errToWire } from '../src/protocol/errcodes.js'
import { HEADER_BYTES, encodeText, writeFrame } from '../src/protocol/frame.js'
import { Op } from '../src/protocol/opcodes.js'

/** A reply that found the reply ring full waits here, in order (spawnd's own TX_BUSY). */
interface Outgoing {
  op: number
  tag: number
  aux: number
  domainId: number
  value: number
  text: string | null
}

export class ReplyPort {
  private readonly outbox: Outgoing[] = []
  /** True while the spawnd drains a batch: publish once at its end. */
  inBatch = false

  constructor(
    private readonly tx: SpscRing,
    private readonly mainBell: Doorbell,
  ) {}

  /** Frames waiting for room. */
  get backlog(): number {
    return this.outbox.length
  }

  send(
    op: number,
    tag: number,
    aux: number,
    domainId: number,
    value: number,
    text: string | null,
  ): void {
    if (this.outbox.length > 0 || !this.write(op, tag, aux, domainId, value, text)) {
      this.outbox.push({ op, tag, aux, domainId, value, text })
    }
    if (!this.inBatch) this.publish()
  }

  private write(
    op: number,
    tag: number,
    aux: number,
    domainId: number,
    value: number,
    text: string | null,
  ): boolean {
    let bytes = text === null ? 0 : encodeText(text)
    if (bytes + HEADER_BYTES > this.tx.maxPayload) {
      // Never let an oversized text (a huge stack, a vast ps table) wedge the ring.
      const msg = `${bytes}-byte reply text does not fit the ${this.tx.capacity}-byte reply ring`
      bytes = encodeText(
        JSON.stringify({ name: 'KernelError', message: msg, code: 'FRAME_TOO_LARGE' }),
      )
      if (op === Op.REPLY) aux = errToWire('FRAME_TOO_LARGE')
    }
    return writeFrame(this.tx, op, tag, aux, domainId, value, bytes)
  }

  flushOutbox(): void {
    const q = this.outbox
    let i = 0
    while (i < q.length) {
      const o = q[i]
      if (!this.write(o.op, o.tag, o.aux, o.domainId, o.value, o.text)) break
      i++
    }
    if (i > 0) q.splice(0, i)
  }

  publish(): void {
    this.flushOutbox()
    this.tx.publish()
    this.mainBell.ring()
  }
}
