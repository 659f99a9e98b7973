/**
 * The fast path of the session codec's encoder: the values sessions mostly carry
 * (primitives, plain objects, dense arrays, Uint8Arrays) written straight into the
 * caller's bytes in the format of codec_format.ts, allocating nothing.
 *
 * Anything else makes writeFast answer FALLBACK and the caller serializes the WHOLE
 * value with node:v8 instead (codec_v8.ts): that includes a second reference to an
 * object already written (a cycle or a shared reference, which structured clone
 * preserves and this format does not), a proxy, a class instance, a hole in an
 * array, an array with named properties, a bigint beyond 64 bits, a depth beyond
 * MAX_DEPTH, and every type the format has no tag for. A function or a symbol also
 * falls back, so that V8 throws structured clone's own DataCloneError for it.
 *
 * When the value does not fit in out[at, end), the writer does not stop: it spills
 * what it wrote so far into a scratch buffer and finishes there (SPILLED), so the
 * value is read once (its getters run once) and the caller can keep the bytes.
 */
import { types } from 'node:util'
import {
  ArrayBufferIsView,
  ArrayIsArray,
  ArrayPrototype,
  BigIntAsIntN,
  BufferPrototype,
  BufferByteLength,
  BufferUtf8Write,
  ObjectGetPrototypeOf,
  ObjectPrototypeHasOwnProperty,
  ObjectKeys,
  ObjectPrototype,
  SafeMap,
  SafeUint8Array,
  StringCharCodeAt,
  StringIsWellFormed,
  TypedArraySet,
  TypedArraySubarray,
  Uint8ArrayPrototype,
} from '../intrinsics.js'
import {
  LEN_LONG,
  T_ARRAY,
  T_BIGINT64,
  T_BYTES,
  T_END,
  T_FALSE,
  T_FLOAT64,
  T_INT32,
  T_INT8,
  T_LATIN1,
  T_NULL,
  T_OBJECT,
  T_SMALL_INT,
  T_TRUE,
  T_UNDEFINED,
  T_UTF16,
  T_UTF8,
  scratchBytes,
  scratchF64,
  scratchI64,
} from './codec_format.js'

const isProxy = types.isProxy

/** writeFast: the value needs the v8 serializer (nothing the caller sees was changed). */
export const FALLBACK = -2
/** writeFast: the value did not fit; its bytes are spilled[0, spilledLength). */
export const SPILLED = -1
/** Nesting deeper than this goes to v8 (which also bounds the reader's recursion). */
export const MAX_DEPTH = 64

const SPILL_START = 4096
/** A spill buffer grown beyond this is dropped once its bytes are taken. */
const SPILL_KEEP = 1 << 16

// The writer's state: module-level so that a call allocates nothing.
let buf: Uint8Array = new SafeUint8Array(0) // out, or spill once out is too small
let pos = 0 // next byte to write in buf
let lim = 0 // end of the writable space in buf
let first = 0 // the value's first byte in buf
let spill = new SafeUint8Array(SPILL_START)
/** Bytes of the last SPILLED value: spill[0, spilledLength). */
export let spilledLength = 0

// Objects already written in this value: a short list, then a map for big values.
const SEEN_LIST = 32
const seenList: (object | undefined)[] = []
for (let i = 0; i < SEEN_LIST; i++) seenList[i] = undefined
const seenMap = new SafeMap<object, true>()
let seenCount = 0

/** The spilled bytes of the last SPILLED result (valid until the next writeFast). */
export function spilledBytes(): Uint8Array {
  return TypedArraySubarray(spill, 0, spilledLength)
}

/** Forget a large spill buffer once the caller has copied its bytes. */
export function releaseSpill(): void {
  if (spill.length > SPILL_KEEP) spill = new SafeUint8Array(SPILL_START)
}

/**
 * Write `value` into out[at, end). Returns the offset after it, FALLBACK (use v8 for
 * the whole value) or SPILLED (too big for the space; the bytes are in spilledBytes()).
 * Throws whatever a getter of the value throws.
 */
export function writeFast(value: unknown, out: Uint8Array, at: number, end: number): number {
  buf = out
  pos = at
  lim = end
  first = at
  let ok = false
  try {
    ok = writeValue(value, 0)
  } finally {
    forgetSeen()
  }
  const wasOut = buf === out
  const after = pos
  buf = spill // hold no reference to the caller's memory
  if (!ok) return FALLBACK
  if (wasOut) return after
  spilledLength = after
  return SPILLED
}

function forgetSeen(): void {
  const n = seenCount < SEEN_LIST ? seenCount : SEEN_LIST
  for (let i = 0; i < n; i++) seenList[i] = undefined
  if (seenCount > SEEN_LIST) seenMap.clear()
  seenCount = 0
}

/** True if `o` was already written in this value; otherwise remembers it. */
function seen(o: object): boolean {
  const n = seenCount < SEEN_LIST ? seenCount : SEEN_LIST
  for (let i = 0; i < n; i++) if (seenList[i] === o) return true
  if (seenCount < SEEN_LIST) {
    seenList[seenCount++] = o
    return false
  }
  if (seenMap.has(o)) return true
  seenMap.set(o, true)
  seenCount++
  return false
}

/** Make room for `n` more bytes, moving to the spill buffer if out is too small. */
function room(n: number): void {
  if (pos + n <= lim) return
  const used = pos - first
  let size = spill.length
  while (size < used + n) size *= 2
  const to = size === spill.length && buf !== spill ? spill : new SafeUint8Array(size)
  TypedArraySet(to, TypedArraySubarray(buf, first, pos), 0)
  spill = to
  buf = to
  first = 0
  pos = used
  lim = size
}

