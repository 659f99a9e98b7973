// 1,000,000 messages of random sizes across two threads, each way, exactly once and
// in order: every message carries its sequence number and content derived from it
// (fixtures/stream.mjs), checked on arrival. Small rings, so the outbox, the wrap
// marker and the largest message (a whole ring) all come up often.
import { afterEach, describe, expect, it } from 'vitest'
import { Channel } from '../../dist/src/ring/index.js'
import { SessionPort } from '../../dist/src/session/port.js'
// @ts-expect-error: a plain .mjs fixture shared with the worker
import { Stream } from './fixtures/stream.mjs'
import { PortWorker, terminateAll, within } from './helpers.js'

afterEach(terminateAll)

const N = 1_000_000
const LONG_MS = 240_000

interface Checker {
  checkBytes(i: number, b: Uint8Array, s: number, e: number): string | null
  checkValue(i: number, v: unknown): string | null
}

describe('SessionPort: a million messages', () => {
  it(
    'worker -> main: bytes and values, through the iterator, exactly once and in order',
    async () => {
      const ch = Channel.create({ capacity: 1 << 13 })
      const seed = 12345
      const far = new PortWorker<{ sent: number; full: number }>({
        mode: 'source',
        sab: ch.buffer,
        count: N,
        seed,
        valueEvery: 16,
      })
      const port = new SessionPort(ch, { role: 'client' })
      port.start()
      const s = new Stream(seed, ch.rx.maxPayload - 8) as Checker
      let got = 0
      const reading = (async () => {
        for await (const v of port) {
          const err =
            v instanceof Uint8Array ? s.checkBytes(got, v, 0, v.length) : s.checkValue(got, v)
          if (err !== null) throw new Error(err)
          if (++got === N) break
        }
      })()
      await within(reading, `reading ${N} messages`, LONG_MS)
      const r = await within(far.result, 'source report', LONG_MS)
      expect([got, r.sent]).toEqual([N, N])
      expect(port.stats().messagesIn).toBe(N)
      port.close()
    },
    LONG_MS,
  )

  it(
    'main -> worker: bytes to onBytes (zero copy), exactly once and in order',
    async () => {
      const ch = Channel.create({ capacity: 1 << 13 })
      const seed = 777
      const far = new PortWorker<{ got: number; seen: string }>({
        mode: 'sink',
        sab: ch.buffer,
        count: N,
        seed,
        useOnBytes: true,
      })
      const port = new SessionPort(ch, { role: 'client' })
      port.start()
      const s = new Stream(seed, ch.tx.maxPayload - 8) as { bytes(i: number): Uint8Array }
      let full = 0
      for (let i = 0; i < N; i++) {
        if (!port.sendBytes(s.bytes(i))) {
          full++
          await within(port.drain(), `drain at ${i}`)
        } else if ((i & 255) === 255) await null
      }
      const r = await within(far.result, 'sink report', LONG_MS)
      expect(r).toMatchObject({ got: N, seen: 'ring' })
      expect(full).toBeGreaterThan(0) // the outbox was used
      port.close()
    },
    LONG_MS,
  )
})
