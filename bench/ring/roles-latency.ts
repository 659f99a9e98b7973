/**
 * Worker side of the round-trip latency runs. The pinger sends one message, waits for
 * the echo's reply and records performance.now() deltas; it returns percentiles of
 * the round's sorted samples (microseconds).
 *
 * ring / spin:  both sides poll their receive ring (a bounded spin, then a Doorbell sleep).
 * ring / sleep: the echo spins zero: every time its ring is empty it announces sleep on
 *               its Doorbell and Atomics.waits. With gapUs > 0 the pinger waits until the
 *               echo announced sleep and a further `gapUs`, so each ping finds it asleep
 *               in the kernel and the round trip includes a full wake-up; with gapUs = 0
 *               pings follow back to back and may catch the echo on its way to sleep.
 * bare:         the floor, without a ring: one Int32 word each way (Atomics.store/load),
 *               and in sleep mode a plain Atomics.wait/notify on it, with the same gap.
 * postMessage:  MessagePort messages both ways, each side's event loop idle in between.
 * postMessagePoll: the same messages, each side polling receiveMessageOnPort (roles-poll.ts).
 */
import { Channel } from '../../src/ring/index.js'
import type { RoundData, RoundFn } from '../lib/rounds.js'
import { summarizeRoundTrips as summarize } from '../lib/stats.js'
import { pmPollEcho, pmPollPinger } from './roles-poll.js'
import type { RoundTripTask } from './tasks.js'

const SLEEP_MS = 20

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`round-trip task lacks ${what}`)
  return v
}

function busyWaitUs(us: number): void {
  const until = performance.now() + us / 1000
  while (performance.now() < until) {
    // spin: the gap must not sleep, or the pinger's own wake-up would be measured
  }
}

function ringPinger(t: RoundTripTask): RoundFn {
  const ch = new Channel(need(t.sab, 'sab'), 'a', t.spin)
  const tx = ch.tx
  const rx = ch.rx
  const txI32 = tx.i32
  const rxI32 = rx.i32
  const payload = t.payload
  const spin = t.spin
  const sleepMode = t.mode === 'sleep'
  const readable = (): boolean => !rx.isEmpty()
  const samples = new Float64Array(t.count)
  let seq = 0
  return () => {
    const notifies0 = ch.txBell.notifies
    const sleeps0 = ch.rxBell.sleeps
    let bad = 0
    let unslept = 0
    for (let i = 0; i < samples.length; i++) {
      if (sleepMode && t.gapUs > 0) {
        // Let the echo fall asleep: it announces itself, then enters Atomics.wait.
        let k = 0
        while (!ch.txBell.hasSleepers()) {
          if (++k === 1 << 22) {
            unslept++
            break
          }
        }
        busyWaitUs(t.gapUs)
      }
      const t0 = performance.now()
      const out = tx.reserve(payload)
      txI32[out >> 2] = seq
      tx.publish()
      ch.txBell.ring()
      let at = rx.poll()
      let spins = 0
      while (at < 0) {
        if (++spins >= spin) {
          ch.rxBell.waitSync(readable, 0, SLEEP_MS)
          spins = 0
        }
        at = rx.poll()
      }
      const t1 = performance.now()
      if (rxI32[at >> 2] !== seq) bad++
      rx.release()
      seq = (seq + 1) | 0
      samples[i] = t1 - t0
    }
    return {
      ...summarize(samples),
      bad,
      notifies: ch.txBell.notifies - notifies0,
      pingerSleeps: ch.rxBell.sleeps - sleeps0,
      unslept,
    }
  }
}

function ringEcho(t: RoundTripTask): RoundFn {
  const ch = new Channel(need(t.sab, 'sab'), 'b', t.spin)
  const tx = ch.tx
  const rx = ch.rx
  const txI32 = tx.i32
  const rxI32 = rx.i32
  const payload = t.payload
  const spin = t.mode === 'sleep' ? 0 : t.spin
  const readable = (): boolean => !rx.isEmpty()
  return () => {
    const sleeps0 = ch.rxBell.sleeps
    for (let i = 0; i < t.count; i++) {
      let at = rx.poll()
      let spins = 0
      while (at < 0) {
        if (++spins >= spin) {
          ch.rxBell.waitSync(readable, 0, SLEEP_MS)
          spins = 0
        }
        at = rx.poll()
      }
      const v = rxI32[at >> 2]
      rx.release()
      const out = tx.reserve(payload)
      txI32[out >> 2] = v
      tx.publish()
      ch.txBell.ring()
    }
    return { echoSleeps: ch.rxBell.sleeps - sleeps0 }
  }
}

