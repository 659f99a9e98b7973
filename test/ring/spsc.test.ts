// SpscRing on one thread: frame layout, wraparound from every offset, full and empty
// edges, batch publish and batch drain, and the int32 overflow of its indices. A
// producer object and a consumer object share the bytes, as two threads would.
import { describe, expect, it } from 'vitest'
import { FRAME_HEADER_BYTES, SpscRing, frameBytes } from 'multikernel/ring'
import { pattern, sameBytes } from './helpers.js'
import { modelFrameBytes, ringAtIndex, ringAtOffset, type SpscHarness } from './model.js'

/** Offsets 0, 8, ..., capacity - 8: every place a frame can start. */
function offsets(capacity: number): number[] {
  return Array.from({ length: capacity / 8 }, (_, i) => i * 8)
}

/**
 * Push a frame of `len` into `h` the way a producer that must deliver it does: if
 * reserve() refuses because the frame needs offset 0 and the consumer has not yet
 * passed the wrap marker, publish, let the consumer pop what is there and release,
 * and try again. Returns how many frames the consumer had to pop first.
 */
function pushEventually(h: SpscHarness, len: number): number {
  let popped = 0
  for (let tries = 0; tries < 4; tries++) {
    if (h.push(len) >= 0) return popped
    h.publish()
    while (h.pop()) popped++
    h.release()
  }
  throw new Error(`a ${len}-byte frame never fit`)
}

describe('frame layout', () => {
  it('a frame is an 8-byte header plus the payload padded to 8', () => {
    expect(FRAME_HEADER_BYTES).toBe(8)
    for (let len = 0; len <= 4096; len++) expect(frameBytes(len)).toBe(modelFrameBytes(len))
    expect([0, 1, 7, 8, 9, 16, 17].map(frameBytes)).toEqual([8, 16, 16, 16, 24, 24, 32])
  })

  it('the length word sits before an 8-aligned payload; payload bytes come back as written', () => {
    const p = SpscRing.create(256)
    const c = new SpscRing(p.buffer)
    expect(p.capacity).toBe(256)
    expect(p.maxPayload).toBe(248)
    let expectedAt = 8
    for (const len of [0, 1, 5, 8, 13]) {
      const at = p.reserve(len)
      expect(at).toBe(expectedAt)
      expect(at % 8).toBe(0)
      expect(p.i32[(at - 8) >> 2]).toBe(len)
      p.bytes.set(pattern(len, len), at)
      expectedAt += frameBytes(len)
    }
    p.publish()
    for (const len of [0, 1, 5, 8, 13]) {
      const at = c.poll()
      expect(c.frameLength).toBe(len)
      expect(Array.from(c.bytes.subarray(at, at + len))).toEqual(Array.from(pattern(len, len)))
    }
    expect(c.poll()).toBe(-1)
  })

  it('payloads can carry Float64 values in place (8-aligned)', () => {
    const p = SpscRing.create(128)
    const c = new SpscRing(p.buffer)
    const at = p.reserve(24)
    const f64 = new Float64Array(p.buffer, p.bytes.byteOffset + at, 3)
    f64.set([Math.PI, -0, 1e300])
    p.publish()
    const got = c.poll()
    expect(Array.from(new Float64Array(c.buffer, c.bytes.byteOffset + got, 3))).toEqual([
      Math.PI,
      -0,
      1e300,
    ])
  })
})

