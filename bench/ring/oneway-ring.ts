/**
 * The one-way sides over the ring itself (SpscRing): a producer reserving frame by
 * frame (ring) or a run of frames at once (ringMany), and the consumer both share,
 * which checks every sequence number and releases every releaseEvery frames.
 */
import { Doorbell, SpscRing } from '../../src/ring/index.js'
import type { RoundFn } from '../lib/rounds.js'
import { batchedRound, burn, encode, need, SLEEP_MS } from './oneway-round.js'
import { BELL_DATA_AT, BELL_ROOM_AT, RING_AT, type OneWayTask } from './tasks.js'

export function ringProducer(t: OneWayTask): RoundFn {
  const sab = need(t.sab, 'sab')
  const ring = new SpscRing(sab, RING_AT)
  const dataBell = new Doorbell(sab, BELL_DATA_AT)
  const roomBell = new Doorbell(sab, BELL_ROOM_AT)
  const payload = t.payload
  const words = payload >> 2
  const spin = t.spin
  const i32 = ring.i32
  const writable = (): boolean => ring.canReserve(payload)
  let seq = 0
  let fulls = 0

  // The hot loop is a function of its own, so V8 optimizes it as a whole (not by
  // on-stack replacement in the middle of a round).
  function sendBatch(n: number): void {
    for (let k = 0; k < n; k++) {
      let at = ring.reserve(payload)
      while (at < 0) {
        // Full: let the consumer see what is written, wait for room (spin, then sleep).
        fulls++
        ring.publish()
        dataBell.ring()
        roomBell.waitSync(writable, spin, SLEEP_MS)
        at = ring.reserve(payload)
      }
      encode(i32, at >> 2, words, seq)
      seq = (seq + 1) | 0
    }
    ring.publish()
    dataBell.ring()
  }

  return batchedRound(t, sendBatch, roomBell, () => fulls)
}

export function ringManyProducer(t: OneWayTask): RoundFn {
  const sab = need(t.sab, 'sab')
  const ring = new SpscRing(sab, RING_AT)
  const dataBell = new Doorbell(sab, BELL_DATA_AT)
  const roomBell = new Doorbell(sab, BELL_ROOM_AT)
  const payload = t.payload
  const words = payload >> 2
  const step = (payload + 8) >> 2
  const spin = t.spin
  const i32 = ring.i32
  const writable = (): boolean => ring.canReserve(payload)
  let seq = 0
  let fulls = 0

  function sendBatch(n: number): void {
    let left = n
    while (left > 0) {
      let at = ring.reserveMany(payload, left)
      while (at < 0) {
        fulls++
        ring.publish()
        dataBell.ring()
        roomBell.waitSync(writable, spin, SLEEP_MS)
        at = ring.reserveMany(payload, left)
      }
      const got = ring.reservedFrames
      for (let k = 0, w = at >> 2; k < got; k++, w += step) {
        encode(i32, w, words, seq)
        seq = (seq + 1) | 0
      }
      left -= got
    }
    ring.publish()
    dataBell.ring()
  }

  return batchedRound(t, sendBatch, roomBell, () => fulls)
}

export function ringConsumer(t: OneWayTask): RoundFn {
  const sab = need(t.sab, 'sab')
  const ring = new SpscRing(sab, RING_AT)
  const dataBell = new Doorbell(sab, BELL_DATA_AT)
  const roomBell = new Doorbell(sab, BELL_ROOM_AT)
  const i32 = ring.i32
  const spin = t.spin
  const releaseEvery = t.releaseEvery
  const backoff = t.backoff
  const readable = (): boolean => {
    burn(backoff)
    return !ring.isEmpty()
  }
  let expected = 0
  let bad = 0
  let unreleased = 0

  /** Poll up to `max` frames (fewer when the ring runs dry); returns how many. */
  function drain(max: number): number {
    let n = 0
    while (n < max) {
      const at = ring.poll()
      if (at < 0) break
      if (i32[at >> 2] !== expected) bad++
      expected = (expected + 1) | 0
      n++
      if (++unreleased === releaseEvery) {
        ring.release()
        roomBell.ring()
        unreleased = 0
      }
    }
    return n
  }

  return () => {
    const sleeps0 = dataBell.sleeps
    bad = 0
    let empties = 0
    const t0 = performance.now()
    const frames = t.frames
    let got = 0
    while (got < frames) {
      const n = drain(frames - got)
      got += n
      if (n === 0) {
        // Dry: hand back what was read (and any wrap marker poll() skipped, which no
        // frame count shows), then wait (spin with backoff, then sleep).
        empties++
        ring.release()
        roomBell.ring()
        unreleased = 0
        dataBell.waitSync(readable, spin, SLEEP_MS)
      }
    }
    ring.release()
    roomBell.ring()
    unreleased = 0
    return {
      ms: performance.now() - t0,
      frames: got,
      bad,
      sleeps: dataBell.sleeps - sleeps0,
      empties,
    }
  }
}