function pmPinger(t: RoundTripTask): RoundFn {
  const port = need(t.port, 'port')
  const samples = new Float64Array(t.count)
  const msg = new Uint8Array(t.payload)
  let i = 0
  let t0 = 0
  let done: ((d: RoundData) => void) | null = null
  port.on('message', () => {
    samples[i++] = performance.now() - t0
    if (i < samples.length) {
      t0 = performance.now()
      port.postMessage(msg)
    } else if (done) {
      const d = done
      done = null
      d(summarize(samples))
    }
  })
  return () =>
    new Promise<RoundData>((resolve) => {
      done = resolve
      i = 0
      t0 = performance.now()
      port.postMessage(msg)
    })
}

function pmEcho(t: RoundTripTask): RoundFn {
  const port = need(t.port, 'port')
  let n = 0
  let done: ((d: RoundData) => void) | null = null
  port.on('message', (m: Uint8Array) => {
    port.postMessage(m)
    if (++n === t.count && done) {
      const d = done
      done = null
      d({})
    }
  })
  return () =>
    new Promise<RoundData>((resolve) => {
      n = 0
      done = resolve
    })
}

// Bare words: the pinger stores PING, the echo answers in PONG; SLEEPING says the echo
// is on its way into (or in) Atomics.wait on PING.
const PING = 0
const PONG = 16
const SLEEPING = 32

function barePinger(t: RoundTripTask): RoundFn {
  const a = new Int32Array(need(t.sab, 'sab'))
  const samples = new Float64Array(t.count)
  const sleepMode = t.mode === 'sleep'
  const spin = t.spin
  let seq = 0
  return () => {
    for (let i = 0; i < samples.length; i++) {
      seq = (seq + 1) | 0
      if (sleepMode && t.gapUs > 0) {
        let k = 0
        while (Atomics.load(a, SLEEPING) === 0 && ++k < 1 << 22) {
          // wait for the echo to head for sleep
        }
        busyWaitUs(t.gapUs)
      }
      const t0 = performance.now()
      Atomics.store(a, PING, seq)
      if (sleepMode) Atomics.notify(a, PING)
      let spins = 0
      let v = Atomics.load(a, PONG)
      while (v !== seq) {
        // Bounded: past `spin` polls, doze 1 ms at a time (the echo does not notify).
        if (++spins >= spin) Atomics.wait(a, PONG, v, 1)
        v = Atomics.load(a, PONG)
      }
      samples[i] = performance.now() - t0
    }
    return summarize(samples)
  }
}

function bareEcho(t: RoundTripTask): RoundFn {
  const a = new Int32Array(need(t.sab, 'sab'))
  const sleepMode = t.mode === 'sleep'
  const spin = t.spin
  let last = 0
  return () => {
    let sleeps = 0
    for (let i = 0; i < t.count; i++) {
      let v = Atomics.load(a, PING)
      let spins = 0
      while (v === last) {
        if (sleepMode || ++spins >= spin) {
          Atomics.store(a, SLEEPING, 1)
          sleeps++
          Atomics.wait(a, PING, last, SLEEP_MS)
          Atomics.store(a, SLEEPING, 0)
          spins = 0
        }
        v = Atomics.load(a, PING)
      }
      last = v
      Atomics.store(a, PONG, v)
    }
    return { echoSleeps: sleeps }
  }
}

export function roundTripRole(t: RoundTripTask): RoundFn {
  const pinger = t.role === 'pinger'
  if (t.impl === 'ring') return pinger ? ringPinger(t) : ringEcho(t)
  if (t.impl === 'bare') return pinger ? barePinger(t) : bareEcho(t)
  if (t.impl === 'postMessagePoll') return pinger ? pmPollPinger(t) : pmPollEcho(t)
  return pinger ? pmPinger(t) : pmEcho(t)
}
