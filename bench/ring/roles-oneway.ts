/**
 * Worker side of the one-way throughput runs: a producer sends `frames` frames of
 * `payload` bytes per round, publishing every `batch` frames; a consumer drains them,
 * checks every sequence number and times the round from the common start to the
 * last frame. Waiting sides spin a bounded while, then sleep on a Doorbell.
 */
import { RingBuffer } from 'ringbuf.js'
import { Doorbell, SpscRing } from '../../src/ring/index.js'
import type { RoundData, RoundFn } from '../lib/rounds.js'
import { pmPollConsumer } from './roles-poll.js'
import { BELL_DATA_AT, BELL_ROOM_AT, RING_AT, type OneWayTask } from './tasks.js'

/** Upper bound of one Atomics.wait while a round runs, ms (re-checks afterwards). */
const SLEEP_MS = 20

let burnSink = 0

/** Burn a few cycles without touching shared memory. */
export function burn(rounds: number): void {
  let x = burnSink
  for (let i = 0; i < rounds; i++) x = (Math.imul(x, 1103515245) + 12345) | 0
  burnSink = x
}

/**
 * Write one frame's payload: the sequence number, then filler words. A 16-byte
 * payload is written as four explicit stores, as a codec writes a fixed header.
 */
function encode(i32: Int32Array, w: number, words: number, seq: number): void {
  if (words === 4) {
    i32[w] = seq
    i32[w + 1] = 1
    i32[w + 2] = 2
    i32[w + 3] = 3
  } else {
    i32[w] = seq
    for (let j = 1; j < words; j++) i32[w + j] = j
  }
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`one-way task lacks ${what}`)
  return v
}

/**
 * A producer's round: t.frames frames in batches of t.batch through `sendBatch`
 * (each producer's own hot loop, kept a function of its own so V8 optimizes it
 * whole), timed, with the sleeps on `roomBell` and the full-ring stalls it caused.
 */
function batchedRound(
  t: OneWayTask,
  sendBatch: (n: number) => void,
  roomBell: Doorbell,
  fulls: () => number,
): RoundFn {
  return () => {
    const sleeps0 = roomBell.sleeps
    const fulls0 = fulls()
    const t0 = performance.now()
    const batch = t.batch
    let left = t.frames
    while (left > 0) {
      const n = left < batch ? left : batch
      sendBatch(n)
      left -= n
    }
    return {
      ms: performance.now() - t0,
      sleeps: roomBell.sleeps - sleeps0,
      fulls: fulls() - fulls0,
    }
  }
}

// ------------------------------------------------------------------ ring

function ringProducer(t: OneWayTask): RoundFn {
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

function ringManyProducer(t: OneWayTask): RoundFn {
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

function ringConsumer(t: OneWayTask): RoundFn {
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

// ------------------------------------------------------------------ bare
//
// A minimal hand-off of the same bytes per frame as the ring (an 8-byte header word pair
// and the payload), in fixed-size slots of a plain Int32Array, written frame by frame,
// with the same publish and release cadence but none of a ring's bookkeeping (no variable
// length, no wrap marker, no bounds on the payload). Tail at int32 BARE_TAIL, head at
// BARE_HEAD of the buffer.

const BARE_TAIL = 16
const BARE_HEAD = 32
/** Bytes before the slots of a bare hand-off buffer. */
export const BARE_DATA_AT = 192

/** Slots (payload + 8 bytes each) that a bare hand-off of `capacity` data bytes holds. */
export function bareSlots(capacity: number, payload: number): number {
  return Math.floor(capacity / (payload + 8))
}

function bareProducer(t: OneWayTask): RoundFn {
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

function bareConsumer(t: OneWayTask): RoundFn {
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

// --------------------------------------------------------------- ringbuf.js

function ringbufProducer(t: OneWayTask): RoundFn {
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

function ringbufConsumer(t: OneWayTask): RoundFn {
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

// -------------------------------------------------------------- postMessage

function pmProducer(t: OneWayTask): RoundFn {
  const port = need(t.port, 'port')
  const acks = new Int32Array(need(t.acks, 'acks'))
  const window = need(t.window, 'window')
  const payload = t.payload
  const batch = t.batch
  // One message carries `batch` frames; structured clone copies it, so it is reused.
  const msg = new Uint8Array(batch * payload)
  const view = new DataView(msg.buffer)
  let seq = 0
  return () => {
    let waits = 0
    const t0 = performance.now()
    const end = (seq + t.frames) | 0
    while (seq !== end) {
      // Credit: at most `window` frames in flight, else the queue grows without bound.
      for (;;) {
        const acked = Atomics.load(acks, 0)
        if (((seq - acked) | 0) < window) break
        waits++
        Atomics.wait(acks, 0, acked, SLEEP_MS)
      }
      const n = Math.min(batch, (end - seq) | 0)
      for (let k = 0; k < n; k++) {
        view.setInt32(k * payload, seq, true)
        seq = (seq + 1) | 0
      }
      port.postMessage(n === batch ? msg : msg.subarray(0, n * payload))
    }
    return { ms: performance.now() - t0, sleeps: waits }
  }
}

function pmConsumer(t: OneWayTask): RoundFn {
  const port = need(t.port, 'port')
  const acks = new Int32Array(need(t.acks, 'acks'))
  const window = need(t.window, 'window')
  const ackEvery = Math.max(1, window >> 2)
  const payload = t.payload
  let expected = 0
  let total = 0
  let lastAck = 0
  let got = 0
  let bad = 0
  let target = 0
  let t0 = 0
  let done: ((d: RoundData) => void) | null = null
  port.on('message', (m: Uint8Array) => {
    const n = (m.length / payload) | 0
    for (let k = 0; k < n; k++) {
      const o = k * payload
      const v = m[o] | (m[o + 1] << 8) | (m[o + 2] << 16) | (m[o + 3] << 24)
      if (v !== expected) bad++
      expected = (expected + 1) | 0
    }
    got += n
    total = (total + n) | 0
    if (((total - lastAck) | 0) >= ackEvery) {
      lastAck = total
      Atomics.store(acks, 0, total)
      Atomics.notify(acks, 0)
    }
    if (got >= target && done) {
      const d = done
      done = null
      lastAck = total
      Atomics.store(acks, 0, total)
      Atomics.notify(acks, 0)
      d({ ms: performance.now() - t0, frames: got, bad, sleeps: 0 })
    }
  })
  return () => {
    t0 = performance.now()
    got = 0
    bad = 0
    target = t.frames
    return new Promise<RoundData>((resolve) => {
      done = resolve
    })
  }
}

export function onewayRole(t: OneWayTask): RoundFn {
  const producer = t.role === 'producer'
  switch (t.impl) {
    case 'ring':
      return producer ? ringProducer(t) : ringConsumer(t)
    case 'ringMany':
      return producer ? ringManyProducer(t) : ringConsumer(t)
    case 'ringbuf':
      return producer ? ringbufProducer(t) : ringbufConsumer(t)
    case 'postMessage':
      return producer ? pmProducer(t) : pmConsumer(t)
    case 'postMessagePoll':
      return producer ? pmProducer(t) : pmPollConsumer(t)
    case 'bare':
      return producer ? bareProducer(t) : bareConsumer(t)
  }
}
