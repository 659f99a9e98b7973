/**
 * The fast path of the session codec's decoder: reads the format of codec_format.ts
 * from any Uint8Array, usually a view over a ring's SharedArrayBuffer, creating only
 * the decoded value itself (no intermediate buffers or subarrays).
 *
 * Objects are rebuilt as structured clone rebuilds them: a key that Object.prototype
 * has (`__proto__`, `toString`...) is defined, not assigned, so it becomes an own
 * data property and no inherited setter runs. Arrays are made with `new Array(n)`,
 * so they are holey like V8's own deserializer's arrays (re-serializing one gives the
 * same bytes as re-serializing structuredClone's).
 */
import {
  BufferLatin1Slice,
  BufferUcs2Slice,
  BufferUtf8Slice,
  MathImul,
  ObjectDefineProperty,
  ObjectPrototype,
  SafeArray,
  SafeUint8Array,
  StringCharCodeAt,
  StringFromCharCode,
  TypedArraySet,
} from '../intrinsics.js'
import { KernelError } from '../errors.js'
import { MAX_SHAPE_KEYS, shapeFactory } from './codec_shapes.js'
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

const EMPTY = new SafeUint8Array(0)
let src: Uint8Array = EMPTY
let rp = 0

/** Shared data-property descriptor for defined keys (value set, used, cleared). */
const dataProperty: PropertyDescriptor = {
  value: undefined,
  writable: true,
  enumerable: true,
  configurable: true,
}

/**
 * Recently seen object keys: decoding `{ id, name }` a million times makes the two
 * key strings once. Indexed by a hash of the key's bytes and confirmed by comparing
 * them, so a collision only costs a miss.
 */
const KEY_SLOTS = 512
const KEY_MAX = 32
const keyCache: (string | undefined)[] = []
for (let i = 0; i < KEY_SLOTS; i++) keyCache[i] = undefined
/** readKey's hash of the key it read (for the object's shape), or NO_HASH. */
const NO_HASH = -1
let keyHash = NO_HASH
const SHAPE_SEED = 0x811c9dc5 | 0

/** The entries of the objects being read, innermost on top (reused, never shrunk). */
const keyStack: string[] = []
const valStack: unknown[] = []
let top = 0

/** Read one value from bytes[at, at + length); throws RangeError if it is not exactly one. */
export function readFast(bytes: Uint8Array, at: number, length: number): unknown {
  src = bytes
  rp = at
  let v: unknown
  try {
    v = readValue()
  } finally {
    src = EMPTY
    if (top !== 0) {
      // A malformed frame stopped inside an object: drop what it had read.
      for (let i = 0; i < top; i++) valStack[i] = undefined
      top = 0
    }
  }
  if (rp !== at + length)
    throw new KernelError('PROTOCOL', 'session codec: the frame is not one value')
  return v
}

function readLen(): number {
  const n = src[rp++]
  return n < LEN_LONG ? n : readU32()
}

function readU32(): number {
  const b = src
  const p = rp
  rp = p + 4
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0
}

function readScratch8(): void {
  const b = src
  const p = rp
  for (let i = 0; i < 8; i++) scratchBytes[i] = b[p + i]
  rp = p + 8
}

function readValue(): unknown {
  const t = src[rp++]
  if (t >= T_SMALL_INT) return t & 0x7f
  switch (t) {
    case T_UNDEFINED:
      return undefined
    case T_NULL:
      return null
    case T_FALSE:
      return false
    case T_TRUE:
      return true
    case T_INT8:
      return (src[rp++] << 24) >> 24
    case T_INT32:
      return readU32() | 0
    case T_FLOAT64:
      readScratch8()
      return scratchF64[0]
    case T_BIGINT64:
      readScratch8()
      return scratchI64[0]
    case T_LATIN1:
    case T_UTF8:
    case T_UTF16:
      return readString(t)
    case T_OBJECT:
      return readEntries()
    case T_ARRAY: {
      const n = readLen()
      const a = new SafeArray<unknown>(n)
      for (let i = 0; i < n; i++) a[i] = readValue()
      return a
    }
    case T_BYTES:
      return readBytes()
  }
  throw new KernelError(
    'PROTOCOL',
    `session codec: unknown tag ${t === undefined ? 'past the end' : t}`,
  )
}

