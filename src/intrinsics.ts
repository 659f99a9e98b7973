/**
 * The runtime's own references to the JavaScript intrinsics it calls on the spawnd
 * side, taken when this module is first evaluated.
 *
 * Domains share their core's realm (README, Threat model): a domain may assign
 * `globalThis.JSON = {...}`, replace `Atomics.notify`, `TextDecoder.prototype.decode`,
 * `Array.prototype.push` or `Map.prototype.get`. The spawnd and everything it imports
 * (ring, protocol, domain) evaluate this module before any domain runs, so what is
 * captured here is the realm's original: a domain can break itself and its neighbours'
 * use of a global, never the spawnd's protocol. Node's own `primordials` do the same.
 *
 * Pragmatic, not exhaustive: the functions the spawnd path actually calls are taken;
 * methods are called through an uncurried `Function.prototype.call` only where a
 * domain could realistically replace them; Map and Set are subclasses whose
 * prototypes carry copies of the originals' methods (SafeMap, as Node's primordials).
 * Imports nothing, so every layer may use it.
 */

const { apply } = Reflect
const { bind, call } = Function.prototype

/** `fn` as a plain function taking its receiver first: `uncurry(m)(self, ...args)`. */
function uncurry<T, A extends unknown[], R>(
  fn: (this: T, ...args: A) => R,
): (self: T, ...args: A) => R {
  // bind.call(call, fn) is fn.call with `fn` fixed: fn.call(self, ...args).
  return apply(bind, call, [fn]) as (self: T, ...args: A) => R
}

export const ReflectApply = apply
export const ObjectFreeze = Object.freeze
export const ObjectKeys = Object.keys
export const ObjectCreate = Object.create
export const ObjectDefineProperty = Object.defineProperty
export const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor
export const ReflectOwnKeys = Reflect.ownKeys
export const NumberIsInteger = Number.isInteger
export const MathMin = Math.min
export const MathMax = Math.max
export const MathFloor = Math.floor
export const DateNow = Date.now
export const StringCtor = String

export const JSONParse = JSON.parse
export const JSONStringify = JSON.stringify

export const AtomicsLoad = Atomics.load
export const AtomicsStore = Atomics.store
export const AtomicsAdd = Atomics.add
export const AtomicsSub = Atomics.sub
export const AtomicsExchange = Atomics.exchange
export const AtomicsCompareExchange = Atomics.compareExchange
export const AtomicsNotify = Atomics.notify
export const AtomicsWait = Atomics.wait
export const AtomicsWaitAsync = Atomics.waitAsync

export const SafePromise = Promise
export const PromiseThen = uncurry(Promise.prototype.then) as <T, R1 = T, R2 = never>(
  p: Promise<T>,
  onFulfilled: (value: T) => R1 | PromiseLike<R1>,
  onRejected: (reason: unknown) => R2 | PromiseLike<R2>,
) => Promise<R1 | R2>
export const PromiseReject = Promise.reject.bind(Promise) as (reason: unknown) => Promise<never>

const decode = uncurry(TextDecoder.prototype.decode)
const encodeInto = uncurry(TextEncoder.prototype.encodeInto)
export const TextDecoderDecode = decode as (
  d: InstanceType<typeof TextDecoder>,
  bytes: Uint8Array,
) => string
export const TextEncoderEncodeInto = encodeInto as (
  e: InstanceType<typeof TextEncoder>,
  text: string,
  into: Uint8Array,
) => { read: number; written: number }
export const SafeTextDecoder = TextDecoder
export const SafeTextEncoder = TextEncoder

/** %TypedArray%.prototype methods (Uint8Array.prototype inherits them). */
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as Uint8Array
export const TypedArraySubarray = uncurry(TypedArrayPrototype.subarray) as (
  a: Uint8Array,
  begin: number,
  end: number,
) => Uint8Array
export const TypedArraySet = uncurry(TypedArrayPrototype.set) as (
  a: Uint8Array,
  src: ArrayLike<number>,
  offset: number,
) => void

export const SafeSetImmediate = setImmediate
export const SafeSetTimeout = setTimeout
export const SafeSetInterval = setInterval
export const SafeClearInterval = clearInterval
export const SafeClearTimeout = clearTimeout
export const SafeQueueMicrotask = queueMicrotask

