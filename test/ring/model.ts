// Reference models of the rings, written from the documented layout (not from the
// code): the SPSC ring is a queue of frames placed at byte positions, each frame
// taking 8 header bytes plus its payload rounded up to 8, and a frame that would
// cross the end of the data area is preceded by a wrap marker covering the rest of
// it. Plain JS arrays; positions are plain numbers (no int32 wrap), so the model
// cannot share an overflow bug with the ring.
import { SpscRing } from 'multikernel/ring'
import { pattern, sameBytes } from './helpers.js'

/** Bytes a frame takes, from the spec: length word, reserved word, payload padded to 8. */
export function modelFrameBytes(len: number): number {
  return 8 + Math.ceil(len / 8) * 8
}

interface Entry {
  start: number
  size: number
  /** null for a wrap marker. */
  frame: { payload: Uint8Array; at: number } | null
}

export class SpscModel {
  readonly capacity: number
  readonly maxPayload: number
  /** Data-area offset of model position 0. */
  private readonly base: number
  private tail = 0
  private published = 0
  private head = 0
  private released = 0
  /** Reserved and not yet polled, in ring order: the model queue. */
  private readonly queue: Entry[] = []
  /** Polled, not yet released: their bytes must stay intact. */
  held: { payload: Uint8Array; at: number }[] = []

  constructor(capacity: number, startOffset: number) {
    this.capacity = capacity
    this.maxPayload = capacity - 8
    this.base = startOffset
  }

  private offset(pos: number): number {
    return (this.base + pos) % this.capacity
  }

  /** Bytes the producer may still fill: capacity minus reserved-and-unreleased. */
  free(): number {
    return this.capacity - (this.tail - this.released)
  }

  /** Published and not yet released (what usedBytes() reports). */
  used(): number {
    return this.published - this.released
  }

  /**
   * What reserve(payload.length) must do: `at`, the payload offset or -1 when the
   * bytes do not fit; `marker`, the offset where a wrap marker went, or -1.
   */
  reserve(payload: Uint8Array): { at: number; marker: number } {
    const need = modelFrameBytes(payload.length)
    let pos = this.offset(this.tail)
    let marker = -1
    if (need > this.capacity - pos) {
      const toEnd = this.capacity - pos
      if (this.free() < toEnd) return { at: -1, marker }
      this.queue.push({ start: this.tail, size: toEnd, frame: null })
      this.tail += toEnd
      marker = pos
      pos = 0
    }
    if (this.free() < need) return { at: -1, marker }
    const frame = { payload, at: pos + 8 }
    this.queue.push({ start: this.tail, size: need, frame })
    this.tail += need
    return { at: frame.at, marker }
  }

  publish(): void {
    this.published = this.tail
  }

  /** The next published frame (skipping wrap markers), or null. */
  poll(): { payload: Uint8Array; at: number } | null {
    while (this.queue.length > 0 && this.queue[0].start < this.published) {
      const e = this.queue.shift() as Entry
      this.head = e.start + e.size
      if (e.frame !== null) {
        this.held.push(e.frame)
        return e.frame
      }
    }
    return null
  }

  release(): void {
    this.released = this.head
    this.held = []
  }

  /** Payloads reserved and not yet polled, in order. */
  pending(): Uint8Array[] {
    return this.queue.flatMap((e) => (e.frame === null ? [] : [e.frame.payload]))
  }
}

/**
 * A producer ring, a consumer ring (two SpscRing objects over the same bytes, as two
 * threads would have) and the model, driven in lockstep. Every step throws with
 * context on the first disagreement.
 */
export class SpscHarness {
  readonly p: SpscRing
  readonly c: SpscRing
  readonly m: SpscModel
  private tag = 0

  constructor(p: SpscRing, c: SpscRing, startOffset: number) {
    this.p = p
    this.c = c
    this.m = new SpscModel(p.capacity, startOffset)
  }

