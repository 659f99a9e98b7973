// The session value codec: decodeValue(encodeValue(v)) is structuredClone(v), compared
// strictly (the node:v8 bytes of both results, and util.isDeepStrictEqual), for
// fast-check's arbitrary values and hand-written edge cases, encoded into a
// SharedArrayBuffer at odd offsets and decoded from there (codec-limits.test.ts has
// the -1 and NOT_CLONEABLE cases). A fixed seed keeps runs reproducible; set FC_SEED
// to explore others.
import { serialize } from 'node:v8'
import { isDeepStrictEqual } from 'node:util'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { decodeValue, encodeValue } from '../../dist/src/session/codec.js'

const seed = Number(process.env.FC_SEED ?? 20240611)
const SAB = new SharedArrayBuffer(1 << 20)
/** A ring-like data area: a view over a SharedArrayBuffer that does not start at 0. */
const ring = new Uint8Array(SAB, 3, SAB.byteLength - 3)

function hex(v: unknown): string {
  return serialize(v).toString('hex')
}

/**
 * Encode at `at` in the ring, decode from there, and compare with structuredClone.
 * Both sides are structure-cloned once more before their v8 bytes are compared: V8
 * writes a number as int32 or double by how the object's hidden class stores the
 * field (a field that once held 1.5 stores 1 as a double, in structuredClone's own
 * results too), and an array as dense or sparse by its elements kind. One more pass
 * through V8's deserializer gives both sides the same representations; every
 * observable difference (types, keys and their order, -0, NaN, holes, lengths,
 * shared references and cycles) still shows in the bytes.
 */
function roundTrip(v: unknown, at = 5): unknown {
  const end = encodeValue(v, ring, at, ring.length)
  expect(end).toBeGreaterThan(at)
  const got = decodeValue(ring, at, end - at)
  const want: unknown = structuredClone(v)
  expect(hex(structuredClone(got))).toBe(hex(structuredClone(want)))
  expect(isDeepStrictEqual(got, want)).toBe(true)
  return got
}

