/**
 * Worker side of the contention runs: `producers` producers push into one MpmcRing,
 * one consumer drains it and checks every producer's sequence.
 *
 * spin:  a side that finds the ring full (empty) retries at once, without a doorbell.
 *        With more threads than CPUs a spinner burns the time slice its peer needs;
 *        that cost is what this mode shows. A safety net (SPIN_ONLY_BOUND) still naps.
 * sleep: a side retries `spin` times, then sleeps on a Doorbell (room / data) until
 *        the other side rings it.
 *
 * The doorbells' ready checks look at the MPMC ring without claiming or polling:
 * MpmcRing.canClaim() and !MpmcRing.isEmpty().
 */
import { Doorbell, MpmcRing } from '../../src/ring/index.js'
import type { RoundData, RoundFn } from '../lib/rounds.js'
import { ACK_STRIDE, BELL_DATA_AT, BELL_ROOM_AT, RING_AT, type MpmcTask } from './tasks.js'

const SLEEP_MS = 20
/**
 * spin mode's safety net: after this many fruitless polls in a row a side naps 1 ms
 * (counted as a stall), so even spin-only never spins without bound.
 */
const SPIN_ONLY_BOUND = 1 << 24
const nap = new Int32Array(new SharedArrayBuffer(4))

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`mpmc task lacks ${what}`)
  return v
}

function ringProducer(t: MpmcTask): RoundFn {
  const sab = need(t.sab, 'sab')
  const ring = new MpmcRing(sab, RING_AT)
  const dataBell = new Doorbell(sab, BELL_DATA_AT)
  const roomBell = new Doorbell(sab, BELL_ROOM_AT)
  // Allocated once, not per wait.
  const hasRoom = (): boolean => ring.canClaim()
  const i32 = ring.i32
  const payload = t.payload
  const sleepMode = t.mode === 'sleep'
  const spin = t.spin
  const id = t.id
  let seq = 0
  return () => {
    const c0 = { cas: ring.casRetries, full: ring.fullSpins, sleeps: roomBell.sleeps }
    let stalls = 0
    const t0 = performance.now()
    for (let n = 0; n < t.frames; n++) {
      let at = ring.claim(payload)
      let spins = 0
      while (at < 0) {
        if (sleepMode) {
          if (++spins >= spin) {
            roomBell.waitSync(hasRoom, 0, SLEEP_MS)
            spins = 0
          }
        } else if (++spins >= SPIN_ONLY_BOUND) {
          stalls++
          Atomics.wait(nap, 0, 0, 1)
          spins = 0
        }
        at = ring.claim(payload)
      }
      const w = at >> 2
      i32[w] = id
      i32[w + 1] = seq
      i32[w + 2] = n
      i32[w + 3] = 0
      ring.commit()
      if (sleepMode) dataBell.ring()
      seq = (seq + 1) | 0
    }
    return {
      ms: performance.now() - t0,
      casRetries: ring.casRetries - c0.cas,
      fullSpins: ring.fullSpins - c0.full,
      sleeps: roomBell.sleeps - c0.sleeps,
      stalls,
    }
  }
}

