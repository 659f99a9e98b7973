// The session value codec at its limits: -1 for every space too small, with nothing
// outside it touched, then a retry that works (and reads the value only once); bad
// ranges and frames; NOT_CLONEABLE for what structured clone refuses, with its
// DataCloneError as the cause. codec.test.ts checks the values themselves.
import { serialize } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { decodeValue, encodeValue } from '../../dist/src/session/codec.js'
import { KernelError } from '../../dist/src/errors.js'

const SAB = new SharedArrayBuffer(1 << 16)
/** A ring-like data area: a view over a SharedArrayBuffer that does not start at 0. */
const ring = new Uint8Array(SAB, 3, SAB.byteLength - 3)

function hex(v: unknown): string {
  return serialize(v).toString('hex')
}

/** The value's encoded size. */
function sizeOf(v: unknown): number {
  return encodeValue(v, ring, 0, ring.length)
}

describe('a space too small', () => {
  const samples: unknown[] = [
    undefined,
    null,
    true,
    5,
    -100,
    100_000,
    1.5,
    -0,
    12n,
    'short',
    'é'.repeat(300),
    '€€',
    '\ud800',
    'x'.repeat(300),
    { n: 1 },
    Object.assign(Object.create(null) as object, { a: 'b' }),
    { id: 7, name: 'abc', tags: ['x', 'y'] },
    [1, [2, [3]]],
    new Uint8Array(64).fill(1),
    Buffer.from('buffer'),
    new Map([[1, 2]]),
    [1, , 2], // eslint-disable-line no-sparse-arrays
  ]

  it('answers -1 for every size below the need, touching nothing outside, then fits', () => {
    const at = 100
    for (const v of samples) {
      const need = sizeOf(v)
      for (let room = 0; room < need; room++) {
        encodeValue(0, ring, 0, 8) // drop the kept clone: each size encodes afresh
        ring.fill(0xa5, at - 16, at + need + 16)
        expect(encodeValue(v, ring, at, at + room)).toBe(-1)
        for (let i = at - 16; i < at; i++) expect(ring[i]).toBe(0xa5)
        for (let i = at + room; i < at + need + 16; i++) expect(ring[i]).toBe(0xa5)
        // The retry, in a space exactly big enough.
        expect(encodeValue(v, ring, at, at + need)).toBe(at + need)
        expect(hex(decodeValue(ring, at, need))).toBe(hex(structuredClone(v)))
      }
    }
  })

  it('a retry of the same value reuses the first read: getters run once', () => {
    let reads = 0
    const v = {
      get lazy(): string {
        reads++
        return 'z'.repeat(100)
      },
    }
    encodeValue(0, ring, 0, 8)
    expect(encodeValue(v, ring, 0, 10)).toBe(-1)
    expect(encodeValue(v, ring, 0, 20)).toBe(-1)
    const end = encodeValue(v, ring, 0, 1000)
    expect(reads).toBe(1)
    expect(decodeValue(ring, 0, end)).toEqual({ lazy: 'z'.repeat(100) })
  })

  it('a different value after -1 is encoded afresh', () => {
    const big = { s: 'q'.repeat(50) }
    expect(encodeValue(big, ring, 0, 10)).toBe(-1)
    const end = encodeValue({ other: 1 }, ring, 0, 100)
    expect(decodeValue(ring, 0, end)).toEqual({ other: 1 })
    big.s = 'changed'
    const again = encodeValue(big, ring, 0, 100)
    expect(decodeValue(ring, 0, again)).toEqual({ s: 'changed' })
  })

  it('rejects a range outside out', () => {
    expect(() => encodeValue(1, new Uint8Array(8), 4, 2)).toThrow(RangeError)
    expect(() => encodeValue(1, new Uint8Array(8), 0, 9)).toThrow(RangeError)
    expect(() => decodeValue(new Uint8Array(8), 4, 5)).toThrow(RangeError)
  })

  it('a frame that is not exactly one value is PROTOCOL', () => {
    const end = encodeValue({ n: 1 }, ring, 0, 100)
    for (const len of [0, end - 1, end + 1]) {
      let code = 'none'
      try {
        decodeValue(ring, 0, len)
      } catch (err) {
        code = err instanceof KernelError ? err.code : String(err)
      }
      expect(code).toBe('PROTOCOL')
    }
  })
})

describe('NOT_CLONEABLE', () => {
  const bad: [string, () => unknown][] = [
    ['a function', () => () => 1],
    ['a symbol', () => Symbol('s')],
    ['a nested function', () => ({ a: [1, { f(): void {} }] })],
    ['a WeakMap', () => new WeakMap()],
    ['an object holding a WeakMap', () => ({ w: new WeakMap() })],
    ['a promise', () => Promise.resolve(1)],
    // structuredClone shares one within the process; a ring cannot carry shared memory.
    ['a SharedArrayBuffer', () => new SharedArrayBuffer(8)],
    ['a proxy', () => new Proxy({}, {})],
    ['a proxy in an array', () => [new Proxy([], {})]],
  ]
  for (const [name, make] of bad) {
    it(name, () => {
      let err: unknown
      try {
        encodeValue(make(), ring, 0, 1000)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(KernelError)
      expect((err as KernelError).code).toBe('NOT_CLONEABLE')
      const cause = (err as { cause?: { name?: string } }).cause
      expect(cause?.name).toBe('DataCloneError')
      // The same value is refused by structuredClone itself (but a SharedArrayBuffer).
      if (name !== 'a SharedArrayBuffer') expect(() => structuredClone(make())).toThrow()
      // Nothing is left behind: the next value encodes.
      const end = encodeValue({ ok: true }, ring, 0, 100)
      expect(decodeValue(ring, 0, end)).toEqual({ ok: true })
    })
  }

  it("a proxy's traps do not run", () => {
    let traps = 0
    const p = new Proxy(
      {},
      {
        get: () => traps++,
        ownKeys: () => (traps++, []),
        getPrototypeOf: () => (traps++, Object.prototype),
      },
    )
    expect(() => encodeValue({ p }, ring, 0, 100)).toThrow(KernelError)
    expect(traps).toBe(0)
  })

  it("a getter's throw is the cause", () => {
    const boom = new TypeError('getter')
    const v = {
      get x(): never {
        throw boom
      },
    }
    let err: unknown
    try {
      encodeValue(v, ring, 0, 100)
    } catch (e) {
      err = e
    }
    expect(KernelError.is(err, 'NOT_CLONEABLE')).toBe(true)
    expect((err as Error).cause).toBe(boom)
  })
})