describe('round trip equals structuredClone', () => {
  const all = {
    withBoxedValues: true,
    withMap: true,
    withSet: true,
    withObjectString: true,
    withNullPrototype: true,
    withBigInt: true,
    withDate: true,
    withTypedArray: true,
    withSparseArray: true,
    maxDepth: 4,
  }
  for (const stringUnit of ['grapheme', 'binary', 'binary-ascii'] as const) {
    it(`fc.anything, every option, ${stringUnit} strings`, () => {
      fc.assert(
        fc.property(fc.anything({ ...all, stringUnit }), fc.nat({ max: 64 }), (v, at) => {
          roundTrip(v, at)
        }),
        { seed, numRuns: 400 },
      )
    })
  }

  it('JSON-like values, the fast path, at every offset', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat({ max: 31 }), (v, at) => {
        roundTrip(v, at)
      }),
      { seed, numRuns: 400 },
    )
  })

  it('numbers: -0, NaN, the int8 / int32 / float64 boundaries', () => {
    for (const n of [0, -0, NaN, Infinity, -Infinity, 1.5, 127, 128, -1, -128, -129]) roundTrip(n)
    for (const n of [2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 53, Number.MIN_VALUE])
      roundTrip(n)
    expect(Object.is(roundTrip(-0), -0)).toBe(true)
    expect(roundTrip([-0, 0, 1])).toEqual([-0, 0, 1])
  })

  it('bigints inside and beyond 64 bits', () => {
    for (const b of [
      0n,
      -1n,
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 63n,
      -(2n ** 63n) - 1n,
      10n ** 40n,
    ])
      roundTrip(b)
  })

  it('strings: empty, Latin-1, BMP, astral, lone surrogates, long, length-byte edges', () => {
    const strings = [
      '',
      'a',
      'é',
      'ÿ',
      'Ā',
      '€uro',
      'naïve café',
      '😀',
      'a😀b',
      '\ud800',
      'a\udc00b',
    ]
    strings.push('\udbff\udfff', 'x\ud83d', 'a'.repeat(100_000), 'é'.repeat(300), '€'.repeat(5000))
    for (const n of [8, 9, 32, 33, 254, 255, 256]) strings.push('k'.repeat(n), 'ü'.repeat(n))
    for (const s of strings) {
      roundTrip(s)
      roundTrip({ [s]: s })
    }
    expect(roundTrip('a\ud800b')).toBe('a\ud800b')
  })

  it('plain, null-prototype and class-instance objects; keys Object.prototype has', () => {
    class Point {
      x = 1
      y = 'two'
      get sum(): number {
        return 3
      }
    }
    roundTrip(new Point()) // a plain object { x, y }: the prototype and its getter are gone
    roundTrip({ get g() { return 5 }, n: 1 }) // prettier-ignore
    roundTrip(Object.assign(Object.create(null) as object, { a: 1, b: { c: [] } }))
    const tricky = JSON.parse('{"__proto__": {"x": 1}, "constructor": 2, "toString": 3, "0": 4}')
    // Three times: the decoder compiles a factory for a shape it meets again.
    for (let i = 0; i < 3; i++) {
      const got = roundTrip(tricky) as Record<string, unknown>
      expect(Object.getPrototypeOf(got)).toBe(Object.prototype)
      expect(Object.keys(got)).toEqual(['0', '__proto__', 'constructor', 'toString'])
    }
    // Keys that need quoting in generated code.
    for (let i = 0; i < 3; i++) roundTrip({ 'a"b': 1, "c'\\d": 2, '\u2028': 3, '${x}': 4, '': 5 })
    roundTrip({ a: undefined, b: null, c: true, d: false, e: '', f: [], g: {} })
    const many: Record<string, number> = {}
    for (let i = 0; i < 300; i++) many[`key${i}`] = i
    roundTrip(many)
  })

  it('an inherited setter on Object.prototype does not run while decoding', () => {
    let calls = 0
    Object.defineProperty(Object.prototype, 'polluted', {
      set() {
        calls++
      },
      configurable: true,
    })
    try {
      for (let i = 0; i < 3; i++) {
        const got = roundTrip({ polluted: i }) as Record<string, unknown>
        expect(Object.getOwnPropertyDescriptor(got, 'polluted')?.value).toBe(i)
      }
      expect(calls).toBe(0)
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted
    }
  })

  it('arrays: dense, holey, sparse, with named properties, long, deep', () => {
    roundTrip([1, 'a', [2, [3, []]], { x: [] }])
    roundTrip(new Array(3).fill(7)) // holey elements, no hole
    roundTrip([1, , 3]) // eslint-disable-line no-sparse-arrays
    roundTrip([, undefined]) // eslint-disable-line no-sparse-arrays
    const sparse: unknown[] = []
    sparse[1000] = 1
    roundTrip(sparse)
    roundTrip('abcb'.match(/b/)) // index, input and groups are named properties
    const named = Object.assign([1, 2], { extra: 'yes' })
    roundTrip(named)
    for (const n of [254, 255, 256, 70_000]) roundTrip(Array.from({ length: n }, (_, i) => i))
    let deep: unknown = 'bottom'
    for (let i = 0; i < 200; i++) deep = i % 2 === 0 ? { d: deep } : [deep]
    roundTrip(deep)
  })

  it('cycles and shared references (structured clone keeps them)', () => {
    const o: Record<string, unknown> = { n: 1 }
    o.self = o
    const got = roundTrip(o) as Record<string, unknown>
    expect(got.self).toBe(got)
    const a: unknown[] = [1]
    a.push(a)
    roundTrip(a)
    const shared = { s: 'shared' }
    const pair = roundTrip([shared, shared]) as unknown[]
    expect(pair[0]).toBe(pair[1])
    const bytes = new Uint8Array([1, 2])
    const two = roundTrip({ a: bytes, b: bytes }) as Record<string, unknown>
    expect(two.a).toBe(two.b)
    // Past the short list of seen objects: a repeat found in the map.
    const objects = Array.from({ length: 100 }, (_, i) => ({ i }))
    roundTrip([...objects, objects[3]])
    roundTrip(objects)
  })

  it('Uint8Array and Buffer come back as a Uint8Array of exactly their bytes', () => {
    for (const n of [0, 1, 32, 33, 64, 254, 255, 100_000]) {
      const u = Uint8Array.from({ length: n }, (_, i) => i * 7)
      roundTrip(u)
      const got = roundTrip(Buffer.from(u)) as Uint8Array
      expect(got.constructor).toBe(Uint8Array)
    }
    const pooled = Buffer.from('pooled') // a view into an 8 KB pool
    const got = decodeValue(ring, 0, encodeValue(pooled, ring, 0, ring.length)) as Uint8Array
    expect([got.byteOffset, got.buffer.byteLength]).toEqual([0, 6])
    const sub = new Uint8Array([9, 8, 7, 6]).subarray(1, 3)
    roundTrip(sub)
    roundTrip(new Uint8Array(new SharedArrayBuffer(4)).fill(5)) // copied, not shared
  })

  it('everything else goes through node:v8 and still equals structuredClone', () => {
    const values: unknown[] = [
      new Map<unknown, unknown>([
        [1, { a: 'x' }],
        ['k', new Set([1, 'two'])],
      ]),
      new Date(1e12),
      /re+/giu,
      new Error('boom', { cause: 1 }),
      new RangeError('range'),
      Object(1n),
      Object('boxed'),
      new Number(-0),
      new ArrayBuffer(16),
      new Float64Array([1.5, -0, NaN]),
      new BigInt64Array([-1n]),
      new DataView(new ArrayBuffer(8), 2, 4),
      Buffer.from('nested in a map'),
      { m: new Map([[Buffer.from('k'), new Int16Array([1, -1])]]) },
    ]
    for (const v of values) roundTrip(v)
  })
})

