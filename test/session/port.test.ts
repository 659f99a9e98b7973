// SessionPort with both ends on one thread (a same-core session): calls, errors and
// their causes, many in flight, the refusals, streams of values and bytes, backpressure,
// close by either end or a third party. Nothing here may block the thread: the two
// ports only make progress if each end's waits are asynchronous.
import { describe, expect, it } from 'vitest'
import { Channel } from '../../dist/src/ring/index.js'
import { KernelError } from '../../dist/src/errors.js'
import { reasonToWord } from '../../dist/src/session/end_reason.js'
import { SessionPort } from '../../dist/src/session/port.js'
import { pair, rejection, thrown, within } from './helpers.js'

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

const methods = [
  (a: unknown, b: unknown) => (a as number) + (b as number),
  async (v: unknown, ms: unknown) => {
    await sleep(ms as number)
    return v
  },
  (msg: unknown) => {
    const e = new RangeError(String(msg), { cause: new Error('inner') })
    ;(e as Error & { code: string }).code = 'E_TEST'
    throw e
  },
  () => ({ f() {} }),
  (n: unknown) => new Uint8Array(n as number),
  () => new Promise(() => {}),
] as ((...a: unknown[]) => unknown)[]

describe('SessionPort calls (same thread)', () => {
  it('answers calls, sync and async, many in flight, in completion order', async () => {
    const { client, server } = pair({ methods })
    expect(await within(client.call(0, [2, 3]), 'add')).toBe(5)
    const order: number[] = []
    const calls = []
    for (let i = 0; i < 500; i++) {
      calls.push(
        client.call(1, [i, (i * 7) % 13]).then((v) => {
          order.push(v as number)
          return v
        }),
      )
    }
    const results = await within(Promise.all(calls), '500 calls in flight')
    expect(results).toEqual([...Array(500).keys()])
    // Answers came as they completed, not as they were asked.
    expect(order).not.toEqual(results)
    expect(client.stats()).toMatchObject({ callsOut: 501 })
    expect(server.stats()).toMatchObject({ callsIn: 501 })
    client.close()
  })

  it("a server's throw rejects CALL_FAILED with the server's error as cause", async () => {
    const { client } = pair({ methods })
    const err = await rejection(client.call(2, ['bad input']))
    expect(err).toBeInstanceOf(KernelError)
    expect((err as KernelError).code).toBe('CALL_FAILED')
    expect(err.message).toContain('bad input')
    const cause = err.cause as Error & { code?: string }
    expect(cause).toBeInstanceOf(Error)
    expect([cause.name, cause.message, cause.code]).toEqual(['RangeError', 'bad input', 'E_TEST'])
    expect(cause.stack).toContain('RangeError')
    expect((cause.cause as Error).message).toBe('inner')
    client.close()
  })

  it('refuses: NO_SUCH_METHOD, NOT_CLONEABLE both ways, MESSAGE_TOO_LARGE both ways', async () => {
    const { client, server } = pair({ methods }, 1024)
    expect(KernelError.is(await rejection(client.call(99, [])), 'NO_SUCH_METHOD')).toBe(true)
    // Arguments that cannot be cloned: the call rejects (it does not throw).
    const p = client.call(0, [() => 1])
    expect(p).toBeInstanceOf(Promise)
    expect(KernelError.is(await rejection(p), 'NOT_CLONEABLE')).toBe(true)
    // A result that cannot be cloned or does not fit answers an error, never a hang.
    expect(KernelError.is(await rejection(client.call(3, [])), 'NOT_CLONEABLE')).toBe(true)
    expect(KernelError.is(await rejection(client.call(4, [5000])), 'MESSAGE_TOO_LARGE')).toBe(true)
    expect(
      KernelError.is(
        await rejection(client.call(0, [new Uint8Array(2000), 1])),
        'MESSAGE_TOO_LARGE',
      ),
    ).toBe(true)
    // Sends throw at once.
    expect(thrown(() => client.send(new Uint8Array(2000))).code).toBe('MESSAGE_TOO_LARGE')
    expect(thrown(() => client.sendBytes(new Uint8Array(1017))).code).toBe('MESSAGE_TOO_LARGE')
    expect(thrown(() => client.send(Symbol('s'))).code).toBe('NOT_CLONEABLE')
    // The largest message that fits goes through (a whole ring: it may wait in the
    // outbox for offset 0 to free).
    client.sendBytes(new Uint8Array(1016 - 8).fill(3))
    await within(client.drain(), 'drain')
    const big = await within(server[Symbol.asyncIterator]().next(), 'the largest message')
    expect(big.value).toEqual(new Uint8Array(1008).fill(3))
    // The session still works after every refusal.
    expect(await within(client.call(0, [1, 1]), 'after refusals')).toBe(2)
    expect(thrown(() => client.sendBytes('x' as unknown as Uint8Array))).toBeInstanceOf(TypeError)
    await expect(client.call(-1, [])).rejects.toBeInstanceOf(RangeError)
    client.close()
  })
})

