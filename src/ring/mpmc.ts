/**
 * MpmcRing: a bounded multi-producer multi-consumer queue of fixed-size slots
 * (Dmitry Vyukov's bounded MPMC queue): each slot carries a sequence number that
 * says whose turn it is, and producers (consumers) claim positions with
 * Atomics.compareExchange on a shared enqueue (dequeue) counter. For the contention
 * scenarios: many producers, small rings, slow consumers.
 *
 * Memory layout, at `byteOffset` (bytes):
 *
 *     +0    header line (64 B)  [0] magic 'MKMP' [1] version [2] slotCount [3] slotBytes
 *     +64   enqueue line (64 B) [16] enqueue position (free-running int32)
 *     +128  dequeue line (64 B) [32] dequeue position
 *     +192  slots: slotCount x slotBytes, each
 *             [seq: i32][length: i32][payload: slotBytes - 8]
 *
 * Slot protocol, for position p and slot i = p & mask:
 *   seq == p          the slot is free for the producer that claims p
 *   seq == p + 1      the slot holds the frame of p, ready for the consumer of p
 *   seq == p + count  released, free for the producer of lap p + count
 * The claim is a CAS on the position counter; the hand-off is an Atomics.store of
 * seq after the plain payload writes (release), read by Atomics.load before the
 * plain payload reads (acquire). Per-producer order is kept because one producer's
 * claims are taken in increasing position.
 *
 * Each instance holds at most one claimed and one polled slot, and remembers which:
 * commit() without a claim, release() without a poll, or a second claim (poll) before
 * the first is committed (released) is refused with RING_MISUSE. Unchecked, each of
 * them stores a sequence number into a slot that is not this instance's turn: a
 * phantom frame, a frame lost, or a slot whose seq runs ahead of its position counter,
 * where claim()/poll() would retry for ever. As a second line, claim() and poll()
 * refuse such a slot (BAD_BUFFER) instead of retrying: seq > p with the counter still
 * at p can only come from a store out of protocol, since the CAS moves the counter
 * past p before anyone stores a seq beyond p.
 */
import { KernelError } from '../errors.js'
import { checkCapacity, notBytes, shown } from './checks.js'
import {
  AtomicsCompareExchange,
  AtomicsLoad,
  AtomicsStore,
  MathMax,
  NumberIsInteger,
} from '../intrinsics.js'

export const MPMC_MAGIC = 0x4d4b4d50 // 'MKMP'
export const MPMC_VERSION = 1
const HEADER_BYTES = 192
const MAGIC = 0
const VERSION = 1
const SLOT_COUNT = 2
const SLOT_BYTES = 3
const ENQ = 16
const DEQ = 32
const SLOT_HEADER_BYTES = 8

export interface MpmcOptions {
  /** Number of slots, a power of two, at least 2. */
  slots: number
  /** Bytes per slot including its 8-byte header; a multiple of 8, at least 16. Default 64. */
  slotBytes?: number
}

export class MpmcRing {
  static byteLength(slots: number, slotBytes = 64): number {
    checkCapacity(slots, 'MPMC slot count')
    // With one slot, "ready for the consumer of p" (seq p + 1) reads as "free for the
    // producer of p + 1": a second push overwrites the first. Vyukov requires >= 2.
    if (slots < 2) throw new RangeError(`an MPMC ring needs at least 2 slots, got ${slots}`)
    if (!NumberIsInteger(slotBytes) || slotBytes < 16 || slotBytes % 8 !== 0) {
      throw new RangeError(`slotBytes must be a multiple of 8 and at least 16, got ${slotBytes}`)
    }
    return HEADER_BYTES + slots * slotBytes
  }

  static create(opts: MpmcOptions): MpmcRing {
    const sab = new SharedArrayBuffer(MpmcRing.byteLength(opts.slots, opts.slotBytes))
    return MpmcRing.init(sab, 0, opts)
  }

  static init(sab: SharedArrayBuffer, byteOffset: number, opts: MpmcOptions): MpmcRing {
    if (!(sab instanceof SharedArrayBuffer)) {
      throw new KernelError('BAD_BUFFER', 'an MPMC ring lives in a SharedArrayBuffer')
    }
    const slotBytes = opts.slotBytes ?? 64
    const need = MpmcRing.byteLength(opts.slots, slotBytes)
    if (!(byteOffset >= 0) || byteOffset % 64 !== 0 || byteOffset + need > sab.byteLength) {
      throw new RangeError(`an MPMC ring of this shape needs ${need} bytes at a 64-aligned offset`)
    }
    const all = new Int32Array(sab, byteOffset, need >> 2)
    all.fill(0)
    all[VERSION] = MPMC_VERSION
    all[SLOT_COUNT] = opts.slots
    all[SLOT_BYTES] = slotBytes
    const stride = slotBytes >> 2
    for (let i = 0; i < opts.slots; i++) all[(HEADER_BYTES >> 2) + i * stride] = i
    AtomicsStore(all, MAGIC, MPMC_MAGIC)
    return new MpmcRing(sab, byteOffset)
  }