  /** Reserve and fill a frame of `len` bytes; the payload offset, or -1 when refused. */
  push(len: number): number {
    const payload = pattern(len, ++this.tag)
    const want = this.m.reserve(payload)
    const at = this.p.reserve(len)
    if (at !== want.at) {
      throw new Error(`reserve(${len}) = ${at}, the model says ${want.at}`)
    }
    if (want.marker >= 0 && this.p.i32[want.marker >> 2] !== -1) {
      throw new Error(`reserve(${len}): no wrap marker (-1) at offset ${want.marker}`)
    }
    if (at >= 0) {
      if (this.p.i32[(at - 8) >> 2] !== len)
        throw new Error(`length word of ${len} not at ${at - 8}`)
      this.p.bytes.set(payload, at)
    }
    return at
  }

  publish(): void {
    this.p.publish()
    this.m.publish()
  }

  /** Poll one frame and compare it with the model's; false when both say empty. */
  pop(): boolean {
    const want = this.m.poll()
    const at = this.c.poll()
    if (want === null) {
      if (at !== -1) throw new Error(`poll() = ${at}, the model says empty`)
      return false
    }
    if (at !== want.at) throw new Error(`poll() = ${at}, the model says ${want.at}`)
    const got = this.c.bytes.subarray(at, at + this.c.frameLength)
    if (!sameBytes(got, want.payload)) {
      throw new Error(
        `frame at ${at}: ${this.c.frameLength} bytes, not the ${want.payload.length} pushed`,
      )
    }
    return true
  }

  release(): void {
    this.c.release()
    this.m.release()
  }

  /** Shared counters agree with the model, and polled-unreleased bytes are intact. */
  check(withFree = false): void {
    if (this.p.usedBytes() !== this.m.used()) {
      throw new Error(`usedBytes() = ${this.p.usedBytes()}, the model says ${this.m.used()}`)
    }
    // freeBytes() refreshes the producer's cached head, which would hide a stale-cache
    // bug if done every step; callers ask for it now and then.
    if (withFree && this.p.freeBytes() !== this.m.free()) {
      throw new Error(`freeBytes() = ${this.p.freeBytes()}, the model says ${this.m.free()}`)
    }
    for (const h of this.m.held) {
      if (!sameBytes(this.c.bytes.subarray(h.at, h.at + h.payload.length), h.payload)) {
        throw new Error(`polled, unreleased frame at ${h.at} was overwritten`)
      }
    }
  }

  /** Publish, pop everything, release: every pending frame must come out intact. */
  drain(): number {
    this.publish()
    let n = 0
    while (this.pop()) n++
    this.release()
    this.check(true)
    if (this.m.pending().length !== 0) throw new Error('the model still holds frames')
    return n
  }
}

/**
 * An empty ring whose producer and consumer both stand at `startIndex` (any int32
 * multiple of 8), set through the documented header words (+64 tail, +128 head)
 * before the two ring objects attach. Reaches any offset, and the int32 overflow of
 * the free-running indices, without pushing a frame.
 */
export function ringAtIndex(capacity: number, startIndex: number): SpscHarness {
  const fresh = SpscRing.create(capacity)
  const words = new Int32Array(fresh.buffer, 0, 48)
  words[16] = startIndex
  words[32] = startIndex
  const p = new SpscRing(fresh.buffer)
  const c = new SpscRing(fresh.buffer)
  return new SpscHarness(p, c, ((startIndex % capacity) + capacity) % capacity)
}

/** An empty ring at data offset `offset`, reached through the API (a filler frame). */
export function ringAtOffset(capacity: number, offset: number): SpscHarness {
  const p = SpscRing.create(capacity)
  const c = new SpscRing(p.buffer)
  if (offset > 0) {
    if (p.reserve(offset - 8) !== 8) throw new Error('filler frame not at 0')
    p.publish()
    if (c.poll() !== 8 || c.frameLength !== offset - 8) throw new Error('filler not polled')
    c.release()
  }
  return new SpscHarness(p, c, offset)
}

/** The same for the MPMC ring: a FIFO of payloads with a slot count. */
export class MpmcModel {
  readonly queue: Uint8Array[] = []
  held = false
  constructor(readonly slots: number) {}
  /** A producer may claim iff queued plus the consumer's unreleased slot leave one free. */
  canClaim(): boolean {
    return this.queue.length + (this.held ? 1 : 0) < this.slots
  }
}
