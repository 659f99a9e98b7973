/**
 * The polling postMessage peer: `receiveMessageOnPort` takes a message off a
 * MessagePort synchronously, so a thread can poll a port as the ring's waiting sides
 * poll a ring. Spinning and polling ring figures are held against these (never
 * against an event loop that sleeps between messages).
 *
 * Waiting stays bounded as everywhere in the bench: past `spin` empty polls a side
 * naps NAP_MS on a private word (nobody can wake a poller: there is no doorbell on
 * a port), then polls again.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import type { RoundFn } from '../lib/rounds.js'
import { summarizeRoundTrips as summarize } from '../lib/stats.js'
import type { OneWayTask, RoundTripTask } from './tasks.js'

const NAP_MS = 0.05

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`polling task lacks ${what}`)
  return v
}

/** A word nobody notifies: Atomics.wait on it is a bounded nap. */
const napWord = new Int32Array(new SharedArrayBuffer(4))

/**
 * One-way consumer: polls its port; each message carries `batch` frames of
 * `payload` bytes whose first word is the sequence number. Credit goes back to the
 * producer (pmProducer in oneway-pm.ts) through the shared acks word.
 */
export function pmPollConsumer(t: OneWayTask): RoundFn {
  const port: MessagePort = need(t.port, 'port')
  const acks = new Int32Array(need(t.acks, 'acks'))
  const window = need(t.window, 'window')
  const ackEvery = Math.max(1, window >> 2)
  const payload = t.payload
  const spin = t.spin
  let expected = 0
  let total = 0
  let lastAck = 0
  return () => {
    const t0 = performance.now()
    let got = 0
    let bad = 0
    let naps = 0
    let empties = 0
    let spins = 0
    while (got < t.frames) {
      const r = receiveMessageOnPort(port)
      if (r === undefined) {
        empties++
        if (++spins >= spin) {
          naps++
          spins = 0
          Atomics.wait(napWord, 0, 0, NAP_MS)
        }
        continue
      }
      spins = 0
      const m = r.message as Uint8Array
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
    }
    lastAck = total
    Atomics.store(acks, 0, total)
    Atomics.notify(acks, 0)
    return { ms: performance.now() - t0, frames: got, bad, sleeps: naps, empties }
  }
}

/** Poll `port` until a message comes (bounded spinning, then naps); returns it. */
function take(port: MessagePort, spin: number): unknown {
  let spins = 0
  for (;;) {
    const r = receiveMessageOnPort(port)
    if (r !== undefined) return r.message
    if (++spins >= spin) {
      spins = 0
      Atomics.wait(napWord, 0, 0, NAP_MS)
    }
  }
}

/** Round-trip pinger: post a 16-byte message, poll for the echo's reply. */
export function pmPollPinger(t: RoundTripTask): RoundFn {
  const port = need(t.port, 'port')
  const samples = new Float64Array(t.count)
  const msg = new Int32Array(t.payload >> 2)
  const spin = t.spin
  let seq = 0
  return () => {
    let bad = 0
    for (let i = 0; i < samples.length; i++) {
      seq = (seq + 1) | 0
      msg[0] = seq
      const t0 = performance.now()
      port.postMessage(msg)
      const back = take(port, spin) as Int32Array
      samples[i] = performance.now() - t0
      if (back[0] !== seq) bad++
    }
    return { ...summarize(samples), bad }
  }
}

/** Round-trip echo: poll for a message, post it back. */
export function pmPollEcho(t: RoundTripTask): RoundFn {
  const port = need(t.port, 'port')
  const spin = t.spin
  return () => {
    for (let i = 0; i < t.count; i++) port.postMessage(take(port, spin))
    return {}
  }
}
