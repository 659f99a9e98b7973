/**
 * FrameSender: the one writer of frames into a ring, used by both ends of a
 * spawnd's channel (the process manager's requests and RESULTs, the spawnd's
 * REPLYs, EXITs and CALLs).
 *
 *  - A frame goes straight into the ring when nothing waits before it and the ring
 *    has room; otherwise it waits in the outbox, in order, and goes when room frees
 *    (the ring full is Barrelfish's TX_BUSY). Outbox entries exist only on that slow
 *    path; a frame that finds room costs no allocation (none at all without text).
 *  - A frame that can never fit the ring is refused before anything is queued, one
 *    way: send() throws FRAME_TOO_LARGE. An answer must not be lost for its size, so
 *    answer() sends a FRAME_TOO_LARGE error in its place (its client is answered,
 *    the ring is not wedged).
 *  - Nothing is published until flush(), which the owner calls once per batch: one
 *    release store of the tail and one doorbell ring for many frames.
 *
 * The sender owns its text scratch buffer: a frame's text is encoded and copied in
 * one call, so no frame can pick up another's bytes.
 */
import { KernelError } from '../errors.js'
import { Fifo } from '../fifo.js'
import { BufferByteLength, SafeTextEncoder, TextEncoderEncodeInto } from '../intrinsics.js'
import type { Doorbell } from '../ring/doorbell.js'
import type { SpscRing } from '../ring/spsc.js'
import { errToWire } from './errcodes.js'
import { encodeError } from './error_text.js'
import { HEADER_BYTES, writeFrame, type FrameHeader } from './frame.js'

/** A frame waiting for ring room: its header copied, its text kept as a string. */
interface Waiting extends FrameHeader {
  text: string | null
}

/** Which header word of an answer carries its error code (null: it has none). */
export type ErrorWord = 'aux' | 'value' | null

const encoder = new SafeTextEncoder()

export class FrameSender {
  private scratch = new Uint8Array(1024)
  private readonly outbox = new Fifo<Waiting>()
  /** Frames written (or a write tried) since the last publish. */
  private unpublished = false

  constructor(
    private readonly ring: SpscRing,
    /** Rung after each publish; notifies only a sleeping reader. */
    private readonly bell: Doorbell,
  ) {}

  /** Frames waiting for ring room. */
  get backlog(): number {
    return this.outbox.length
  }

  /** Send a frame; FRAME_TOO_LARGE (nothing queued) when it can never fit the ring. */
  send(h: FrameHeader, text: string | null): void {
    const bytes = this.encode(text)
    if (bytes < 0) throw this.tooLarge(text as string)
    this.enqueue(h, text, bytes)
  }

  /**
   * Send an answer (REPLY, RESULT, EXIT). One that can never fit goes as a
   * FRAME_TOO_LARGE error instead, with `errorWord` of `h` set to that code.
   */
  answer(h: FrameHeader, text: string | null, errorWord: ErrorWord): void {
    let bytes = this.encode(text)
    if (bytes < 0) {
      if (errorWord !== null) h[errorWord] = errToWire('FRAME_TOO_LARGE')
      text = encodeError(this.tooLarge(text as string), false)
      bytes = this.encode(text)
      // A ring too small for even the refusal: the error word alone says it.
      if (bytes < 0) {
        text = null
        bytes = 0
      }
    }
    this.enqueue(h, text, bytes)
  }

  /** Move waiting frames into the ring while it has room, in order (not published). */
  pump(): void {
    const q = this.outbox
    for (let w = q.peek(); w !== undefined; w = q.peek()) {
      if (!this.write(w, this.encode(w.text))) break
      q.shift()
    }
  }

  /** Publish what was written and ring the reader if it sleeps: once per batch. */
  flush(): void {
    if (this.outbox.length > 0) this.pump()
    if (!this.unpublished) return
    this.unpublished = false
    this.ring.publish()
    this.bell.ring()
  }

  /** Drop every waiting frame (the link failed or shut down; its clients are answered apart). */
  clear(): void {
    this.outbox.clear()
  }

  /** UTF-8 bytes of `text` in the scratch buffer; -1 when the frame can never fit. */
  private encode(text: string | null): number {
    if (text === null) return 0
    // encodeInto writes at most 3 bytes per UTF-16 unit.
    if (this.scratch.length < text.length * 3) this.scratch = new Uint8Array(text.length * 3 + 1024)
    const bytes = TextEncoderEncodeInto(encoder, text, this.scratch).written
    return HEADER_BYTES + bytes > this.ring.maxPayload ? -1 : bytes
  }

  private enqueue(h: FrameHeader, text: string | null, bytes: number): void {
    if (this.outbox.length > 0 || !this.write(h, bytes)) {
      const { op, tag, aux, domainId, value } = h
      this.outbox.push({ op, tag, aux, domainId, value, text })
    }
  }

  /** Write `h` and the encoded text into the ring; false when it has no room now. */
  private write(h: FrameHeader, bytes: number): boolean {
    // Marked even when it fails: reserve() may have committed a wrap marker, and a
    // frame that needs the marker's bytes fits only once the reader has passed it.
    this.unpublished = true
    return writeFrame(this.ring, h, this.scratch, bytes)
  }

  private tooLarge(text: string): KernelError {
    const bytes = HEADER_BYTES + BufferByteLength(text)
    return new KernelError(
      'FRAME_TOO_LARGE',
      `a ${bytes}-byte frame can never fit a ${this.ring.capacity}-byte ring`,
    )
  }
}