  // Fields assigned in the constructor are `declare`d (TypeScript emits no class-field
  // definition), so V8 first sees them with their real values: a field defined as
  // undefined first gets a generalized representation, and every hot-path load of it
  // then checks a tag or a map.
  declare readonly buffer: SharedArrayBuffer
  declare readonly byteOffset: number
  declare readonly slots: number
  declare readonly slotBytes: number
  /** Largest payload one slot carries. */
  declare readonly maxPayload: number
  /** The slot area as bytes: offsets from claim()/poll() index into it. */
  declare readonly bytes: Uint8Array
  declare readonly i32: Int32Array
  declare readonly view: DataView
  /** Length of the frame the last poll() returned. */
  frameLength = 0
  /** Failed compareExchange on a position counter (contention, this thread's own count). */
  casRetries = 0
  /** claim() found the ring full. */
  fullSpins = 0
  /** poll() found the ring empty. */
  emptySpins = 0

  declare private readonly ctrl: Int32Array
  declare private readonly mask: number
  declare private readonly stride: number
  // What this instance holds (numbers from the start, so the checks are smi compares):
  /** Word index of the slot claimed and not yet committed; -1 when none. */
  private claimedAt = -1
  /** The seq commit() stores there: the claimed position + 1. */
  private commitSeq = 0
  /** Word index of the slot polled and not yet released; -1 when none. */
  private polledAt = -1
  /** The seq release() stores there: the polled position + slots (the next lap's). */
  private releaseSeq = 0

  constructor(sab: SharedArrayBuffer, byteOffset = 0) {
    if (!(sab instanceof SharedArrayBuffer)) {
      throw new KernelError('BAD_BUFFER', 'an MPMC ring lives in a SharedArrayBuffer')
    }
    if (!(byteOffset >= 0) || byteOffset % 64 !== 0 || byteOffset + HEADER_BYTES > sab.byteLength) {
      throw new KernelError('BAD_BUFFER', `no MPMC header fits at offset ${byteOffset}`)
    }
    const ctrl = new Int32Array(sab, byteOffset, HEADER_BYTES >> 2)
    if (AtomicsLoad(ctrl, MAGIC) !== MPMC_MAGIC) {
      throw new KernelError('BAD_BUFFER', `no MPMC ring at offset ${byteOffset} (bad magic)`)
    }
    if (ctrl[VERSION] !== MPMC_VERSION) {
      throw new KernelError('BAD_BUFFER', `MPMC version ${ctrl[VERSION]}, expected ${MPMC_VERSION}`)
    }
    const slots = ctrl[SLOT_COUNT]
    const slotBytes = ctrl[SLOT_BYTES]
    if (
      slots < 2 ||
      (slots & (slots - 1)) !== 0 ||
      slotBytes < 16 ||
      slotBytes % 8 !== 0 ||
      byteOffset + HEADER_BYTES + slots * slotBytes > sab.byteLength
    ) {
      throw new KernelError(
        'BAD_BUFFER',
        `MPMC shape ${slots}x${slotBytes} does not fit its buffer`,
      )
    }
    this.buffer = sab
    this.byteOffset = byteOffset
    this.slots = slots
    this.slotBytes = slotBytes
    this.maxPayload = slotBytes - SLOT_HEADER_BYTES
    this.mask = slots - 1
    this.stride = slotBytes >> 2
    this.ctrl = ctrl
    const area = slots * slotBytes
    this.bytes = new Uint8Array(sab, byteOffset + HEADER_BYTES, area)
    this.i32 = new Int32Array(sab, byteOffset + HEADER_BYTES, area >> 2)
    this.view = new DataView(sab, byteOffset + HEADER_BYTES, area)
  }

  /**
   * Producer: claim a slot for a frame of `length` bytes. Returns the payload
   * offset in `bytes`, or -1 when the ring is full. Fill it, then commit().
   * An instance holds at most one claimed slot: claiming again before commit()
   * throws RING_MISUSE (the first slot would never be published, and every consumer
   * would wait at its position for ever).
   */
  claim(length: number): number {
    if (!(length >= 0 && length <= this.maxPayload) || (length | 0) !== length) {
      if (NumberIsInteger(length) && length > this.maxPayload) {
        throw new KernelError(
          'FRAME_TOO_LARGE',
          `a ${length}-byte frame does not fit a ${this.slotBytes}-byte slot (max payload ${this.maxPayload})`,
        )
      }
      throw new RangeError(`frame length must be a non-negative integer, got ${shown(length)}`)
    }
    if (this.claimedAt >= 0) this.misuse('claim() again before commit() of the slot it holds')
    const i32 = this.i32
    let pos = AtomicsLoad(this.ctrl, ENQ)
    for (;;) {
      const w = (pos & this.mask) * this.stride
      const dif = (AtomicsLoad(i32, w) - pos) | 0
      if (dif === 0) {
        const seen = AtomicsCompareExchange(this.ctrl, ENQ, pos, (pos + 1) | 0)
        if (seen === pos) {
          i32[w + 1] = length
          this.claimedAt = w
          this.commitSeq = (pos + 1) | 0
          return (w << 2) + SLOT_HEADER_BYTES
        }
        this.casRetries++
        pos = seen
      } else if (dif < 0) {
        this.fullSpins++
        return -1
      } else {
        // Another producer took pos: the counter has moved on, unless a seq was stored
        // out of protocol (then retrying would spin for ever).
        const next = AtomicsLoad(this.ctrl, ENQ)
        if (next === pos) this.corrupt('enqueue', pos, dif)
        pos = next
      }
    }
  }