function writeLen(n: number): void {
  if (n < LEN_LONG) {
    buf[pos++] = n
    return
  }
  buf[pos++] = LEN_LONG
  writeU32(n)
}

function writeU32(n: number): void {
  buf[pos] = n
  buf[pos + 1] = n >>> 8
  buf[pos + 2] = n >>> 16
  buf[pos + 3] = n >>> 24
  pos += 4
}

function writeScratch8(tag: number): void {
  room(9)
  const b = buf
  let p = pos
  b[p++] = tag
  for (let i = 0; i < 8; i++) b[p++] = scratchBytes[i]
  pos = p
}

function writeValue(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'number':
      writeNumber(v)
      return true
    case 'string':
      writeString(v)
      return true
    case 'boolean':
      room(1)
      buf[pos++] = v ? T_TRUE : T_FALSE
      return true
    case 'undefined':
      room(1)
      buf[pos++] = T_UNDEFINED
      return true
    case 'object':
      if (v === null) {
        room(1)
        buf[pos++] = T_NULL
        return true
      }
      return writeObject(v, depth)
    case 'bigint':
      if (BigIntAsIntN(64, v) !== v) return false
      scratchI64[0] = v
      writeScratch8(T_BIGINT64)
      return true
    default:
      return false // a function or a symbol: v8 throws structured clone's DataCloneError
  }
}

function writeNumber(v: number): void {
  if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
    if (v >= 0 && v < 128) {
      room(1)
      buf[pos++] = T_SMALL_INT | v
    } else if (v >= -128 && v < 128) {
      room(2)
      buf[pos++] = T_INT8
      buf[pos++] = v
    } else {
      room(5)
      buf[pos++] = T_INT32
      writeU32(v)
    }
    return
  }
  scratchF64[0] = v // -0, NaN, fractions and integers beyond int32 keep every bit
  writeScratch8(T_FLOAT64)
}

function writeString(s: string): void {
  const n = s.length
  const head = n < LEN_LONG ? 2 : 6
  room(head + n)
  const tagAt = pos
  const b = buf
  const p = pos + head
  let i = 0
  for (; i < n; i++) {
    const c = StringCharCodeAt(s, i)
    if (c > 0xff) break
    b[p + i] = c
  }
  if (i === n) {
    b[pos++] = T_LATIN1
    writeLen(n)
    pos += n
    return
  }
  pos = tagAt
  // UTF-8 would turn a lone surrogate into U+FFFD: those strings go as raw UTF-16.
  if (StringIsWellFormed(s)) writeUtf8(s)
  else writeUtf16(s)
}

function writeUtf8(s: string): void {
  const worst = 3 * s.length // UTF-8 bytes per UTF-16 unit, at most
  room(5 + (pos + 5 + worst <= lim ? worst : BufferByteLength(s, 'utf8')))
  const written = BufferUtf8Write(buf, s, pos + 5, lim - pos - 5)
  buf[pos++] = T_UTF8
  writeU32(written)
  pos += written
}

function writeUtf16(s: string): void {
  const n = s.length
  room(5 + 2 * n)
  buf[pos++] = T_UTF16
  writeU32(n)
  const b = buf
  let p = pos
  for (let i = 0; i < n; i++) {
    const c = StringCharCodeAt(s, i)
    b[p++] = c
    b[p++] = c >>> 8
  }
  pos = p
}

function writeObject(o: object, depth: number): boolean {
  // A proxy would run its traps here; V8 refuses it without running any.
  if (depth >= MAX_DEPTH || isProxy(o) || seen(o)) return false
  const proto = ObjectGetPrototypeOf(o) as unknown
  if (proto === ObjectPrototype || proto === null) {
    if (ArrayIsArray(o) || ArrayBufferIsView(o)) return false // exotic, prototype swapped
    room(1)
    buf[pos++] = T_OBJECT // a null prototype too: structured clone gives Object.prototype
    const rec = o as Record<string, unknown>
    // for-in: own enumerable string keys in Object.keys order, without allocating
    // their list; a key deleted by an earlier getter is skipped, as V8 does.
    for (const k in rec) {
      if (!ObjectPrototypeHasOwnProperty(rec, k)) continue
      writeString(k)
      if (!writeValue(rec[k], depth + 1)) return false
    }
    room(1)
    buf[pos++] = T_END
    return true
  }
  if (proto === ArrayPrototype && ArrayIsArray(o)) return writeArray(o as unknown[], depth)
  if ((proto === Uint8ArrayPrototype || proto === BufferPrototype) && ArrayBufferIsView(o)) {
    writeBytes(o as Uint8Array)
    return true
  }
  return false
}

function writeArray(a: unknown[], depth: number): boolean {
  const n = a.length
  // Named properties (a RegExp match's `index`...) are cloned by V8, not by this
  // format. O(n), the price of exactness; a hole also shows here.
  if (ObjectKeys(a).length !== n) return false
  room(6)
  buf[pos++] = T_ARRAY
  writeLen(n)
  for (let i = 0; i < n; i++) {
    const e = a[i]
    if (e === undefined && !(i in a)) return false // a hole: V8 writes a sparse array
    if (!writeValue(e, depth + 1)) return false
  }
  return true
}

function writeBytes(u: Uint8Array): void {
  const n = u.length
  room(6 + n)
  buf[pos++] = T_BYTES
  writeLen(n)
  if (n <= 32) {
    const b = buf
    const p = pos
    for (let i = 0; i < n; i++) b[p + i] = u[i]
  } else {
    TypedArraySet(buf, u, pos)
  }
  pos += n
}