function ringConsumer(t: MpmcTask): RoundFn {
  const sab = need(t.sab, 'sab')
  const ring = new MpmcRing(sab, RING_AT)
  const dataBell = new Doorbell(sab, BELL_DATA_AT)
  const roomBell = new Doorbell(sab, BELL_ROOM_AT)
  const hasData = (): boolean => !ring.isEmpty()
  const i32 = ring.i32
  const sleepMode = t.mode === 'sleep'
  const spin = t.spin
  const expected = new Int32Array(t.producers)
  return () => {
    const c0 = { cas: ring.casRetries, empty: ring.emptySpins, sleeps: dataBell.sleeps }
    let stalls = 0
    const t0 = performance.now()
    const total = t.frames * t.producers
    let bad = 0
    for (let got = 0; got < total; got++) {
      let at = ring.poll()
      let spins = 0
      while (at < 0) {
        if (sleepMode) {
          if (++spins >= spin) {
            dataBell.waitSync(hasData, 0, SLEEP_MS)
            spins = 0
          }
        } else if (++spins >= SPIN_ONLY_BOUND) {
          stalls++
          Atomics.wait(nap, 0, 0, 1)
          spins = 0
        }
        at = ring.poll()
      }
      const w = at >> 2
      const id = i32[w]
      if (id >>> 0 >= expected.length || i32[w + 1] !== expected[id]) bad++
      else expected[id] = (expected[id] + 1) | 0
      ring.release()
      if (sleepMode) roomBell.ring()
    }
    return {
      ms: performance.now() - t0,
      frames: total,
      bad,
      consumerCasRetries: ring.casRetries - c0.cas,
      emptySpins: ring.emptySpins - c0.empty,
      sleeps: dataBell.sleeps - c0.sleeps,
      stalls,
    }
  }
}

function pmProducer(t: MpmcTask): RoundFn {
  const port = need(t.port, 'port')
  const acks = new Int32Array(need(t.acks, 'acks'))
  const window = need(t.window, 'window')
  const slot = t.id * ACK_STRIDE
  const msg = new Uint8Array(t.payload)
  const view = new DataView(msg.buffer)
  let seq = 0
  return () => {
    let waits = 0
    const t0 = performance.now()
    for (let n = 0; n < t.frames; n++) {
      for (;;) {
        const acked = Atomics.load(acks, slot)
        if (((seq - acked) | 0) < window) break
        waits++
        Atomics.wait(acks, slot, acked, SLEEP_MS)
      }
      view.setInt32(0, t.id, true)
      view.setInt32(4, seq, true)
      port.postMessage(msg)
      seq = (seq + 1) | 0
    }
    return { ms: performance.now() - t0, sleeps: waits }
  }
}

function pmConsumer(t: MpmcTask): RoundFn {
  const ports = need(t.ports, 'ports')
  const acks = new Int32Array(need(t.acks, 'acks'))
  const window = need(t.window, 'window')
  const ackEvery = Math.max(1, window >> 2)
  const expected = new Int32Array(t.producers)
  const lastAck = new Int32Array(t.producers)
  let got = 0
  let bad = 0
  let target = 0
  let t0 = 0
  let done: ((d: RoundData) => void) | null = null
  ports.forEach((port) => {
    port.on('message', (m: Uint8Array) => {
      const id = m[0] | (m[1] << 8) | (m[2] << 16) | (m[3] << 24)
      const s = m[4] | (m[5] << 8) | (m[6] << 16) | (m[7] << 24)
      if (id >>> 0 >= expected.length) {
        bad++
        return
      }
      if (s !== expected[id]) bad++
      const next = (s + 1) | 0
      expected[id] = next
      if (((next - lastAck[id]) | 0) >= ackEvery) {
        lastAck[id] = next
        Atomics.store(acks, id * ACK_STRIDE, next)
        Atomics.notify(acks, id * ACK_STRIDE)
      }
      if (++got >= target && done) {
        const d = done
        done = null
        for (let i = 0; i < expected.length; i++) {
          lastAck[i] = expected[i]
          Atomics.store(acks, i * ACK_STRIDE, expected[i])
          Atomics.notify(acks, i * ACK_STRIDE)
        }
        d({ ms: performance.now() - t0, frames: got, bad, sleeps: 0 })
      }
    })
  })
  return () => {
    t0 = performance.now()
    got = 0
    bad = 0
    target = t.frames * t.producers
    return new Promise<RoundData>((resolve) => {
      done = resolve
    })
  }
}

export function mpmcRole(t: MpmcTask): RoundFn {
  const producer = t.role === 'producer'
  if (t.impl === 'ring') return producer ? ringProducer(t) : ringConsumer(t)
  return producer ? pmProducer(t) : pmConsumer(t)
}
