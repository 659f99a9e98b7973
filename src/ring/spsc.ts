/**
 * SpscRing: a single-producer single-consumer ring of variable-length frames in a
 * SharedArrayBuffer. One thread owns the producer side, one the consumer side;
 * each thread builds its own SpscRing over the same bytes (the cached indices are
 * per-thread fields, never shared).
 *
 * Memory layout, at `byteOffset` in the buffer (all offsets in bytes):
 *
 *     +0    header line (64 B)   [0] magic 'MKRG'  [1] version  [2] capacity  [3..15] 0
 *     +64   tail line   (64 B)   [16] tail: free-running byte count written by the producer
 *     +128  head line   (64 B)   [32] head: free-running byte count read by the consumer
 *     +192  data        (capacity bytes, a power of two)
 *
 * Head and tail each own a 64-byte cache line so the producer's stores never
 * invalidate the line the consumer polls, and vice versa. Indices run freely as
 * int32 and wrap through 2^32; `(tail - head) | 0` is the bytes in use because the
 * capacity is at most 2^30.
 *
 * A frame, always 8-byte aligned inside the data area:
 *
 *     [length: i32][reserved: i32, unspecified][payload: length bytes][pad to 8]
 *
 * A length of -1 is the wrap marker: the frame that should have followed did not fit
 * before the end of the data area, so the producer skipped to offset 0. The payload
 * starts 8-aligned, so a user may lay Float64 values over it.
 *
 * Two ways to write a frame. reserve(length) when the length is known first: it
 * writes the length word and hands back the payload offset. claim(minLength) +
 * commit(length) when the length is known only after writing (a value serialized
 * straight into the ring): claim writes nothing and hands back the payload offset
 * with `claimable` contiguous bytes after it; the writer fills any prefix of them,
 * then commit(length) lays down the length word and takes the frame:
 *
 *                 claim(min)                          commit(length)
 *     tail -> [ hdr ][ payload ... claimable ... ]    [len ][ payload: length ][pad]
 *              ^ nothing stored yet                    ^ stored now; tail moves on
 *
 * claimable reaches to the end of the data area or to the head, whichever is nearer
 * (a frame never straddles the end). Between claim and commit the producer calls
 * nothing else; a claim never committed costs nothing (a later claim or reserve
 * simply starts from the same tail). Like reserve, claim may commit a wrap marker
 * when even minLength does not fit before the end, and then still return -1.
 *
 * Memory ordering: the producer writes frames with plain stores and publishes them
 * with one Atomics.store of the tail; the consumer Atomics.loads the tail and then
 * reads the frames with plain loads. Atomics are sequentially consistent in JS, so
 * that store/load pair orders the plain accesses (happens-before). The same pair on
 * the head hands released bytes back to the producer.
 */
import { KernelError } from '../errors.js'
import { checkCapacity, notBytes, refuseLength } from './checks.js'
import { AtomicsLoad, AtomicsStore, MathFloor, MathMin } from '../intrinsics.js'

export const RING_MAGIC = 0x4d4b5247 // 'MKRG'
export const RING_VERSION = 1
const HEADER_BYTES = 192
const MAGIC = 0
const VERSION = 1
const CAPACITY = 2
const TAIL = 16
const HEAD = 32
/** Length word of a wrap marker. */
const WRAP = -1
/** Frame header: the length word and a reserved word, so the payload is 8-aligned. */
export const FRAME_HEADER_BYTES = 8
/** The same, module-private: V8 folds it, where an exported binding costs a hole check. */
const FRAME_HDR = 8
const MIN_CAPACITY = 16
const MAX_CAPACITY = 1 << 30

/** Bytes a frame of `payloadLength` occupies in the ring, header and padding included. */
function shownLength(length: number): string {
  return typeof length === 'number' ? String(length) : typeof length
}

export function frameBytes(payloadLength: number): number {
  return (payloadLength + FRAME_HEADER_BYTES + 7) & ~7
}

