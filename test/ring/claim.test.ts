// claim()/commit(): a frame whose length is known only after writing. It must lay out
// exactly what reserve() would for the same length, offer every contiguous byte up
// to the end of the data area or the head, wrap like reserve(), and refuse a commit
// that has no claim behind it.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Channel, KernelError, SpscRing, frameBytes } from 'multikernel/ring'

function codeOf(fn: () => unknown): string {
  try {
    fn()
    return 'no error'
  } catch (err) {
    return err instanceof KernelError ? err.code : err instanceof Error ? err.name : String(err)
  }
}

describe('SpscRing.claim/commit', () => {
  it('offers the contiguous room to the end of the data area, then wraps', () => {
    const r = SpscRing.create(128)
    let at = r.claim(0)
    expect(at).toBe(8)
    expect(r.claimable).toBe(120) // the whole empty ring, one frame header taken
    for (let k = 0; k < 20; k++) r.bytes[at + k] = k
    r.commit(20)
    expect(r.claimable).toBe(0)
    r.publish()
    at = r.claim(0)
    expect(at).toBe(8 + frameBytes(20))
    expect(r.claimable).toBe(128 - frameBytes(20) - 8)
    // Nothing was committed: a reserve takes the same place.
    expect(r.reserve(4)).toBe(at)
    r.publish()
    const got = r.poll()
    expect(got).toBe(8)
    expect(r.frameLength).toBe(20)
    expect([...r.bytes.subarray(got, got + 20)]).toEqual([...Array(20).keys()])
    expect(r.poll()).toBe(at)
    expect(r.frameLength).toBe(4)
    r.release()
    // Tail at 48: 80 bytes to the end, all free, so claim(72) fits exactly there...
    at = r.claim(72)
    expect(at).toBe(56)
    expect(r.claimable).toBe(72)
    // ...and claim(73) wraps: the marker goes down, and offset 0 has the 48 freed bytes.
    expect(r.claim(73)).toBe(-1)
    expect(r.claimable).toBe(0)
    expect(r.claim(40)).toBe(8)
    expect(r.claimable).toBe(40)
    r.commit(40)
    r.publish()
    expect(r.poll()).toBe(8)
    expect(r.frameLength).toBe(40)
    r.release()
  })

  it('returns -1 on a full ring and claims again once the consumer releases', () => {
    const r = SpscRing.create(64)
    expect(r.reserve(56)).toBe(8)
    r.publish()
    expect(r.claim(0)).toBe(-1)
    expect(r.claimable).toBe(0)
    r.poll()
    r.release()
    expect(r.claim(0)).toBeGreaterThanOrEqual(0)
    expect(r.claimable).toBe(56)
  })

  it('refuses a commit without a claim, beyond the claim, or after another write', () => {
    const r = SpscRing.create(64)
    expect(codeOf(() => r.commit(0))).toBe('RING_MISUSE')
    r.claim(8)
    expect(codeOf(() => r.commit(57))).toBe('RING_MISUSE')
    expect(codeOf(() => r.commit(-1))).toBe('RING_MISUSE')
    r.commit(8)
    expect(codeOf(() => r.commit(8))).toBe('RING_MISUSE') // one commit per claim
    r.claim(0)
    r.reserve(0) // the claim is stale now
    expect(codeOf(() => r.commit(0))).toBe('RING_MISUSE')
    expect(codeOf(() => r.claim(57))).toBe('FRAME_TOO_LARGE')
    expect(codeOf(() => r.claim(1.5))).toBe('RangeError')
  })

  it('claim, or reserve when the claim is short, lays out what reserve alone would', () => {
    // The session port's way: claim(min), write, commit; when the claim offers fewer
    // bytes than the value needs, reserve(the measured length) instead.
    fc.assert(
      fc.property(
        fc.array(fc.record({ len: fc.nat(120), min: fc.nat(120), take: fc.nat(3) }), {
          minLength: 1,
          maxLength: 300,
        }),
        (ops) => {
          const a = SpscRing.create(128)
          const b = SpscRing.create(128)
          const sent: number[] = []
          let got = 0
          for (const op of ops) {
            const len = Math.min(op.len, a.maxPayload)
            const min = Math.min(op.min, len)
            let atA = a.claim(min)
            const claimed = atA >= 0 && a.claimable >= len
            if (atA >= 0) expect(a.claimable).toBeGreaterThanOrEqual(min)
            if (!claimed) atA = a.reserve(len)
            const atB = b.reserve(len)
            expect(atA).toBe(atB)
            if (atA >= 0) {
              const seq = sent.length
              for (let k = 0; k < len; k++) a.bytes[atA + k] = (seq + k) & 255
              if (claimed) a.commit(len)
              sent.push(len)
            }
            a.publish()
            b.publish()
            for (let t = 0; t < op.take; t++) {
              const pa = a.poll()
              const pb = b.poll()
              expect(pa).toBe(pb)
              if (pa < 0) break
              expect(a.frameLength).toBe(sent[got])
              expect(b.frameLength).toBe(sent[got])
              for (let k = 0; k < a.frameLength; k++) {
                if (a.bytes[pa + k] !== ((got + k) & 255)) throw new Error(`frame ${got} differs`)
              }
              got++
            }
            a.release()
            b.release()
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('Channel close reason', () => {
  it('stores the first non-zero reason; later closes keep it; 0 is open', () => {
    const a = Channel.create({ capacity: 64 })
    const b = Channel.attach(a.buffer)
    expect([a.closeReason, b.closeReason, a.closed]).toEqual([0, 0, false])
    b.close(3)
    a.close(5)
    a.close()
    expect([a.closeReason, b.closeReason, a.closed, b.closed]).toEqual([3, 3, true, true])
    const c = Channel.create({ capacity: 64 })
    c.close()
    expect(c.closeReason).toBe(1)
    expect(codeOf(() => Channel.create({ capacity: 64 }).close(0))).toBe('RangeError')
    expect(codeOf(() => Channel.create({ capacity: 64 }).close(1.5))).toBe('RangeError')
  })
})
