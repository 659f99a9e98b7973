// Misuse probes that froze a thread before the ring layer refused them: each runs
// here, in a worker, so that a probe that still loops or sleeps for ever makes the
// test time out (and the worker is terminated) instead of freezing the test run.
// Reports how the probe ended: { outcome: 'threw', name, code, message } or
// { outcome: 'returned', value }.
import { workerData } from 'node:worker_threads'
import { Channel, Doorbell, MpmcRing } from 'multikernel/ring'
import { run } from './common.mjs'

/** Call `fn`; the code (or name) of what it threw, or 'nothing'. */
function refusal(fn) {
  try {
    fn()
    return 'nothing'
  } catch (err) {
    return err.code ?? err.name
  }
}

const probes = {
  // Issue 10, item 8: release() before any poll() on this instance, then claim().
  'mpmc release before poll, then claim': () => {
    const ring = MpmcRing.create({ slots: 4, slotBytes: 16 })
    const refused = refusal(() => new MpmcRing(ring.buffer).release())
    return { refused, at: ring.claim(8) }
  },
  'mpmc release before poll, then poll': () => {
    const ring = MpmcRing.create({ slots: 4, slotBytes: 16 })
    const refused = refusal(() => ring.release())
    return { refused, at: ring.poll() }
  },
  // A sequence word stored out of protocol (through the public i32 view): claim()
  // and poll() used to retry such a slot for ever.
  'mpmc slot seq ahead of the enqueue position': () => {
    const ring = MpmcRing.create({ slots: 4, slotBytes: 16 })
    Atomics.store(ring.i32, 0, 4) // slot 0, position 0: seq says lap 1
    return ring.claim(8)
  },
  'mpmc slot seq ahead of the dequeue position': () => {
    const ring = MpmcRing.create({ slots: 4, slotBytes: 16 })
    Atomics.store(ring.i32, 0, 4)
    return ring.poll()
  },
  // NaN (or a string) as a timeout reached Atomics.wait as "for ever".
  'doorbell waitSync with a NaN timeout': () => Doorbell.create().waitSync(() => false, 0, NaN),
  'channel waitReadable with a string timeout': () =>
    Channel.create({ capacity: 64 }).waitReadable('10'),
  // A length no frame can have never becomes writable: it waited for ever.
  'channel waitWritable for a frame larger than the ring': () =>
    Channel.create({ capacity: 64 }).waitWritable(1 << 20),
}

run(() => {
  const probe = probes[workerData.probe]
  if (probe === undefined) throw new Error(`no probe '${workerData.probe}'`)
  try {
    return { outcome: 'returned', value: probe() }
  } catch (err) {
    return { outcome: 'threw', name: err.name, code: err.code, message: err.message }
  }
})