export const BufferByteLength = Buffer.byteLength
export const SafeAbortController = AbortController
export const AbortControllerAbort = uncurry(AbortController.prototype.abort) as (
  ac: AbortController,
  reason?: unknown,
) => void
export const SafeError = Error
export const SafeTypeError = TypeError
export const SafeProxy = Proxy
export const WeakMapCtor = WeakMap

/** Copy `from`'s own methods onto `to` (their originals, whatever a domain does later). */
function copyMethods(from: object, to: object): void {
  for (const k of ReflectOwnKeys(from)) {
    if (k === 'constructor') continue
    const d = ObjectGetOwnPropertyDescriptor(from, k)
    if (d !== undefined) ObjectDefineProperty(to, k, d)
  }
  ObjectFreeze(to)
}

/**
 * A Map whose methods are the realm's originals: a domain replacing
 * `Map.prototype.get` (or `set`, `delete`, `forEach`, ...) does not reach it. Iterate
 * with forEach: `for...of` would go through %MapIteratorPrototype%.next, which a
 * domain can replace.
 */
export class SafeMap<K, V> extends Map<K, V> {}
copyMethods(Map.prototype, SafeMap.prototype)

/** A Set whose methods are the realm's originals (as SafeMap); iterate with forEach. */
export class SafeSet<T> extends Set<T> {}
copyMethods(Set.prototype, SafeSet.prototype)

/** Array.prototype.push, uncurried; or write `a[a.length] = x`. */
export const ArrayPush = uncurry(Array.prototype.push) as <T>(a: T[], ...items: T[]) => number

export const StringSlice = uncurry(String.prototype.slice) as (
  s: string,
  start: number,
  end?: number,
) => string
export const StringStartsWith = uncurry(String.prototype.startsWith) as (
  s: string,
  prefix: string,
) => boolean

// The session value codec (src/session/codec*.ts).
export const ObjectGetPrototypeOf = Object.getPrototypeOf
export const ObjectPrototype = Object.prototype
export const ArrayIsArray = Array.isArray
export const ArrayPrototype = Array.prototype
export const ArrayBufferIsView = ArrayBuffer.isView
export const SafeArrayBuffer = ArrayBuffer
export const SafeUint8Array = Uint8Array
export const Uint8ArrayPrototype = Uint8Array.prototype
export const BufferPrototype = Buffer.prototype
export const StringFromCharCode = String.fromCharCode
export const StringCharCodeAt = uncurry(String.prototype.charCodeAt) as (
  s: string,
  index: number,
) => number
export const StringIsWellFormed = uncurry(
  (String.prototype as unknown as { isWellFormed(this: string): boolean }).isWellFormed,
) as (s: string) => boolean
export const BigIntAsIntN = BigInt.asIntN
/** The `[Symbol.toStringTag]` getter of %TypedArray%: 'Uint8Array', ..., or undefined (a DataView). */
export const TypedArrayToStringTag = uncurry(
  ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag)!.get!,
) as (view: ArrayBufferView) => string | undefined
// Buffer's own string codecs, called on any Uint8Array (a plain or SharedArrayBuffer one).
type BufferSlice = (bytes: Uint8Array, start: number, end: number) => string
type BufferWrite = (bytes: Uint8Array, s: string, offset: number, max: number) => number
const BufferMethods = Buffer.prototype as unknown as Record<string, (...a: never[]) => unknown>
export const BufferLatin1Slice = uncurry(BufferMethods.latin1Slice) as unknown as BufferSlice
export const BufferUtf8Slice = uncurry(BufferMethods.utf8Slice) as unknown as BufferSlice
export const BufferUcs2Slice = uncurry(BufferMethods.ucs2Slice) as unknown as BufferSlice
export const BufferUtf8Write = uncurry(BufferMethods.utf8Write) as unknown as BufferWrite
export const SafeDOMException = DOMException
export const SafeArray = Array
export const MathImul = Math.imul
/** Object.prototype.hasOwnProperty, uncurried (V8 keeps it fast inside for-in; Object.hasOwn is not). */
export const ObjectPrototypeHasOwnProperty = uncurry(Object.prototype.hasOwnProperty) as (
  o: object,
  key: PropertyKey,
) => boolean
export const SafeFunction = Function
