/**
 * The one-way sides over ringbuf.js (the peer ring library), with the ring's
 * doorbells for waiting: whole messages of payload bytes, no header.
 */
import { RingBuffer } from 'ringbuf.js'
import { Doorbell } from '../../src/ring/index.js'
import type { RoundFn } from '../lib/rounds.js'
import { burn, encode, need, SLEEP_MS } from './oneway-round.js'
import { BELL_DATA_AT, BELL_ROOM_AT, type OneWayTask } from './tasks.js'

export function ringbufProducer(t: OneWayTask): RoundFn {
  const rb = new RingBuffer(need(t.sab, 'sab'), Int32Array)
  const bells = need(t.bells, 'bells')
  const dataBell = new Doorbell(bells, BELL_DATA_AT)
  const roomBell = new Doorbell(bells, BELL_ROOM_AT)
  const words = t.payload >> 2
  const batch = t.batch
  const spin = t.spin
  const scratch = new Int32Array(batch * words)
  const writable = (): boolean => rb.availableWrite() >= words
  let seq = 0
  return () => {
    const sleeps0 = roomBell.sleeps
    const t0 = performance.now()
    const end = (seq + t.frames) | 0
    while (seq !== end) {
      const n = Math.min(batch, (end - seq) | 0)
      for (let k = 0; k < n; k++) {
        encode(scratch, k * words, words, seq)
        seq = (seq + 1) | 0
      }
      // Whole messages only: capacity and every push/pop are multiples of `words`.
      let off = 0
      let left = n * words
      for (;;) {
        const wrote = rb.push(scratch, left, off)
        off += wrote
        left -= wrote
        if (left === 0) break
        dataBell.ring()
        roomBell.waitSync(writable, spin, SLEEP_MS)
      }
      dataBell.ring()
    }
    return { ms: performance.now() - t0, sleeps: roomBell.sleeps - sleeps0 }
  }
}

export function ringbufConsumer(t: OneWayTask): RoundFn {
  const rb = new RingBuffer(need(t.sab, 'sab'), Int32Array)
  const bells = need(t.bells, 'bells')
  const dataBell = new Doorbell(bells, BELL_DATA_AT)
  const roomBell = new Doorbell(bells, BELL_ROOM_AT)
  const words = t.payload >> 2
  const spin = t.spin
  // Drain up to releaseEvery frames per pop: the same release granularity as the ring.
  const dst = new Int32Array(t.releaseEvery * words)
  const backoff = t.backoff
  const readable = (): boolean => {
    burn(backoff)
    return !rb.empty()
  }
  let expected = 0
  return () => {
    const sleeps0 = dataBell.sleeps
    const t0 = performance.now()
    const frames = t.frames
    let got = 0
    let bad = 0
    while (got < frames) {
      const n = rb.pop(dst)
      if (n === 0) {
        dataBell.waitSync(readable, spin, SLEEP_MS)
        continue
      }
      roomBell.ring()
      for (let k = 0; k < n; k += words) {
        if (dst[k] !== expected) bad++
        expected = (expected + 1) | 0
        got++
      }
    }
    return { ms: performance.now() - t0, frames: got, bad, sleeps: dataBell.sleeps - sleeps0 }
  }
}