function readString(t: number): string {
  if (t === T_LATIN1) return readKey(t) // short values repeat too ('ok', 'blue'...)
  const n = readU32()
  const p = rp
  if (t === T_UTF8) {
    rp = p + n
    return BufferUtf8Slice(src, p, p + n)
  }
  rp = p + 2 * n
  return BufferUcs2Slice(src, p, p + 2 * n)
}

/**
 * A one-byte string from b[p, p + n). Short ones by String.fromCharCode with the
 * bytes as arguments (no subarray, no native call); long ones by Buffer's latin1Slice.
 */
function latin1(b: Uint8Array, p: number, n: number): string {
  switch (n) {
    case 0:
      return ''
    case 1:
      return StringFromCharCode(b[p])
    case 2:
      return StringFromCharCode(b[p], b[p + 1])
    case 3:
      return StringFromCharCode(b[p], b[p + 1], b[p + 2])
    case 4:
      return StringFromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3])
    case 5:
      return StringFromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4])
    case 6:
      return StringFromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5])
    case 7:
      return StringFromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6])
    case 8:
      return StringFromCharCode(
        b[p],
        b[p + 1],
        b[p + 2],
        b[p + 3],
        b[p + 4],
        b[p + 5],
        b[p + 6],
        b[p + 7],
      )
  }
  return BufferLatin1Slice(b, p, p + n)
}

/**
 * A LATIN1 string (a key, or a value: short ones go through the cache of recently
 * seen strings), with keyHash set for the object's shape; another tag reads afresh.
 */
function readKey(t: number): string {
  keyHash = NO_HASH
  if (t !== T_LATIN1) return readString(t)
  const n = readLen()
  const p = rp
  rp = p + n
  const b = src
  if (n > KEY_MAX) return latin1(b, p, n)
  let h = n
  for (let i = 0; i < n; i++) h = (MathImul(h, 31) + b[p + i]) | 0
  keyHash = h & 0x3fffffff
  const slot = (h ^ (h >>> 9)) & (KEY_SLOTS - 1)
  const known = keyCache[slot]
  if (known !== undefined && known.length === n) {
    let i = 0
    while (i < n && StringCharCodeAt(known, i) === b[p + i]) i++
    if (i === n) return known
  }
  const made = latin1(b, p, n)
  keyCache[slot] = made
  return made
}

function readEntries(): object {
  const base = top
  let shape = SHAPE_SEED
  let cacheable = true
  for (;;) {
    const t = src[rp++]
    if (t === T_END) break
    const k = readKey(t)
    if (keyHash === NO_HASH) cacheable = false
    else shape = MathImul(shape ^ keyHash, 0x01000193)
    keyStack[top] = k
    valStack[top] = undefined
    top++ // a nested object's entries go above this one's
    valStack[top - 1] = readValue()
  }
  const n = top - base
  const make = cacheable && n <= MAX_SHAPE_KEYS ? shapeFactory(keyStack, base, n, shape) : null
  let o: Record<string, unknown>
  if (make !== null) {
    o = make(valStack, base) as Record<string, unknown>
  } else {
    o = {}
    for (let i = base; i < top; i++) {
      const k = keyStack[i]
      if (k in ObjectPrototype) {
        // `o[k] = v` would run Object.prototype's __proto__ setter (or another
        // inherited accessor); structured clone makes an own data property.
        dataProperty.value = valStack[i]
        ObjectDefineProperty(o, k, dataProperty)
        dataProperty.value = undefined
      } else {
        o[k] = valStack[i]
      }
    }
  }
  for (let i = base; i < top; i++) valStack[i] = undefined // hold no decoded value
  top = base
  return o
}

function readBytes(): Uint8Array {
  const n = readLen()
  const p = rp
  rp = p + n
  const u = new SafeUint8Array(n)
  const b = src
  if (n <= 32) {
    for (let i = 0; i < n; i++) u[i] = b[p + i]
  } else {
    TypedArraySet(u, new SafeUint8Array(b.buffer, b.byteOffset + p, n), 0)
  }
  return u
}
