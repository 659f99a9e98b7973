// MpmcRing on one thread: slot hand-off, full and empty edges, laps around the ring,
// and the int32 overflow of its positions. Cross-thread contention is in stress.test.ts.
import { describe, expect, it } from 'vitest'
import { MpmcRing } from 'multikernel/ring'
import { pattern, sameBytes } from './helpers.js'

function pair(slots: number, slotBytes = 64): { prod: MpmcRing; cons: MpmcRing } {
  const prod = MpmcRing.create({ slots, slotBytes })
  return { prod, cons: new MpmcRing(prod.buffer) }
}

describe('MpmcRing', () => {
  it('a claimed frame is invisible until commit(); every length up to maxPayload', () => {
    const { prod, cons } = pair(4, 64)
    expect(prod.maxPayload).toBe(56)
    for (let len = 0; len <= prod.maxPayload; len++) {
      const at = prod.claim(len)
      expect(at).toBeGreaterThanOrEqual(0)
      expect(at % 8).toBe(0)
      prod.bytes.set(pattern(len, len), at)
      expect(cons.poll()).toBe(-1)
      prod.commit()
      const got = cons.poll()
      expect(got).toBe(at)
      expect(cons.frameLength).toBe(len)
      expect(sameBytes(cons.bytes.subarray(got, got + len), pattern(len, len))).toBe(true)
      cons.release()
    }
  })

  it('claim returns -1 exactly when every slot is taken, poll -1 exactly when none is ready', () => {
    const { prod, cons } = pair(8, 16)
    expect(cons.poll()).toBe(-1)
    for (let i = 0; i < 8; i++) expect(prod.tryPush(Uint8Array.of(i))).toBe(true)
    expect(prod.claim(0)).toBe(-1)
    expect(prod.size()).toBe(8)
    // Polled but not released: its slot is still not the producer's.
    const at = cons.poll()
    expect(cons.bytes[at]).toBe(0)
    expect(prod.claim(0)).toBe(-1)
    cons.release()
    expect(prod.tryPush(Uint8Array.of(8))).toBe(true)
    expect(prod.claim(0)).toBe(-1)
    for (let i = 1; i <= 8; i++) expect(Array.from(cons.tryPop() ?? [])).toEqual([i])
    expect(cons.poll()).toBe(-1)
    expect(cons.tryPop()).toBeNull()
    expect(prod.size()).toBe(0)
  })

  it('canClaim() and isEmpty() answer without claiming or polling anything', () => {
    const { prod, cons } = pair(2, 16)
    const look = (): [boolean, boolean] => [prod.canClaim(), cons.isEmpty()]
    const counters = (): number[] => [prod.size(), prod.casRetries, cons.casRetries]
    expect(look()).toEqual([true, true])
    const at = prod.claim(1)
    prod.bytes[at] = 5
    // Claimed, not committed: no frame for consumers yet, one slot left for producers.
    expect(look()).toEqual([true, true])
    prod.commit()
    expect(look()).toEqual([true, false])
    expect(prod.tryPush(Uint8Array.of(6))).toBe(true)
    expect(look()).toEqual([false, false])
    // Asking many times changes nothing: same counters, same offsets afterwards.
    const before = counters()
    for (let i = 0; i < 100; i++) look()
    expect(counters()).toEqual(before)
    expect(prod.claim(0)).toBe(-1)
    const got = cons.poll()
    expect(got).toBe(at)
    // Polled, not released: the slot is still not the producers'.
    expect(look()).toEqual([false, false])
    cons.release()
    expect(look()).toEqual([true, false])
    expect(Array.from(cons.tryPop() ?? [])).toEqual([6])
    expect(look()).toEqual([true, true])
    // Both hold on an instance that claimed and polled nothing (no per-instance state).
    const third = new MpmcRing(prod.buffer)
    expect([third.canClaim(), third.isEmpty()]).toEqual([true, true])
  })

  it('keeps FIFO order and bytes over many laps', () => {
    const { prod, cons } = pair(4, 24)
    let next = 0
    for (let i = 0; i < 1000; i++) {
      const len = i % (prod.maxPayload + 1)
      expect(prod.tryPush(pattern(len, i))).toBe(true)
      if (i % 3 === 2) {
        // Drain in bursts so the ring runs at 0..3 frames deep.
        for (let got = cons.tryPop(); got !== null; got = cons.tryPop()) {
          expect(sameBytes(got, pattern(next % (prod.maxPayload + 1), next))).toBe(true)
          next++
        }
      }
    }
    for (let got = cons.tryPop(); got !== null; got = cons.tryPop()) next++
    expect(next).toBe(1000)
  })

  it('the smallest ring, 2 slots, keeps both frames', () => {
    const { prod, cons } = pair(2, 16)
    expect(prod.tryPush(Uint8Array.of(1))).toBe(true)
    expect(prod.tryPush(Uint8Array.of(2))).toBe(true)
    expect(prod.tryPush(Uint8Array.of(3))).toBe(false)
    expect(Array.from(cons.tryPop() ?? [])).toEqual([1])
    expect(Array.from(cons.tryPop() ?? [])).toEqual([2])
    expect(cons.tryPop()).toBeNull()
  })

  it('refuses one slot: with one slot a second push overwrote the first (fixed)', () => {
    // seq == p + 1 ("ready for the consumer of p") equals the "free" value for the
    // producer of p + 1 when there is one slot, so Vyukov's queue needs two.
    expect(() => MpmcRing.create({ slots: 1 })).toThrow(RangeError)
  })

  it('positions cross the int32 boundary', () => {
    // Set the documented header words (+64 enqueue, +128 dequeue) and each slot's
    // sequence number (slot i is free for the first position p >= start with
    // p & mask == i) to a start just below 2^31, then push across it.
    const slots = 4
    const slotBytes = 16
    const prod = MpmcRing.create({ slots, slotBytes })
    const start = 0x7ffffffe
    const words = new Int32Array(prod.buffer)
    words[16] = start
    words[32] = start
    for (let i = 0; i < slots; i++) {
      let p = start
      while ((p & (slots - 1)) !== i) p++
      words[48 + i * (slotBytes >> 2)] = p | 0
    }
    const cons = new MpmcRing(prod.buffer)
    for (let i = 0; i < 100; i++) {
      expect(prod.tryPush(Uint8Array.of(i, 1))).toBe(true)
      if (i % 2 === 1) {
        expect(Array.from(cons.tryPop() ?? [])).toEqual([i - 1, 1])
        expect(Array.from(cons.tryPop() ?? [])).toEqual([i, 1])
      }
    }
    expect(cons.tryPop()).toBeNull()
  })
})
