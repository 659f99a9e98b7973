/**
 * The session codec's general path: the `node:v8` serializer for whatever the fast
 * format (codec_write.ts) does not carry -- Map, Set, Date, RegExp, Error, boxed
 * primitives, ArrayBuffer, typed arrays other than Uint8Array, sparse arrays, class
 * instances, cycles and shared references -- always for a WHOLE value.
 *
 * The base v8.Serializer, not v8.serialize's DefaultSerializer, so that the result is
 * structuredClone's, with one deliberate choice: every ArrayBufferView is a host
 * object copied as its view (type index, byte length, bytes) and decoded into a fresh
 * ArrayBuffer of exactly its bytes, as the fast path does for Uint8Array. V8's own
 * handling (structuredClone's) would copy the whole underlying ArrayBuffer (8 KB for
 * a pooled Buffer) and refuse a view over a SharedArrayBuffer, which a ring cannot
 * share anyway. A Buffer comes back as a Uint8Array, as from structuredClone.
 */
import { Deserializer, Serializer } from 'node:v8'
import {
  ArrayBufferIsView,
  SafeArrayBuffer,
  SafeDOMException,
  SafeUint8Array,
  TypedArraySet,
  TypedArrayToStringTag,
} from '../intrinsics.js'

type ViewCtor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView

/** Index on the wire -> constructor (the order of Node's own DefaultSerializer). */
const VIEW_TYPES: readonly ViewCtor[] = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  DataView,
  BigInt64Array,
  BigUint64Array,
]
const VIEW_INDEX: Readonly<Record<string, number>> = {
  Int8Array: 0,
  Uint8Array: 1,
  Uint8ClampedArray: 2,
  Int16Array: 3,
  Uint16Array: 4,
  Int32Array: 5,
  Uint32Array: 6,
  Float32Array: 7,
  Float64Array: 8,
  BigInt64Array: 10,
  BigUint64Array: 11,
}
const DATA_VIEW = 9

function dataCloneError(message: string): Error {
  return new SafeDOMException(message, 'DataCloneError') as unknown as Error
}

/** The hooks node:v8 calls on a Serializer (not in @types/node). */
interface SerializerHooks {
  _setTreatArrayBufferViewsAsHostObjects(flag: boolean): void
}

class ViewSerializer extends Serializer {
  constructor() {
    super()
    ;(this as unknown as SerializerHooks)._setTreatArrayBufferViewsAsHostObjects(true)
  }

  _getDataCloneError(message: string): Error {
    return dataCloneError(message)
  }

  /** Without this V8 throws a plain Error; structured clone says DataCloneError. */
  _getSharedArrayBufferId(): never {
    throw dataCloneError('#<SharedArrayBuffer> could not be cloned.')
  }

  _writeHostObject(object: object): void {
    if (!ArrayBufferIsView(object)) throw dataCloneError('this host object cannot be cloned')
    const view = object as ArrayBufferView
    const tag = TypedArrayToStringTag(view)
    const index = tag === undefined ? DATA_VIEW : VIEW_INDEX[tag]
    if (index === undefined) throw dataCloneError(`a ${tag} cannot be cloned`)
    this.writeUint32(index)
    this.writeUint32(view.byteLength)
    this.writeRawBytes(new SafeUint8Array(view.buffer, view.byteOffset, view.byteLength))
  }
}

class ViewDeserializer extends Deserializer {
  _readHostObject(): ArrayBufferView {
    const Ctor = VIEW_TYPES[this.readUint32()]
    const byteLength = this.readUint32()
    if (Ctor === undefined) throw new RangeError('bad view type in a v8-coded value')
    // readRawBytes is a view into the source (often a ring): copy into our own memory.
    const copy = new SafeArrayBuffer(byteLength)
    TypedArraySet(new SafeUint8Array(copy), this.readRawBytes(byteLength), 0)
    const size = (Ctor as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1
    return new Ctor(copy, 0, byteLength / size)
  }
}

/** The v8 bytes of `value` (header included); throws what V8 throws (DataCloneError...). */
export function v8Encode(value: unknown): Buffer {
  const s = new ViewSerializer()
  s.writeHeader()
  s.writeValue(value)
  return s.releaseBuffer()
}

/** The value of v8 bytes written by v8Encode; `bytes` may be a view over a SharedArrayBuffer. */
export function v8Decode(bytes: Uint8Array): unknown {
  const d = new ViewDeserializer(bytes)
  d.readHeader()
  return d.readValue()
}
