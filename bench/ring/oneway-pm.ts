/**
 * The one-way sides over postMessage: `batch` frames per message, at most `window`
 * in flight (credit through a shared acks word), the consumer woken by the port's
 * message event. Its polling consumer is pmPollConsumer (roles-poll.ts).
 */
import type { RoundData, RoundFn } from '../lib/rounds.js'
import { need, SLEEP_MS } from './oneway-round.js'
import type { OneWayTask } from './tasks.js'

export function pmProducer(t: OneWayTask): RoundFn {
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

export function pmConsumer(t: OneWayTask): RoundFn {
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