describe('wraparound at every offset', () => {
  // Exhaustive: every start offset x every first frame x every second frame of a
  // 64-byte ring (26,000 cases), checked against the model and by hand below.
  it('capacity 64: every offset, every pair of frame sizes', () => {
    const cap = 64
    let wraps = 0
    for (const offset of offsets(cap)) {
      for (let s = 0; s <= cap - 8; s++) {
        for (let t = 0; t <= cap - 8; t++) {
          const h = ringAtOffset(cap, offset)
          const first = h.push(s)
          // By hand: a frame goes at the offset when it fits before the end;
          // otherwise a wrap marker (-1) fills the rest and the frame starts at 0, at
          // once if the bytes before the offset are free, else after a drain.
          if (frameBytes(s) <= cap - offset) {
            if (first !== offset + 8) throw new Error(`offset ${offset}, ${s} bytes: at ${first}`)
          } else {
            wraps++
            if (h.p.i32[offset >> 2] !== -1) throw new Error(`offset ${offset}: no wrap marker`)
            if (first !== (frameBytes(s) <= offset ? 8 : -1)) {
              throw new Error(`offset ${offset}, ${s} bytes after wrap: at ${first}`)
            }
            if (first < 0) pushEventually(h, s)
          }
          h.publish()
          h.check()
          pushEventually(h, t)
          h.check(true)
          h.drain()
        }
      }
    }
    expect(wraps).toBeGreaterThan(0)
  })

  it('capacity 128: every offset, every size; fill until full, then drain', () => {
    const cap = 128
    for (const offset of offsets(cap)) {
      for (let s = 0; s <= cap - 8; s++) {
        const h = ringAtOffset(cap, offset)
        // Fill with no consumer: reserve must refuse exactly when the model runs out
        // of contiguous room (the harness compares every reserve with the model).
        let accepted = 0
        while (h.push(s) >= 0) accepted++
        // At least one frame goes in unless it needs offset 0 and the bytes before
        // the offset (the filler's, released) are too few: then the first try only
        // commits the wrap marker.
        const fitsAtOnce = frameBytes(s) <= cap - offset || frameBytes(s) <= offset
        expect(accepted > 0).toBe(fitsAtOnce)
        h.publish()
        h.check(true)
        expect(h.drain()).toBe(accepted)
        expect(h.c.poll()).toBe(-1)
        // Room again for the same frame, wherever the indices now stand.
        pushEventually(h, s)
        h.drain()
      }
    }
  })

  it('a frame of exactly maxPayload fits an empty ring at any offset eventually (tryPush/tryPop)', () => {
    for (const cap of [16, 64, 128, 1024]) {
      for (const offset of offsets(cap)) {
        const p = SpscRing.create(cap)
        const c = new SpscRing(p.buffer)
        if (offset > 0) {
          expect(p.tryPush(new Uint8Array(offset - 8))).toBe(true)
          expect(c.tryPop()?.length).toBe(offset - 8)
        }
        const big = pattern(p.maxPayload, offset)
        // At offset > 0 the first try commits a wrap marker and refuses; the consumer
        // must pass that marker (tryPop finds no frame) before the frame fits at 0.
        let tries = 1
        while (!p.tryPush(big)) {
          expect(c.tryPop()).toBeNull()
          expect(++tries).toBeLessThanOrEqual(2)
        }
        expect(tries).toBe(offset === 0 ? 1 : 2)
        const got = c.tryPop()
        expect(got !== null && sameBytes(got, big)).toBe(true)
        expect(c.tryPop()).toBeNull()
        expect(p.usedBytes()).toBe(0)
      }
    }
  })

  it('the same with reserve/publish/poll/release, as the canReserve() doc describes', () => {
    const cap = 64
    for (const offset of offsets(cap)) {
      const h = ringAtOffset(cap, offset)
      expect(h.p.canReserve(h.p.maxPayload)).toBe(true)
      const at = h.push(h.p.maxPayload)
      expect(at).toBe(offset === 0 ? 8 : -1)
      if (at < 0) {
        expect(h.p.canReserve(h.p.maxPayload)).toBe(false)
        h.publish()
        expect(h.pop()).toBe(false) // the consumer passes the marker, finds no frame
        h.release()
        expect(h.p.canReserve(h.p.maxPayload)).toBe(true)
        expect(h.push(h.p.maxPayload)).toBe(8)
      }
      expect(h.drain()).toBe(1)
    }
  })
})

