/**
 * The stress verifier on hand-made consumer reports: each kind of fault, alone and
 * across consumers, is caught and counted once; a clean run passes.
 */
import { describe, expect, it } from 'vitest'
import type { ConsumerReport, ProducerReport } from '../../dist/src/stress/protocol.js'
import { jain } from '../../dist/src/stress/summary.js'
import { popcount32, verify } from '../../dist/src/stress/verify.js'

function producer(index: number, sent: number): ProducerReport {
  return {
    role: 'producer',
    index,
    sent,
    written: sent,
    casRetries: 0,
    fullSpins: 0,
    fullStalls: 0,
    sleeps: 0,
    yields: 0,
    notifies: 0,
    faultApplied: false,
    startMs: 0,
    endMs: 1,
  }
}

/** A consumer that saw, per producer, exactly these sequence numbers. */
function consumer(
  index: number,
  seen: number[][],
  extra: Partial<ConsumerReport> = {},
): ConsumerReport {
  return {
    role: 'consumer',
    index,
    received: seen.flat().length,
    corrupt: 0,
    duplicates: 0,
    outOfOrder: 0,
    seen: seen.map((seqs) => {
      const bits = new Uint32Array(Math.max(1, Math.ceil((Math.max(-1, ...seqs) + 1) / 32)))
      for (const s of seqs) bits[s >>> 5] |= 1 << (s & 31)
      return bits.buffer
    }),
    histogram: '',
    casRetries: 0,
    emptySpins: 0,
    emptyStalls: 0,
    sleeps: 0,
    yields: 0,
    notifies: 0,
    problems: [],
    startMs: 0,
    endMs: 1,
    ...extra,
  }
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i)

describe('verify', () => {
  it('passes when two consumers split every frame between them', () => {
    const evens = range(0, 100).filter((s) => s % 2 === 0)
    const odds = range(0, 100).filter((s) => s % 2 === 1)
    const v = verify(
      [producer(0, 100), producer(1, 33)],
      [consumer(0, [evens, range(0, 10)]), consumer(1, [odds, range(10, 33)])],
    )
    expect(v).toMatchObject({ ok: true, expected: 133, delivered: 133, missing: 0, duplicates: 0 })
    expect(v.perProducer).toEqual([100, 33])
  })

  it('catches a frame lost between consumers, and names it', () => {
    const v = verify([producer(0, 64)], [consumer(0, [range(0, 40)]), consumer(1, [range(41, 64)])])
    expect(v).toMatchObject({ ok: false, missing: 1, delivered: 63 })
    expect(v.problems).toContain('producer 0: frame 40 never arrived')
  })

  it('catches the same frame at two consumers', () => {
    const v = verify([producer(0, 50)], [consumer(0, [range(0, 30)]), consumer(1, [range(29, 50)])])
    expect(v).toMatchObject({ ok: false, duplicates: 1, missing: 0, delivered: 50 })
    expect(v.problems[0]).toMatch(/frame 29 arrived at two consumers/)
  })

  it('counts sequence numbers never issued as corrupt', () => {
    const v = verify([producer(0, 33)], [consumer(0, [[...range(0, 33), 40, 70]])])
    expect(v).toMatchObject({ ok: false, corrupt: 2, missing: 0 })
  })

  it('adds up what consumers found themselves (checksum, duplicates, order)', () => {
    const v = verify(
      [producer(0, 10)],
      [consumer(0, [range(0, 10)], { corrupt: 1, duplicates: 2, outOfOrder: 3, problems: ['x'] })],
    )
    expect(v).toMatchObject({
      ok: false,
      corrupt: 1,
      duplicates: 2,
      outOfOrder: 3,
      problems: ['x'],
    })
  })

  it('handles the last bit of a full word and a producer that sent nothing', () => {
    const v = verify([producer(0, 64), producer(1, 0)], [consumer(0, [range(0, 64), []])])
    expect(v).toMatchObject({ ok: true, expected: 64, delivered: 64 })
  })
})

describe('helpers', () => {
  it('popcount32 counts bits of any 32-bit pattern', () => {
    for (const [v, n] of [
      [0, 0],
      [1, 1],
      [0xffffffff, 32],
      [0x80000000, 1],
      [-1, 32],
      [0x55555555, 16],
    ]) {
      expect(popcount32(v)).toBe(n)
    }
  })

  it("Jain's index: 1 when even, 1/n when one takes all", () => {
    expect(jain([5, 5, 5, 5])).toBe(1)
    expect(jain([10, 0, 0, 0])).toBe(0.25)
    expect(jain([3, 1])).toBeCloseTo(0.8)
  })
})
