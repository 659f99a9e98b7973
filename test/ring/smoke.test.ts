import { describe, expect, it } from 'vitest'
import { SpscRing, KernelError } from 'multikernel/ring'

describe('smoke', () => {
  it('self-reference import works', () => {
    const r = SpscRing.create(64)
    expect(r.tryPush(new Uint8Array([1, 2, 3]))).toBe(true)
    expect(Array.from(r.tryPop() ?? [])).toEqual([1, 2, 3])
    expect(() => r.reserve(1000)).toThrow(KernelError)
  })
})
