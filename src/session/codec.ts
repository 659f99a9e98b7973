/**
 * The value codec of session messages: structured clone (the `node:v8`
 * serializer's semantics), written straight into a ring's bytes where it can be.
 *
 * encodeValue writes one value into out[at, end) and returns the offset after it,
 * or -1 when it does not fit there (the caller finds room and tries again); a value
 * that cannot be cloned (a function, a symbol, ...) is KernelError NOT_CLONEABLE.
 * decodeValue reads one value back from bytes[at, at + length).
 */
import { deserialize, serialize } from 'node:v8'
import { KernelError } from '../errors.js'

export function encodeValue(value: unknown, out: Uint8Array, at: number, end: number): number {
  let bytes: Buffer
  try {
    bytes = serialize(value)
  } catch (err) {
    throw new KernelError('NOT_CLONEABLE', 'this value cannot be cloned to another thread', {
      cause: err,
    })
  }
  if (bytes.length > end - at) return -1
  out.set(bytes, at)
  return at + bytes.length
}

export function decodeValue(bytes: Uint8Array, at: number, length: number): unknown {
  return deserialize(bytes.subarray(at, at + length))
}
