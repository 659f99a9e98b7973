/**
 * The one-way sides of the bare hand-off, the limit a ring is measured against: a
 * minimal hand-off of the same bytes per frame as the ring (an 8-byte header word pair
 * and the payload), in fixed-size slots of a plain Int32Array, written frame by frame,
 * with the same publish and release cadence but none of a ring's bookkeeping (no variable
 * length, no wrap marker, no bounds on the payload).
 *
 *   int32 [BARE_TAIL]   tail: frames published (producer)
 *   int32 [BARE_HEAD]   head: frames released (consumer)
 *   byte  BARE_DATA_AT  the slots, (payload + 8) bytes each
 */
import { Doorbell } from '../../src/ring/index.js'
import type { RoundFn } from '../lib/rounds.js'
import { batchedRound, burn, encode, need, SLEEP_MS } from './oneway-round.js'
import { BELL_DATA_AT, BELL_ROOM_AT, type OneWayTask } from './tasks.js'

const BARE_TAIL = 16
const BARE_HEAD = 32
/** Bytes before the slots of a bare hand-off buffer. */
export const BARE_DATA_AT = 192

/** Slots (payload + 8 bytes each) that a bare hand-off of `capacity` data bytes holds. */
export function bareSlots(capacity: number, payload: number): number {
  return Math.floor(capacity / (payload + 8))
}

export function bareProducer(t: OneWayTask): RoundFn {
  const sab = need(t.sab, 'sab')
  const bells = need(t.bells, 'bells')
  const ctl = new Int32Array(sab, 0, BARE_DATA_AT >> 2)
  const dataBell = new Doorbell(bells, BELL_DATA_AT)
  const roomBell = new Doorbell(bells, BELL_ROOM_AT)
  const payload = t.payload
  const words = payload >> 2
  const slotWords = words + 2
  const slots = bareSlots(sab.byteLength - BARE_DATA_AT, payload)
  const d = new Int32Array(sab, BARE_DATA_AT, slots * slotWords)
  const spin = t.spin
  let tail = 0
  let w = 0
  let head = 0
  let seq = 0
  let fulls = 0
  const writable = (): boolean => ((tail - Atomics.load(ctl, BARE_HEAD)) | 0) < slots

  function sendBatch(n: number): void {
    for (let k = 0; k < n; k++) {
      if (((tail - head) | 0) >= slots) {
        head = Atomics.load(ctl, BARE_HEAD)
        while (((tail - head) | 0) >= slots) {
          fulls++
          Atomics.store(ctl, BARE_TAIL, tail)
          dataBell.ring()
          roomBell.waitSync(writable, spin, SLEEP_MS)
          head = Atomics.load(ctl, BARE_HEAD)
        }
      }
      d[w] = payload
      encode(d, w + 2, words, seq)
      seq = (seq + 1) | 0
      tail = (tail + 1) | 0
      w += slotWords
      if (w === d.length) w = 0
    }
    Atomics.store(ctl, BARE_TAIL, tail)
    dataBell.ring()
  }

  return batchedRound(t, sendBatch, roomBell, () => fulls)
}

export function bareConsumer(t: OneWayTask): RoundFn {
  const sab = need(t.sab, 'sab')
  const bells = need(t.bells, 'bells')
  const ctl = new Int32Array(sab, 0, BARE_DATA_AT >> 2)
  const dataBell = new Doorbell(bells, BELL_DATA_AT)
  const roomBell = new Doorbell(bells, BELL_ROOM_AT)
  const slotWords = (t.payload >> 2) + 2
  const slots = bareSlots(sab.byteLength - BARE_DATA_AT, t.payload)
  const d = new Int32Array(sab, BARE_DATA_AT, slots * slotWords)
  const spin = t.spin
  const releaseEvery = t.releaseEvery
  const backoff = t.backoff
  const readable = (): boolean => {
    burn(backoff)
    return Atomics.load(ctl, BARE_TAIL) !== head
  }
  let head = 0
  let tail = 0
  let w = 0
  let expected = 0
  let bad = 0
  let unreleased = 0

  function drain(max: number): number {
    if (head === tail) {
      tail = Atomics.load(ctl, BARE_TAIL)
      if (head === tail) return 0
    }
    let n = 0
    while (n < max && head !== tail) {
      if (d[w + 2] !== expected) bad++
      expected = (expected + 1) | 0
      head = (head + 1) | 0
      w += slotWords
      if (w === d.length) w = 0
      n++
      if (++unreleased === releaseEvery) {
        Atomics.store(ctl, BARE_HEAD, head)
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
        empties++
        if (unreleased > 0) {
          Atomics.store(ctl, BARE_HEAD, head)
          roomBell.ring()
          unreleased = 0
        }
        dataBell.waitSync(readable, spin, SLEEP_MS)
      }
    }
    Atomics.store(ctl, BARE_HEAD, head)
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
