// reserveMany: a batch of equal frames reserved at once must lay out exactly what
// the same number of reserve() calls would, including near the end of the ring
// (fewer frames, then the wrap marker) and across index wraparound.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SpscRing, frameBytes } from 'multikernel/ring'

/** Push `count` frames of `length` through reserveMany in as many calls as needed. */
function pushMany(r: SpscRing, length: number, count: number, seq: { n: number }): number {
  let pushed = 0
  while (pushed < count) {
    const at = r.reserveMany(length, count - pushed)
    if (at < 0) break
    const step = frameBytes(length)
    for (let k = 0; k < r.reservedFrames; k++) {
      const p = at + k * step
      for (let i = 0; i < length; i++) r.bytes[p + i] = (seq.n + i) & 255
      seq.n++
    }
    pushed += r.reservedFrames
  }
  r.publish()
  return pushed
}

function drain(r: SpscRing, expect_: { n: number }, lengths: number[]): void {
  for (let at = r.poll(); at >= 0; at = r.poll()) {
    lengths.push(r.frameLength)
    for (let i = 0; i < r.frameLength; i++) {
      if (r.bytes[at + i] !== ((expect_.n + i) & 255)) throw new Error(`frame ${expect_.n} corrupt`)
    }
    expect_.n++
  }
  r.release()
}

describe('SpscRing.reserveMany', () => {
  it('matches reserve() frame for frame, at every offset of a small ring', () => {
    for (let start = 0; start < 128; start += 8) {
      for (const length of [0, 1, 8, 13, 24, 40]) {
        const many = SpscRing.create(128)
        const one = SpscRing.create(128)
        // Move both rings to the same offset with one throwaway frame.
        if (start > 0) {
          for (const r of [many, one]) {
            expect(r.tryPush(new Uint8Array(start - 8))).toBe(true)
            expect(r.tryPop()).not.toBeNull()
          }
        }
        const seqA = { n: 0 }
        const pushed = pushMany(many, length, 5, seqA)
        let single = 0
        for (; single < 5; single++) {
          const at = one.reserve(length)
          if (at < 0) break
          for (let i = 0; i < length; i++) one.bytes[at + i] = (single + i) & 255
        }
        one.publish()
        const gotA: number[] = []
        const gotB: number[] = []
        drain(many, { n: 0 }, gotA)
        drain(one, { n: 0 }, gotB)
        // reserveMany stops at the end of the ring where reserve() would wrap: it may
        // deliver fewer in one go, but never different frames.
        expect(gotA).toEqual(gotB.slice(0, gotA.length))
        expect(gotA.length).toBe(pushed)
      }
    }
  })

  it('keeps every frame intact over random batches and index wraparound', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            length: fc.integer({ min: 0, max: 48 }),
            count: fc.integer({ min: 1, max: 9 }),
          }),
          {
            minLength: 1,
            maxLength: 60,
          },
        ),
        (batches) => {
          const r = SpscRing.create(256)
          const seq = { n: 0 }
          const seen = { n: 0 }
          const lengths: number[] = []
          const sent: number[] = []
          for (const b of batches) {
            const before = seq.n
            const pushed = pushMany(r, b.length, b.count, seq)
            for (let k = 0; k < pushed; k++) sent.push(b.length)
            expect(seq.n - before).toBe(pushed)
            drain(r, seen, lengths)
          }
          expect(lengths).toEqual(sent)
          expect(seen.n).toBe(seq.n)
        },
      ),
      { seed: 7, numRuns: 200 },
    )
  })

  it('refuses bad counts and lengths, leaving the ring as it was', () => {
    const r = SpscRing.create(64)
    expect(r.tryPush(new Uint8Array([1, 2, 3]))).toBe(true)
    expect(() => r.reserveMany(8, 0)).toThrow(RangeError)
    expect(() => r.reserveMany(8, -1)).toThrow(RangeError)
    expect(() => r.reserveMany(-1, 2)).toThrow(RangeError)
    expect(() => r.reserveMany(1000, 2)).toThrow(/FRAME_TOO_LARGE/)
    expect(Array.from(r.tryPop() ?? [])).toEqual([1, 2, 3])
    expect(r.tryPop()).toBeNull()
  })
})