describe('SessionPort streams (same thread)', () => {
  it('values and bytes arrive in order through the iterator; bytes zero-copy through onBytes', async () => {
    const { client, server } = pair({}, 4096)
    const got: unknown[] = []
    const reading = (async () => {
      for await (const v of server) {
        got.push(v)
        if (got.length === 3000) break
      }
    })()
    for (let i = 0; i < 3000; i++) {
      const ok =
        i % 3 === 0 ? client.sendBytes(new Uint8Array([i & 255, i >> 8])) : client.send({ i })
      if (!ok) await within(client.drain(), 'drain')
    }
    await within(reading, 'reading 3000')
    for (let i = 0; i < 3000; i++) {
      if (i % 3 === 0) expect(got[i]).toEqual(new Uint8Array([i & 255, i >> 8]))
      else expect(got[i]).toEqual({ i })
    }
    // onBytes: the ring's own data array and the frame bounds, valid during the call.
    const seen: number[] = []
    server.onBytes = (bytes, start, end) => {
      expect(bytes).toBe(server.channel.rx.bytes)
      seen.push(end - start, bytes[start])
    }
    client.sendBytes(new Uint8Array([7, 8, 9]))
    client.sendBytes(new Uint8Array(0))
    await within(
      (async () => {
        while (seen.length < 4) await sleep(1)
      })(),
      'onBytes',
    )
    expect(seen.slice(0, 3)).toEqual([3, 7, 0])
    client.close()
  })

  it('backpressure: a slow reader, a small ring and inbox: send() says false, nothing is dropped', async () => {
    const { client, server } = pair({ inboxLimit: 8 }, 256)
    const n = 2000
    let falses = 0
    const sending = (async () => {
      for (let i = 0; i < n; i++) {
        if (!client.send(i)) {
          falses++
          await within(client.drain(), `drain at ${i}`)
        }
      }
    })()
    const got: unknown[] = []
    for await (const v of server) {
      got.push(v)
      if (got.length % 100 === 0) await sleep(2)
      if (got.length === n) break
    }
    await within(sending, 'sending')
    expect(got).toEqual([...Array(n).keys()])
    expect(falses).toBeGreaterThan(0)
    client.close()
  })
})

describe('SessionPort close (same thread)', () => {
  it("the client's close rejects pending calls at once; both ends see 'closed'; later use refused", async () => {
    const { client, server } = pair({ methods })
    const pending = [client.call(5, []), client.call(5, [])]
    await sleep(5) // the server has them
    client.close()
    for (const p of pending) {
      const err = await rejection(p)
      expect((err as KernelError).code).toBe('SESSION_CLOSED')
      expect(err.message).toContain('closed')
    }
    expect(await within(client.closed, 'client closed')).toBe('closed')
    expect(await within(server.closed, 'server closed')).toBe('closed')
    expect(((await rejection(client.call(0, [1, 2]))) as KernelError).code).toBe('SESSION_CLOSED')
    expect(thrown(() => client.send(1)).code).toBe('SESSION_CLOSED')
    expect(thrown(() => server.sendBytes(new Uint8Array(1))).code).toBe('SESSION_CLOSED')
    await expect(client.drain()).rejects.toThrow(/SESSION_CLOSED/)
  })

  it("the server's close: the client's calls reject saying why; its iterator ends", async () => {
    const { client, server } = pair({ methods })
    const pending = client.call(5, [])
    const iterating = (async () => {
      const got = []
      for await (const v of client) got.push(v)
      return got
    })()
    server.send('last words')
    await sleep(5)
    server.close('server-closed')
    const err = await rejection(pending)
    expect((err as KernelError).code).toBe('SESSION_CLOSED')
    expect(err.message).toContain('server-closed')
    expect(await within(iterating, 'iterator ends')).toEqual(['last words'])
    expect(await within(client.closed, 'closed')).toBe('server-closed')
  })

  it('a third party closes mid-flight: results published before the close still resolve', async () => {
    let third: Channel | null = null
    const { client, ch } = pair({
      methods: [
        (v: unknown) => {
          // Close right after this answer is published (the server's batch ends first).
          void Promise.resolve().then(() => third?.close(reasonToWord('server-exit')))
          return v
        },
        () => new Promise(() => {}),
      ] as ((...a: unknown[]) => unknown)[],
    })
    third = Channel.attach(ch.buffer)
    const hanging = client.call(1, [])
    const answered = client.call(0, ['answer'])
    expect(await within(answered, 'answered before the close')).toBe('answer')
    const err = await rejection(hanging)
    expect((err as KernelError).code).toBe('SESSION_CLOSED')
    expect(err.message).toContain('server-exit')
    expect(await within(client.closed, 'closed')).toBe('server-exit')
  })

  it('the first close wins: a later close keeps the first reason', async () => {
    const { client, server } = pair()
    server.close('server-exit')
    client.close('closed')
    expect(await within(client.closed, 'closed')).toBe('server-exit')
    expect(await within(server.closed, 'closed')).toBe('server-exit')
    expect(thrown(() => client.close('nonsense' as 'closed'))).toBeInstanceOf(RangeError)
  })

  it('refuses bad construction', () => {
    const ch = Channel.create({ capacity: 1024 })
    expect(thrown(() => new SessionPort({} as Channel, { role: 'client' }))).toBeInstanceOf(
      TypeError,
    )
    expect(thrown(() => new SessionPort(ch, { role: 'x' as 'client' }))).toBeInstanceOf(TypeError)
    expect(
      thrown(() => new SessionPort(ch, { role: 'server', methods: [1 as unknown as () => 0] })),
    ).toBeInstanceOf(TypeError)
    expect(
      thrown(() => new SessionPort(Channel.create({ capacity: 32 }), { role: 'client' })),
    ).toBeInstanceOf(RangeError)
  })
})