describe('a realm whose globals a domain replaced', () => {
  it('still encodes and decodes (the codec uses the intrinsics it captured)', () => {
    const saved = {
      charCodeAt: String.prototype.charCodeAt,
      fromCharCode: String.fromCharCode,
      Array: globalThis.Array,
      hasOwn: Object.prototype.hasOwnProperty,
      getPrototypeOf: Object.getPrototypeOf,
      keys: Object.keys,
      set: Uint8Array.prototype.set,
      stringify: JSON.stringify,
    }
    const v = { id: 7, name: 'abc', tags: ['x', 'y'], b: new Uint8Array(40).fill(3), m: new Map() }
    const want = hex(structuredClone(v))
    const results: unknown[] = [undefined, undefined, undefined]
    const broken = (): never => {
      throw new Error('replaced by a domain')
    }
    try {
      String.prototype.charCodeAt = broken
      String.fromCharCode = broken
      globalThis.Array = broken as unknown as ArrayConstructor
      Object.prototype.hasOwnProperty = broken
      Object.getPrototypeOf = broken
      Object.keys = broken
      Uint8Array.prototype.set = broken
      JSON.stringify = broken
      for (let i = 0; i < 3; i++) {
        const end = encodeValue(v, ring, 0, 1000)
        results[i] = decodeValue(ring, 0, end)
      }
    } finally {
      String.prototype.charCodeAt = saved.charCodeAt
      String.fromCharCode = saved.fromCharCode
      globalThis.Array = saved.Array
      Object.prototype.hasOwnProperty = saved.hasOwn
      Object.getPrototypeOf = saved.getPrototypeOf
      Object.keys = saved.keys
      Uint8Array.prototype.set = saved.set
      JSON.stringify = saved.stringify
    }
    for (const got of results) expect(hex(structuredClone(got))).toBe(want)
  })
})

describe('memory', () => {
  it('decoded values do not alias the ring', () => {
    const at = 11
    const end = encodeValue({ b: new Uint8Array([1, 2, 3]), s: 'text' }, ring, at, ring.length)
    const got = decodeValue(ring, at, end - at) as { b: Uint8Array; s: string }
    ring.fill(0xee, at, end)
    expect([...got.b]).toEqual([1, 2, 3])
    expect(got.s).toBe('text')
    expect(got.b.buffer).toBeInstanceOf(ArrayBuffer)
  })

  it('decodes from a Buffer or a plain Uint8Array as well as from a SharedArrayBuffer', () => {
    const v = { id: 7, name: 'abc', tags: ['x', 'y'], m: new Map([[1, 2]]) }
    for (const out of [Buffer.alloc(256), new Uint8Array(256), new Uint8Array(SAB, 1001, 256)]) {
      const end = encodeValue(v, out, 9, 200)
      expect(hex(decodeValue(out, 9, end - 9))).toBe(hex(structuredClone(v)))
    }
  })
})