export class SpscRing {
  /** Bytes a ring of `capacity` data bytes needs in a buffer. */
  static byteLength(capacity: number): number {
    checkCapacity(capacity)
    if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY) {
      throw new RangeError(`ring capacity must be in [${MIN_CAPACITY}, 2^30], got ${capacity}`)
    }
    return HEADER_BYTES + capacity
  }

  /** A fresh ring in its own SharedArrayBuffer. */
  static create(capacity: number): SpscRing {
    const sab = new SharedArrayBuffer(SpscRing.byteLength(capacity))
    return SpscRing.init(sab, 0, capacity)
  }

  /** Lay out an empty ring at `byteOffset` of `sab` (the caller owns that region). */
  static init(sab: SharedArrayBuffer, byteOffset: number, capacity: number): SpscRing {
    if (!(sab instanceof SharedArrayBuffer)) {
      throw new KernelError('BAD_BUFFER', 'a ring lives in a SharedArrayBuffer')
    }
    const need = SpscRing.byteLength(capacity)
    if (!(byteOffset >= 0) || byteOffset % 64 !== 0 || byteOffset + need > sab.byteLength) {
      throw new RangeError(`a ring of ${capacity} bytes needs ${need} bytes at a 64-aligned offset`)
    }
    const hdr = new Int32Array(sab, byteOffset, HEADER_BYTES >> 2)
    hdr.fill(0)
    hdr[VERSION] = RING_VERSION
    hdr[CAPACITY] = capacity
    // The magic goes last: an attacher that sees it sees a complete header.
    AtomicsStore(hdr, MAGIC, RING_MAGIC)
    return new SpscRing(sab, byteOffset)
  }

  // Fields are `declare`d: TypeScript emits no class-field definitions for them, so V8
  // first sees each one assigned in the constructor with its real value. A defined
  // field starts as undefined, which generalizes its representation and makes every
  // hot-path load check its tag (numbers) or map (typed arrays).
  /** The shared memory this ring lives in (transfer it to the other thread). */
  declare readonly buffer: SharedArrayBuffer
  declare readonly byteOffset: number
  /** Data area size in bytes (a power of two). */
  declare readonly capacity: number
  /** Largest payload a single frame may carry. */
  declare readonly maxPayload: number
  /** The data area as bytes: payload offsets returned by reserve()/poll() index into it. */
  declare readonly bytes: Uint8Array
  /** The data area as int32 (payload offsets are 8-aligned: index with offset >> 2). */
  declare readonly i32: Int32Array
  /** The data area as a DataView, for mixed-width fields. */
  declare readonly view: DataView
  /** Length of the frame the last successful poll() returned. */
  frameLength = 0
  /** Frames the last reserveMany() reserved (0 when it returned -1). */
  reservedFrames = 0
  /** Contiguous payload bytes the last successful claim() made available (0 after commit). */
  claimable = 0

  declare private readonly ctrl: Int32Array
  declare private readonly mask: number
  // Producer-side state (only the producing thread touches these).
  declare private localTail: number
  declare private cachedHead: number
  /** localTail at the last successful claim(): commit() refuses a stale claim. */
  private claimTail = 0
  /** A claim() succeeded and no commit() took it yet. */
  private claimOpen = false
  // Consumer-side state.
  declare private localHead: number
  declare private cachedTail: number

  /** Attach to a ring laid out by SpscRing.init/create, checking magic, version and size. */
  constructor(sab: SharedArrayBuffer, byteOffset = 0) {
    if (!(sab instanceof SharedArrayBuffer)) {
      throw new KernelError('BAD_BUFFER', 'a ring lives in a SharedArrayBuffer')
    }
    if (!(byteOffset >= 0) || byteOffset % 64 !== 0 || byteOffset + HEADER_BYTES > sab.byteLength) {
      throw new KernelError('BAD_BUFFER', `no ring header fits at offset ${byteOffset}`)
    }
    const ctrl = new Int32Array(sab, byteOffset, HEADER_BYTES >> 2)
    if (AtomicsLoad(ctrl, MAGIC) !== RING_MAGIC) {
      throw new KernelError('BAD_BUFFER', `no ring at offset ${byteOffset} (bad magic)`)
    }
    if (ctrl[VERSION] !== RING_VERSION) {
      throw new KernelError('BAD_BUFFER', `ring version ${ctrl[VERSION]}, expected ${RING_VERSION}`)
    }
    const capacity = ctrl[CAPACITY]
    if (
      capacity < MIN_CAPACITY ||
      (capacity & (capacity - 1)) !== 0 ||
      byteOffset + HEADER_BYTES + capacity > sab.byteLength
    ) {
      throw new KernelError('BAD_BUFFER', `ring capacity ${capacity} does not fit its buffer`)
    }
    this.buffer = sab
    this.byteOffset = byteOffset
    this.capacity = capacity
    this.maxPayload = capacity - FRAME_HDR
    this.mask = capacity - 1
    this.ctrl = ctrl
    this.bytes = new Uint8Array(sab, byteOffset + HEADER_BYTES, capacity)
    this.i32 = new Int32Array(sab, byteOffset + HEADER_BYTES, capacity >> 2)
    this.view = new DataView(sab, byteOffset + HEADER_BYTES, capacity)
    this.localTail = this.cachedTail = AtomicsLoad(ctrl, TAIL)
    this.localHead = this.cachedHead = AtomicsLoad(ctrl, HEAD)
  }

  // ---------------------------------------------------------------- producer

  /**
   * Reserve room for a frame of `length` payload bytes. Returns the payload's
   * offset in `bytes` (fill it in place), or -1 when the ring has no room now.
   * The frame becomes visible to the consumer at the next publish(); many frames
   * may be reserved and published at once.
   */
  reserve(length: number): number {
    // One unsigned compare rejects negatives, fractions, NaN and oversize together.
    if (length >>> 0 !== length || length > this.maxPayload) this.refuseLength(length)
    const need = (length + FRAME_HDR + 7) & ~7
    const tail = this.localTail
    const pos = tail & this.mask
    // Fast path, small enough to inline into the caller's loop: the frame fits before
    // the end of the data area and in the room the cached head already shows.
    if (need <= this.capacity - pos && need <= this.capacity - ((tail - this.cachedHead) | 0)) {
      // The reserved word is left as the producer finds it: no store the consumer needs.
      this.i32[pos >> 2] = length
      this.localTail = (tail + need) | 0
      return pos + FRAME_HDR
    }
    return this.reserveSlow(length, need)
  }

  /** reserve() when the frame must wrap or the cached head says full. */
  private reserveSlow(length: number, need: number): number {
    let tail = this.localTail
    let pos = tail & this.mask
    if (need > this.capacity - pos) {
      // The frame would straddle the end: wrap first, then start at 0.
      if (!this.commitWrap(tail, pos)) return -1
      tail = this.localTail
      pos = 0
    }
    if (!this.hasRoom(tail, need)) return -1
    this.i32[pos >> 2] = length
    this.localTail = (tail + need) | 0
    return pos + FRAME_HDR
  }

  /**
   * Reserve up to `count` frames of `length` payload bytes each, back to back, in one
   * call: returns the first payload's offset in `bytes` and sets `reservedFrames` to
   * how many were reserved (frame k's payload is at that offset + k * frameBytes(length)),
   * or returns -1 (reservedFrames 0) when not one frame has room now. Each frame is laid
   * out exactly as by reserve(); fill them, then publish() once. Frames never straddle
   * the end of the data area: near it fewer are reserved, and the next call commits the
   * wrap marker and goes on at offset 0 (like reserve(), it may commit the marker and
   * still return -1). Writing every length word first, before any payload, also touches
   * each cache line of the batch early, which is what makes a batch fast across cores.
   */
  reserveMany(length: number, count: number): number {
    if (length >>> 0 !== length || length > this.maxPayload) this.refuseLength(length)
    if (count >>> 0 !== count || count === 0) {
      throw new RangeError(`frame count must be a positive integer, got ${count}`)
    }
    const need = (length + FRAME_HDR + 7) & ~7
    let tail = this.localTail
    let pos = tail & this.mask
    if (need > this.capacity - pos) {
      // Not one frame fits before the end: wrap first (as reserveSlow).
      if (!this.commitWrap(tail, pos)) {
        this.reservedFrames = 0
        return -1
      }
      tail = this.localTail
      pos = 0
    }
    let room = this.capacity - ((tail - this.cachedHead) | 0)
    if (room < count * need) {
      // The cached head shows less room than asked for: look at the real one.
      this.cachedHead = AtomicsLoad(this.ctrl, HEAD)
      room = this.capacity - ((tail - this.cachedHead) | 0)
    }
    const toEnd = this.capacity - pos
    const n = MathMin(count, MathFloor((room < toEnd ? room : toEnd) / need))
    if (n <= 0) {
      this.reservedFrames = 0
      return -1
    }
    const i32 = this.i32
    const step = need >> 2
    for (let k = 0, w = pos >> 2; k < n; k++, w += step) i32[w] = length
    this.localTail = (tail + n * need) | 0
    this.reservedFrames = n
    return pos + FRAME_HDR
  }

  /**
   * Claim room for a frame whose length is not known yet, at least `minLength`
   * payload bytes: returns the payload's offset in `bytes` and sets `claimable` to
   * the contiguous payload bytes available there (>= minLength, <= maxPayload), or
   * returns -1 (claimable 0) when not even minLength fits now. Nothing is stored
   * until commit(length); see the header comment.
   */
  claim(minLength: number): number {
    if (minLength >>> 0 !== minLength || minLength > this.maxPayload) this.refuseLength(minLength)
    const need = (minLength + FRAME_HDR + 7) & ~7
    let tail = this.localTail
    let pos = tail & this.mask
    if (need > this.capacity - pos) {
      // Not even minLength fits before the end: wrap first (as reserveSlow).
      if (!this.commitWrap(tail, pos)) {
        this.claimable = 0
        this.claimOpen = false
        return -1
      }
      tail = this.localTail
      pos = 0
    }
    let room = this.capacity - ((tail - this.cachedHead) | 0)
    if (room < need) {
      this.cachedHead = AtomicsLoad(this.ctrl, HEAD)
      room = this.capacity - ((tail - this.cachedHead) | 0)
      if (room < need) {
        this.claimable = 0
        this.claimOpen = false
        return -1
      }
    }
    const toEnd = this.capacity - pos
    // room and toEnd are multiples of 8, so every claimable byte is inside a frame
    // whose padded size is <= the contiguous free bytes.
    this.claimable = (room < toEnd ? room : toEnd) - FRAME_HDR
    this.claimTail = tail
    this.claimOpen = true
    return pos + FRAME_HDR
  }

  /**
   * Take the claimed frame with `length` payload bytes (0 <= length <= claimable):
   * stores its length word; visible to the consumer at the next publish().
   */
  commit(length: number): void {
    if (
      length >>> 0 !== length ||
      length > this.claimable ||
      !this.claimOpen ||
      this.localTail !== this.claimTail
    ) {
      throw new KernelError(
        'RING_MISUSE',
        !this.claimOpen || this.localTail !== this.claimTail
          ? 'commit() without a claim() before it'
          : `commit(${shownLength(length)}) beyond the ${this.claimable} bytes claimed`,
      )
    }
    const tail = this.localTail
    this.i32[(tail & this.mask) >> 2] = length
    this.localTail = (tail + ((length + FRAME_HDR + 7) & ~7)) | 0
    this.claimable = 0
    this.claimOpen = false
  }

  /**
   * The next frame does not fit before the end of the data area: commit a wrap marker
   * over the rest of it (it needs only those bytes free) and move the tail to offset 0.
   * False, with nothing stored, when even the marker has no room now.
   */
  private commitWrap(tail: number, pos: number): boolean {
    const toEnd = this.capacity - pos
    if (!this.hasRoom(tail, toEnd)) return false
    this.i32[pos >> 2] = WRAP
    this.localTail = (tail + toEnd) | 0
    return true
  }

  private refuseLength(length: number): never {
    refuseLength(length, this.capacity, this.maxPayload)
  }

  private hasRoom(tail: number, need: number): boolean {
    if (this.capacity - ((tail - this.cachedHead) | 0) >= need) return true
    this.cachedHead = AtomicsLoad(this.ctrl, HEAD)
    return this.capacity - ((tail - this.cachedHead) | 0) >= need
  }

  /** Make every reserved frame visible to the consumer: one atomic store. */
  publish(): void {
    AtomicsStore(this.ctrl, TAIL, this.localTail)
  }

  /** Copy `payload` (a Uint8Array) in as one frame and publish it. False when the ring is full. */
  tryPush(payload: Uint8Array): boolean {
    if (!(payload instanceof Uint8Array)) notBytes(payload)
    const at = this.reserve(payload.length)
    if (at < 0) {
      // reserve() may have committed a wrap marker: publish it, or the consumer never
      // passes it and a frame that needs offset 0 can never fit.
      this.publish()
      return false
    }
    this.bytes.set(payload, at)
    this.publish()
    return true
  }

  /**
   * True when reserve(length) can make progress now (re-reads the head): the frame
   * fits, or the wrap marker in front of it does. In the second case reserve() may
   * commit the marker and still return -1; publish, wait for the consumer to pass
   * the marker, and the frame then fits at offset 0.
   */
  canReserve(length: number): boolean {
    const need = frameBytes(length)
    const toEnd = this.capacity - (this.localTail & this.mask)
    return this.freeBytes() >= (need > toEnd ? toEnd : need)
  }

  /** Bytes free for the producer now (re-reads the head). */
  freeBytes(): number {
    this.cachedHead = AtomicsLoad(this.ctrl, HEAD)
    return this.capacity - ((this.localTail - this.cachedHead) | 0)
  }

  // ---------------------------------------------------------------- consumer

  /**
   * The next published frame: returns its payload offset in `bytes` and sets
   * `frameLength`, or returns -1 when the ring is empty. The bytes stay valid
   * (zero-copy) until release() hands them back to the producer, so a consumer may
   * poll a whole batch and release once.
   */
  poll(): number {
    let head = this.localHead
    for (;;) {
      if (head === this.cachedTail) {
        this.cachedTail = AtomicsLoad(this.ctrl, TAIL)
        if (head === this.cachedTail) {
          this.localHead = head
          return -1
        }
      }
      const pos = head & this.mask
      const length = this.i32[pos >> 2]
      if (length === WRAP) {
        head = (head + this.capacity - pos) | 0
        continue
      }
      this.frameLength = length
      this.localHead = (head + ((length + FRAME_HDR + 7) & ~7)) | 0
      return pos + FRAME_HDR
    }
  }

  /** Hand every polled frame's bytes back to the producer: one atomic store. */
  release(): void {
    AtomicsStore(this.ctrl, HEAD, this.localHead)
  }

  /** Copy the next frame out (allocates; for tests and cold paths). Null when empty. */
  tryPop(): Uint8Array | null {
    const at = this.poll()
    if (at < 0) {
      // poll() may have skipped a wrap marker: release it, or the producer never
      // gets those bytes back and a frame that needs offset 0 can never fit.
      this.release()
      return null
    }
    const out = this.bytes.slice(at, at + this.frameLength)
    this.release()
    return out
  }

  /** True when the consumer has nothing published to read (re-reads the tail). */
  isEmpty(): boolean {
    this.cachedTail = AtomicsLoad(this.ctrl, TAIL)
    return this.localHead === this.cachedTail
  }

  /** Bytes ever published into the ring (the tail), mod 2^32. */
  produced(): number {
    return AtomicsLoad(this.ctrl, TAIL) >>> 0
  }

  /** Bytes published and not yet released, as seen from either side now. */
  usedBytes(): number {
    return (AtomicsLoad(this.ctrl, TAIL) - AtomicsLoad(this.ctrl, HEAD)) | 0
  }
}
