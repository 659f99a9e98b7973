/**
 * Epoch: one side of a joined link between a runtime and a node, from join to its
 * end. The same on both sides: batches out are sealed under this side's key with
 * the next sequence number and published on the peer's subject for their core;
 * batches in must verify under the peer's key and carry exactly the next number.
 * Heartbeats both ways: a side that hears nothing that verifies for
 * SILENT_BEATS heartbeats calls the link dead (a node killed, a host gone).
 *
 * Refused batches (garbage, forged, altered, replayed) are counted and dropped;
 * they change nothing, so a stranger cannot end a link by sending them.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { frameHeader } from '../protocol/frame.js'
import {
  BatchWriter,
  CONTROL,
  forEachFrame,
  openBatch,
  readFrameText,
  type OpenedBatch,
} from './wire.js'

/** Heartbeats missed before the peer is taken for dead. */
export const SILENT_BEATS = 4

export interface EpochOptions {
  nc: NatsConnection
  /** Our key, and the peer's. */
  send: Buffer
  receive: Buffer
  /** The peer's subject for a core (or 'ctl'). */
  subject: (core: number | 'ctl') => string
  heartbeatMs: number
  maxBatch: number
  /** The peer fell silent. */
  silent: () => void
}

export type ControlMessage = Record<string, unknown>

export class Epoch {
  private txSeq = 0
  private rxSeq = 0
  private lastHeard = Date.now()
  private readonly beat: NodeJS.Timeout
  private readonly ctl: BatchWriter
  private readonly subjects: string[] = []
  private readonly ctlSubject: string
  private closed = false
  /** Batches that did not verify, or came out of order: dropped. */
  refused = 0

  constructor(private readonly o: EpochOptions) {
    this.ctl = new BatchWriter(o.maxBatch)
    this.ctlSubject = o.subject('ctl')
    this.beat = setInterval(() => {
      if (Date.now() - this.lastHeard > SILENT_BEATS * o.heartbeatMs) {
        this.close()
        return o.silent()
      }
      this.control({ t: 'beat' })
    }, o.heartbeatMs)
    this.beat.unref()
  }

  /** Seal `w`'s batch for `core` and publish it (one publish per batch). */
  publish(core: number, w: BatchWriter): void {
    if (this.closed || this.o.nc.isClosed()) {
      w.seal(core, 0, this.o.send)
      return
    }
    const subject = (this.subjects[core] ??= this.o.subject(core))
    this.o.nc.publish(subject, w.seal(core, ++this.txSeq, this.o.send))
  }

  /** Send a control message to the peer (its own batch). */
  control(m: ControlMessage): void {
    if (this.closed || this.o.nc.isClosed()) return
    const h = frameHeader()
    this.ctl.frame(h, JSON.stringify(m))
    this.o.nc.publish(this.ctlSubject, this.ctl.seal(CONTROL, ++this.txSeq, this.o.send))
  }

  /**
   * Judge a received message: its batch if it verifies and is the next one; null
   * if refused (counted); 'gap' if it verifies but some before it never came.
   */
  receive(msg: Uint8Array): OpenedBatch | null | 'gap' {
    if (this.closed) return null
    const b = openBatch(msg, this.o.receive)
    if (b === null || b.seq <= this.rxSeq) {
      this.refused++
      return null
    }
    if (b.seq !== this.rxSeq + 1) return 'gap'
    this.rxSeq = b.seq
    this.lastHeard = Date.now()
    return b
  }

  /** The frames of a verified batch. */
  eachFrame(msg: Uint8Array, each: (at: number, len: number, view: DataView) => void): void {
    forEachFrame(msg, each)
  }

  /** The control messages of a verified CONTROL batch. */
  eachControl(msg: Uint8Array, each: (m: ControlMessage) => void): void {
    forEachFrame(msg, (at, _len, v) => {
      const text = readFrameText(msg, v, at)
      if (text === null) return
      let m: unknown
      try {
        m = JSON.parse(text)
      } catch {
        return
      }
      if (typeof m === 'object' && m !== null) each(m as ControlMessage)
    })
  }

  /** Milliseconds since the peer last sent something that verified. */
  get silentMs(): number {
    return Date.now() - this.lastHeard
  }

  close(): void {
    this.closed = true
    clearInterval(this.beat)
  }
}
