/**
 * The value codec of session messages: structured clone (the `node:v8` serializer's
 * semantics), written straight into a ring's bytes where it can be.
 *
 * encodeValue writes one value into out[at, end) and returns the offset after it,
 * or -1 when it does not fit there (the caller finds room and tries again); a value
 * that cannot be cloned (a function, a symbol, ...) is KernelError NOT_CLONEABLE.
 * decodeValue reads one value back from bytes[at, at + length).
 *
 * Two paths (README, "Messages"): the common values (primitives, plain and
 * null-prototype objects, dense arrays, Uint8Array/Buffer) in the compact format of
 * codec_format.ts, written and read without intermediate buffers (codec_write.ts,
 * codec_read.ts); anything else as one V8 tag and the node:v8 serializer's bytes for
 * the whole value (codec_v8.ts). Either way the decoded value is what structuredClone
 * returns, except that an ArrayBufferView is copied as its view (codec_v8.ts says why).
 *
 * A -1 leaves nothing the caller sees changed outside out[at, end) (which may hold
 * scratch bytes). The value was read once, though: its clone is kept, and the next
 * call with the same value (===) writes that clone instead of reading the value
 * again, so getters do not run twice and the message is the value as it was when
 * first sent, as postMessage would have it. Any other next call drops the clone.
 */
import { KernelError } from '../errors.js'
import { NumberIsInteger, TypedArraySet, TypedArraySubarray } from '../intrinsics.js'
import { T_V8 } from './codec_format.js'
import { readFast } from './codec_read.js'
import { v8Decode, v8Encode } from './codec_v8.js'
import { FALLBACK, SPILLED, releaseSpill, spilledBytes, writeFast } from './codec_write.js'

const NOTHING: unique symbol = Symbol('nothing pending')
/** The value whose encoding did not fit, and its bytes (the whole frame). */
let pendingValue: unknown = NOTHING
let pendingBytes: Uint8Array | null = null
/** True when pendingBytes is v8 bytes still needing the V8 tag in front. */
let pendingIsV8 = false

function checkRange(len: number, at: number, end: number): void {
  if (!(NumberIsInteger(at) && NumberIsInteger(end) && at >= 0 && at <= end && end <= len)) {
    throw new RangeError(`session codec: [${at}, ${end}) is not inside 0..${len}`)
  }
}

function notCloneable(cause: unknown): KernelError {
  return new KernelError('NOT_CLONEABLE', 'this value cannot be cloned to another thread', {
    cause,
  })
}

export function encodeValue(value: unknown, out: Uint8Array, at: number, end: number): number {
  checkRange(out.length, at, end)
  if (pendingValue !== NOTHING) {
    const same = pendingValue === value
    pendingValue = NOTHING
    if (same) return writePending(value, out, at, end)
    pendingBytes = null
  }
  let after: number
  try {
    after = writeFast(value, out, at, end)
  } catch (err) {
    throw notCloneable(err) // a getter threw
  }
  if (after >= 0) return after
  if (after === SPILLED) {
    pendingValue = value
    pendingBytes = spilledBytes()
    pendingIsV8 = false
    return -1
  }
  if (after !== FALLBACK) throw new RangeError('session codec: bad writer result')
  let bytes: Uint8Array
  try {
    bytes = v8Encode(value)
  } catch (err) {
    throw notCloneable(err)
  }
  pendingIsV8 = true
  pendingBytes = bytes
  return writePending(value, out, at, end)
}

/** Write the kept clone of `value` (pendingBytes), or keep it and answer -1. */
function writePending(value: unknown, out: Uint8Array, at: number, end: number): number {
  const bytes = pendingBytes as Uint8Array
  const head = pendingIsV8 ? 1 : 0
  if (head + bytes.length > end - at) {
    pendingValue = value
    return -1
  }
  if (head === 1) out[at] = T_V8
  TypedArraySet(out, bytes, at + head)
  pendingBytes = null
  if (!pendingIsV8) releaseSpill()
  return at + head + bytes.length
}

export function decodeValue(bytes: Uint8Array, at: number, length: number): unknown {
  checkRange(bytes.length, at, at + length)
  if (length > 0 && bytes[at] === T_V8) {
    return v8Decode(TypedArraySubarray(bytes, at + 1, at + length))
  }
  return readFast(bytes, at, length)
}
