// Doorbells across real threads: a consumer worker that goes to sleep and must be
// woken thousands of times, the announce/re-check race, and the main thread's async
// path (waitAsync, never Atomics.wait). Every sleep in a worker has a finite timeout
// that the worker reports as a failure, and each test races a timer, so a lost
// wake-up fails the test instead of hanging CI.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Channel, DOORBELL_BYTES, Doorbell, SpscRing } from 'multikernel/ring'
import { TEST_MS, TestWorker, WAIT_MS, bounded, terminateAll, watching } from './helpers.js'

afterEach(terminateAll)

const ROUNDS = 5000

/** The ping-pong layout the pingpong.mjs worker expects. */
function pingPongBuffer(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(512 + 2 * DOORBELL_BYTES)
  SpscRing.init(sab, 0, 64)
  SpscRing.init(sab, 256, 64)
  Doorbell.init(sab, 512)
  Doorbell.init(sab, 576)
  return sab
}

interface PongerResult {
  sleeps: number
}
interface PingerResult {
  notifies: number
  sleeps: number
}

async function pingPong(gated: boolean): Promise<[PongerResult, PingerResult]> {
  const sab = pingPongBuffer()
  const common = { sab, rounds: ROUNDS, gated, spin: 0, waitMs: WAIT_MS, seed: 0x3c6ef372 }
  const ponger = new TestWorker<PongerResult>('pingpong.mjs', { ...common, role: 'ponger' })
  const pinger = new TestWorker<PingerResult>('pingpong.mjs', { ...common, role: 'pinger' })
  return bounded(Promise.all([ponger.result, pinger.result]), TEST_MS, 'ping-pong')
}

describe('Doorbell across threads', () => {
  it(`wakes a sleeping consumer ${ROUNDS} times in a row`, async () => {
    // Gated: each ping goes only after the ponger announced sleep (and a short pause
    // for it to reach Atomics.wait), so nearly every round the ponger sleeps and only
    // the pinger's ring() can wake it. Not exactly every round (see pingpong.mjs), so
    // the counts are checked for "most rounds", far above what an ungated run needs.
    const [ponger, pinger] = await pingPong(true)
    expect(ponger.sleeps).toBeGreaterThan(ROUNDS / 2)
    expect(pinger.notifies).toBeGreaterThan(ROUNDS / 2)
    expect(pinger.notifies).toBeLessThanOrEqual(ROUNDS)
  })

  it(`survives ${ROUNDS} pings racing the announce-then-recheck window`, async () => {
    // Ungated: pings land before, during and after the ponger's announce. The ponger
    // must never miss one (it would sleep to its timeout and report a failure).
    const [ponger, pinger] = await pingPong(false)
    expect(ponger.sleeps).toBeGreaterThan(0)
    expect(ponger.sleeps).toBeLessThanOrEqual(ROUNDS)
    expect(pinger.notifies).toBeLessThanOrEqual(ROUNDS)
  })

  it('ring() with nobody asleep issues no notify; wake() always does', () => {
    const bell = Doorbell.create()
    expect(bell.hasSleepers()).toBe(false)
    bell.ring()
    expect(bell.notifies).toBe(0)
    bell.wake()
    expect(bell.notifies).toBe(1)
    // A ready check that is already true returns at once, without sleeping.
    expect(bell.waitSync(() => true, 0, 0)).toBe(true)
    expect(bell.sleeps).toBe(0)
  })

  it('refuses a doorbell that does not fit its buffer', () => {
    const sab = new SharedArrayBuffer(128)
    expect(() => new Doorbell(sab, 2)).toThrow(RangeError)
    expect(() => new Doorbell(sab, 65)).toThrow(RangeError)
    expect(() => new Doorbell(sab, 68)).toThrow(RangeError)
    expect(new Doorbell(sab, 64).byteOffset).toBe(64)
  })
})

describe('the main thread waits without blocking', () => {
  it('readableAsync is woken by a worker 2000 times; Atomics.wait is never called here', async () => {
    const rounds = 2000
    // spin 0: look once, then sleep in waitAsync, so the main thread really sleeps.
    const ch = Channel.create({ capacity: 256, spin: 0 })
    const echo = new TestWorker<{ echoed: number; notifies: number }>('echo.mjs', {
      sab: ch.buffer,
      spin: 0,
      waitMs: WAIT_MS,
    })
    // The ring calls its own references to Atomics (taken at load: a domain may
    // replace the global), so the doorbell's two waits are what is watched.
    const waitSpy = vi.spyOn(Doorbell.prototype, 'waitSync')
    const waitAsyncSpy = vi.spyOn(Doorbell.prototype, 'waitAsync')
    try {
      const frame = new Uint8Array(4)
      const view = new DataView(frame.buffer)
      const run = async (): Promise<void> => {
        for (let i = 0; i < rounds; i++) {
          view.setUint32(0, i, true)
          expect(ch.send(frame)).toBe(true)
          // Bounded: a lost wake-up is only a retry after 50 ms inside readableAsync,
          // but a reply that never comes fails here after WAIT_MS.
          if (!(await ch.readableAsync(WAIT_MS))) throw new Error(`round ${i}: no reply`)
          const got = ch.recv()
          if (got === null) throw new Error(`round ${i}: readable but empty`)
          if (new DataView(got.buffer).getUint32(0, true) !== (i ^ 0xa5a5a5a5) >>> 0) {
            throw new Error(`round ${i}: wrong reply`)
          }
        }
      }
      await bounded(watching(run(), echo), TEST_MS, 'async ping-pong')
      expect(waitSpy).not.toHaveBeenCalled()
      expect(waitAsyncSpy).toHaveBeenCalled()
      expect(ch.rxBell.sleeps).toBeGreaterThan(0)
      ch.close()
      const done = await bounded(echo.result, TEST_MS, 'echo worker end')
      expect(done.echoed).toBe(rounds)
      // The worker rang a sleeping main thread (Atomics.notify) at least once.
      expect(done.notifies).toBeGreaterThan(0)
    } finally {
      waitSpy.mockRestore()
      waitAsyncSpy.mockRestore()
    }
  })
})