describe('full and empty', () => {
  it('poll returns -1 on a fresh ring, after a drain, and after an empty publish', () => {
    const p = SpscRing.create(64)
    const c = new SpscRing(p.buffer)
    expect(c.poll()).toBe(-1)
    expect(c.isEmpty()).toBe(true)
    p.publish()
    expect(c.poll()).toBe(-1)
    expect(p.tryPush(pattern(3, 1))).toBe(true)
    expect(c.isEmpty()).toBe(false)
    expect(c.poll()).toBe(8)
    expect(c.poll()).toBe(-1)
    c.release()
    expect(c.isEmpty()).toBe(true)
    expect(c.poll()).toBe(-1)
    expect(p.usedBytes()).toBe(0)
  })

  it('reserve returns -1 exactly when the bytes run out', () => {
    const p = SpscRing.create(64)
    const c = new SpscRing(p.buffer)
    // Eight empty frames of 8 bytes fill 64 bytes exactly.
    for (let i = 0; i < 8; i++) expect(p.reserve(0)).toBe(i * 8 + 8)
    expect(p.reserve(0)).toBe(-1)
    expect(p.freeBytes()).toBe(0)
    expect(p.canReserve(0)).toBe(false)
    p.publish()
    expect(p.usedBytes()).toBe(64)
    // One frame out and released: room for exactly one 8-byte frame again.
    expect(c.poll()).toBe(8)
    c.release()
    expect(p.freeBytes()).toBe(8)
    expect(p.reserve(1)).toBe(-1) // 16 bytes do not fit in 8
    expect(p.reserve(0)).toBe(8)
    expect(p.reserve(0)).toBe(-1)
  })

  it('a refused frame that must wrap still leaves its marker: the end bytes are spent', () => {
    const h = ringAtOffset(128, 0)
    expect(h.push(40)).toBe(8) // bytes 0..48
    expect(h.push(40)).toBe(56) // bytes 48..96: 32 left, at the end
    expect(h.push(25)).toBe(-1) // needs 40: wraps (marker at 96), and 0 bytes are free at 0
    expect(h.p.i32[96 >> 2]).toBe(-1)
    expect(h.push(0)).toBe(-1) // the marker took the last 32 bytes
    h.publish()
    h.check(true)
    expect(h.drain()).toBe(2)
    expect(h.push(25)).toBe(8) // now at 0, after the consumer passed the marker
    expect(h.drain()).toBe(1)
  })
})

describe('batching', () => {
  it('batch publish: reserved frames stay invisible until publish()', () => {
    const h = ringAtOffset(256, 0)
    for (const len of [5, 0, 17, 64]) expect(h.push(len)).toBeGreaterThan(0)
    // Not published: the consumer sees an empty ring and no bytes are in use.
    expect(h.c.isEmpty()).toBe(true)
    expect(h.c.poll()).toBe(-1)
    expect(h.p.usedBytes()).toBe(0)
    h.publish()
    expect(h.p.usedBytes()).toBe([5, 0, 17, 64].reduce((n, len) => n + frameBytes(len), 0))
    expect(h.drain()).toBe(4)
  })

  it('batch drain: polled bytes stay readable and unreusable until release()', () => {
    const h = ringAtOffset(64, 0)
    for (let i = 0; i < 4; i++) expect(h.push(8)).toBe(i * 16 + 8) // 4 x 16 = 64, full
    h.publish()
    for (let i = 0; i < 4; i++) expect(h.pop()).toBe(true)
    expect(h.pop()).toBe(false)
    // Everything polled, nothing released: the producer has no room at all ...
    expect(h.p.reserve(0)).toBe(-1)
    expect(h.p.freeBytes()).toBe(0)
    // ... and the polled frames are intact (check() compares every held frame).
    h.check(true)
    h.release()
    expect(h.p.freeBytes()).toBe(64)
    expect(h.drain()).toBe(0)
  })

  it('a partial release frees exactly the released frames, and they are reused in order', () => {
    const h = ringAtOffset(64, 0)
    for (let i = 0; i < 4; i++) h.push(8)
    h.publish()
    h.pop()
    h.pop()
    h.release() // frames 0 and 1 back: 32 bytes
    expect(h.p.freeBytes()).toBe(32)
    expect(h.push(8)).toBe(8)
    expect(h.push(8)).toBe(24)
    expect(h.push(0)).toBe(-1)
    h.publish()
    h.check(true)
    expect(h.drain()).toBe(4) // 2 old + 2 new, in order, intact
  })
})

describe('free-running int32 indices', () => {
  // The indices wrap through 2^31 and 2^32 ((tail - head) | 0 must still be the bytes
  // in use): start just below each boundary and push thousands of frames across.
  for (const start of [0x7fffff00, 0x7fffffe8, -64, -8]) {
    it(`crosses the int32 boundary from ${start}`, () => {
      const h = ringAtIndex(128, start)
      let n = 0
      for (let i = 0; i < 5000; i++) {
        const len = (i * 37) % 121
        n += pushEventually(h, len)
        if (i % 3 === 0) h.publish()
        if (i % 5 === 0) {
          while (h.pop()) n++
          h.release()
        }
        h.check(i % 7 === 0)
      }
      n += h.drain()
      expect(n).toBe(5000)
    })
  }
})