  /** Producer: publish the claimed slot to consumers. RING_MISUSE when none is held. */
  commit(): void {
    const w = this.claimedAt
    if (w < 0) this.misuse('commit() without a claimed slot (claim() first, commit once)')
    this.claimedAt = -1
    AtomicsStore(this.i32, w, this.commitSeq)
  }

  /** Copy `payload` (a Uint8Array) in as one frame. False when full. */
  tryPush(payload: Uint8Array): boolean {
    if (!(payload instanceof Uint8Array)) notBytes(payload)
    const at = this.claim(payload.length)
    if (at < 0) return false
    this.bytes.set(payload, at)
    this.commit()
    return true
  }

  /**
   * Consumer: take the next frame. Returns its payload offset and sets frameLength,
   * or -1 when empty. The slot stays yours, zero-copy, until release(); polling
   * again before that throws RING_MISUSE (the held slot would never go back to
   * producers, and the ring would fill up for good one lap later).
   */
  poll(): number {
    if (this.polledAt >= 0) this.misuse('poll() again before release() of the slot it holds')
    const i32 = this.i32
    let pos = AtomicsLoad(this.ctrl, DEQ)
    for (;;) {
      const w = (pos & this.mask) * this.stride
      const dif = (AtomicsLoad(i32, w) - ((pos + 1) | 0)) | 0
      if (dif === 0) {
        const seen = AtomicsCompareExchange(this.ctrl, DEQ, pos, (pos + 1) | 0)
        if (seen === pos) {
          this.frameLength = i32[w + 1]
          this.polledAt = w
          this.releaseSeq = (pos + this.slots) | 0
          return (w << 2) + SLOT_HEADER_BYTES
        }
        this.casRetries++
        pos = seen
      } else if (dif < 0) {
        this.emptySpins++
        return -1
      } else {
        const next = AtomicsLoad(this.ctrl, DEQ)
        if (next === pos) this.corrupt('dequeue', pos, dif)
        pos = next
      }
    }
  }

  /** Consumer: hand the polled slot back to producers of the next lap. RING_MISUSE when none is held. */
  release(): void {
    const w = this.polledAt
    if (w < 0) this.misuse('release() without a polled slot (poll() first, release once)')
    this.polledAt = -1
    AtomicsStore(this.i32, w, this.releaseSeq)
  }

  /**
   * True when claim() can make progress now, without claiming: the slot at the
   * enqueue position is free, or a faster producer already took it (claim() then
   * moves on). A racy snapshot, for the ready check of a producer's Doorbell wait.
   */
  canClaim(): boolean {
    const pos = AtomicsLoad(this.ctrl, ENQ)
    return ((AtomicsLoad(this.i32, (pos & this.mask) * this.stride) - pos) | 0) >= 0
  }

  /**
   * True when poll() would find nothing now, without polling: the slot at the
   * dequeue position holds no committed frame (and no faster consumer took it).
   * A racy snapshot; `!isEmpty()` is the ready check of a consumer's Doorbell wait.
   */
  isEmpty(): boolean {
    const pos = AtomicsLoad(this.ctrl, DEQ)
    const seq = AtomicsLoad(this.i32, (pos & this.mask) * this.stride)
    return ((seq - ((pos + 1) | 0)) | 0) < 0
  }

  private misuse(what: string): never {
    throw new KernelError('RING_MISUSE', `MpmcRing: ${what}`)
  }

  private corrupt(counter: string, pos: number, dif: number): never {
    throw new KernelError(
      'BAD_BUFFER',
      `MPMC slot ${pos & this.mask} has a sequence ${dif} ahead of the ${counter} position ${pos}: ` +
        'a sequence word was stored out of protocol (the ring is corrupt)',
    )
  }

  /** Copy the next frame out (allocates; for tests and cold paths). Null when empty. */
  tryPop(): Uint8Array | null {
    const at = this.poll()
    if (at < 0) return null
    const out = this.bytes.slice(at, at + this.frameLength)
    this.release()
    return out
  }

  /** Frames enqueued and not yet dequeued, approximately (a racy snapshot). */
  size(): number {
    return MathMax(0, (AtomicsLoad(this.ctrl, ENQ) - AtomicsLoad(this.ctrl, DEQ)) | 0)
  }
}
