// SessionPort between the main thread and a real worker_thread (the far end runs
// fixtures/port-worker.mjs): calls, errors with causes, many in flight, refusals,
// streaming with a slow consumer, and close from either side or a third party.
import { afterEach, describe, expect, it } from 'vitest'
import { Channel } from '../../dist/src/ring/index.js'
import { KernelError } from '../../dist/src/errors.js'
import { reasonToWord } from '../../dist/src/session/end_reason.js'
import { SessionPort } from '../../dist/src/session/port.js'
import { PortWorker, rejection, terminateAll, within } from './helpers.js'

afterEach(terminateAll)

interface ServerReport {
  reason: string
  stats: { callsIn: number }
}

function client(capacity = 1 << 14): {
  port: SessionPort
  ch: Channel
  far: PortWorker<ServerReport>
} {
  const ch = Channel.create({ capacity })
  const far = new PortWorker<ServerReport>({ mode: 'server', sab: ch.buffer })
  const port = new SessionPort(ch, { role: 'client' })
  port.start()
  return { port, ch, far }
}

const code = (e: Error): string | undefined => (e as KernelError).code

describe('SessionPort across threads', () => {
  it('calls: results, a server throw with its cause, async rejections, refusals', async () => {
    const { port, far } = client(2048)
    expect(await within(port.call(0, [40, 2]), 'add')).toBe(42)
    expect(await within(port.call(1, [{ a: [1, 'x', null], d: new Date(0) }]), 'echo')).toEqual({
      a: [1, 'x', null],
      d: new Date(0),
    })
    const thrown = await rejection(port.call(3, ['worker says no']))
    expect(code(thrown)).toBe('CALL_FAILED')
    const cause = thrown.cause as Error & { code?: string }
    expect([cause.name, cause.message, cause.code]).toEqual([
      'RangeError',
      'worker says no',
      'E_TEST',
    ])
    expect((cause.cause as Error).message).toBe('inner')
    const rejected = await rejection(port.call(4, ['async no']))
    expect(code(rejected)).toBe('CALL_FAILED')
    expect((rejected.cause as Error).name).toBe('TypeError')
    expect(code(await rejection(port.call(77, [])))).toBe('NO_SUCH_METHOD')
    expect(code(await rejection(port.call(5, [])))).toBe('NOT_CLONEABLE')
    expect(code(await rejection(port.call(6, [4096])))).toBe('MESSAGE_TOO_LARGE')
    expect(code(await rejection(port.call(1, [new Uint8Array(4096)])))).toBe('MESSAGE_TOO_LARGE')
    port.close()
    expect((await within(far.result, 'worker report')).reason).toBe('closed')
  })

  it('2,000 calls in flight, answered in completion order, each to its own caller', async () => {
    const { port, far } = client(4096)
    const calls: Promise<unknown>[] = []
    for (let i = 0; i < 2000; i++) {
      calls.push(i % 2 === 0 ? port.call(2, [i, i % 5]) : port.call(1, [i]))
    }
    expect(await within(Promise.all(calls), '2000 calls')).toEqual([...Array(2000).keys()])
    port.close()
    expect((await within(far.result, 'report')).stats.callsIn).toBe(2000)
  })

  it('the server streams back on the same session while a call waits (a slow consumer)', async () => {
    const { port } = client(512)
    const answer = port.call(10, [3000])
    const got: unknown[] = []
    for await (const v of port) {
      got.push(v)
      if (got.length % 250 === 0) await new Promise((r) => setTimeout(r, 2))
      if (got.length === 3000) break
    }
    expect(got).toEqual([...Array(3000).keys()].map((i) => ({ i })))
    expect(await within(answer, 'the answer after the stream')).toBe(3000)
    port.close()
  })

  it('the worker closes mid-flight: pending calls reject SESSION_CLOSED at once, saying why', async () => {
    const { port, far } = client()
    const hanging = [port.call(7, []), port.call(7, [])]
    expect(await within(port.call(9, ['server-closed']), 'close request')).toBe('closing')
    for (const p of hanging) {
      const err = await rejection(p)
      expect(code(err)).toBe('SESSION_CLOSED')
      expect(err.message).toContain('server-closed')
    }
    expect(await within(port.closed, 'closed')).toBe('server-closed')
    expect((await within(far.result, 'report')).reason).toBe('server-closed')
    expect(code(await rejection(port.call(0, [1, 2])))).toBe('SESSION_CLOSED')
  })

  it('a third party closes (as the process manager): published answers resolve, the rest reject', async () => {
    const { port, far } = client()
    const hanging = port.call(7, [])
    // The worker answers, then a third Channel object over the same buffer closes it.
    expect(await within(port.call(8, ['made it', 'server-exit']), 'answered')).toBe('made it')
    const err = await rejection(hanging)
    expect(code(err)).toBe('SESSION_CLOSED')
    expect(err.message).toContain('server-exit')
    expect(await within(port.closed, 'closed')).toBe('server-exit')
    expect((await within(far.result, 'report')).reason).toBe('server-exit')
  })

  it('the main thread as a third party closes while calls are in flight both ways', async () => {
    const { port, ch, far } = client()
    const calls = [port.call(7, []), port.call(2, ['late', 200])]
    await new Promise((r) => setTimeout(r, 20))
    Channel.attach(ch.buffer).close(reasonToWord('core-failed'))
    for (const p of calls) expect(code(await rejection(p))).toBe('SESSION_CLOSED')
    expect(await within(port.closed, 'closed')).toBe('core-failed')
    expect((await within(far.result, 'report')).reason).toBe('core-failed')
  })
})
