// Sessions end to end (issue 12, items 1, 2, 4, 5): a server domain, the main
// thread as client and as server, domain to domain across cores and on one core,
// calls, errors, streaming, the states rt.sessions() shows, and traffic that never
// touches the process manager's rings.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { boot, KernelError, type Runtime } from 'multikernel'
import { within } from '../shared/bounded.js'
import { fixture, openWhenServed, scripts } from './domains.js'

let rt: Runtime

beforeEach(async () => {
  rt = await boot({ cores: 2 })
})

afterEach(async () => {
  await within(rt.shutdown(), 'shutdown')
})

async function kvServer(core = 1, name = 'kv'): Promise<void> {
  await rt.spawn(fixture('kv_server.mjs'), { core, argv: [name], label: 'store' })
  await (await openWhenServed(rt, name)).close()
}

describe('the main thread as a client of a server domain', () => {
  it('calls methods, gets structured clones back, and the composed label', async () => {
    await kvServer()
    const kv = await rt.session('kv', { label: 'cache' })
    expect(kv.methods).toContain('get')
    expect(kv.label).toBe('cache')
    expect(await kv.call('set', 'a', { n: 1, when: new Date(5), m: new Map([[1, 2]]) })).toBe(true)
    expect(await kv.call('get', 'a')).toEqual({ n: 1, when: new Date(5), m: new Map([[1, 2]]) })
    expect(await kv.call('echo', 1, 'two', [3], null, undefined)).toEqual([
      1,
      'two',
      [3],
      null,
      undefined,
    ])
    const who = (await kv.call('whoami')) as { core: number; label: string }
    expect(who).toMatchObject({ core: 1, label: 'cache' })
    await kv.close()
    expect(await within(kv.closed, 'closed')).toBe('closed')
  })

  it("a server's throw rejects CALL_FAILED with its error as cause", async () => {
    await kvServer()
    const kv = await rt.session('kv')
    const err = await kv.call('fail', 'no such key').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KernelError)
    expect((err as KernelError).code).toBe('CALL_FAILED')
    const cause = (err as KernelError).cause as Error
    expect(cause.name).toBe('RangeError')
    expect(cause.message).toContain('no such key')
    await kv.close()
  })

  it('bad input: unknown method, a function argument, a result that cannot be cloned, too large, after close', async () => {
    await kvServer()
    const kv = await rt.session('kv', { capacity: 4096 })
    await expect(kv.call('nope')).rejects.toMatchObject({ code: 'NO_SUCH_METHOD' })
    await expect(kv.call('set', 'f', () => 1)).rejects.toMatchObject({ code: 'NOT_CLONEABLE' })
    // A result that cannot go back is refused the same way, to the caller.
    await expect(kv.call('fn')).rejects.toMatchObject({ code: 'NOT_CLONEABLE' })
    await expect(kv.call('set', 'big', 'x'.repeat(10_000))).rejects.toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
    })
    await expect(kv.call('big', 10_000)).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' })
    // The session still works after all of that.
    expect(await kv.call('echo', 1)).toEqual([1])
    await kv.close()
    await expect(kv.call('echo', 1)).rejects.toMatchObject({ code: 'SESSION_CLOSED' })
    expect(() => kv.send(1)).toThrow(/SESSION_CLOSED/)
  })

  it('an unknown service is SERVICE_DENIED; bad options are TypeError / RangeError', async () => {
    await expect(rt.session('nobody')).rejects.toMatchObject({ code: 'SERVICE_DENIED' })
    await expect(rt.session('')).rejects.toBeInstanceOf(TypeError)
    await kvServer()
    await expect(rt.session('kv', { capacity: 1000 })).rejects.toBeInstanceOf(RangeError)
    await expect(rt.session('kv', { quota: { bytes: -1 } })).rejects.toBeInstanceOf(RangeError)
    await expect(
      rt.session('kv', { quota: 'lots' as unknown as { bytes: number } }),
    ).rejects.toBeInstanceOf(TypeError)
  })

  it('many calls in flight are matched by tag', async () => {
    await kvServer()
    const kv = await rt.session('kv')
    const ps: Promise<unknown>[] = []
    for (let i = 0; i < 2000; i++)
      ps.push(kv.call(i % 7 === 0 ? 'slow' : 'echo', i % 7 === 0 ? 1 : i, i))
    const out = await within(Promise.all(ps), '2000 calls')
    out.forEach((v, i) => expect(v).toEqual(i % 7 === 0 ? i : [i, i]))
    await kv.close()
  })

  it("streams the server's sends to the client's for await", async () => {
    await kvServer()
    const kv = await rt.session('kv')
    const got: unknown[] = []
    const reading = (async () => {
      for await (const v of kv) {
        got.push(v)
        if (got.length === 500) break
      }
    })()
    expect(await kv.call('stream', 500)).toBe(500)
    await within(reading, 'stream read')
    expect(got).toEqual([...Array(500).keys()])
    await kv.close()
  })

  it('backpressure: a slow server, a small ring, nothing dropped, in order', async () => {
    await kvServer()
    const kv = await rt.session('kv', { capacity: 4096, args: { sink: true } })
    let waited = 0
    for (let i = 0; i < 3000; i++) {
      if (!kv.send({ i, pad: 'p'.repeat(400) })) {
        waited++
        await within(kv.drain(), 'drain')
      }
    }
    await within(kv.drain(), 'last drain')
    // The ring is a tenth of what was sent: the sender had to wait, again and again.
    expect(waited).toBeGreaterThan(10)
    const r = await within(
      (async () => {
        for (;;) {
          const got = (await kv.call('received')) as { n: number; inOrder: boolean }
          if (got.n === 3000) return got
          await new Promise((res) => setTimeout(res, 10))
        }
      })(),
      'all received',
    )
    expect(r).toEqual({ n: 3000, inOrder: true })
    await kv.close()
  })

  it('rt.sessions() shows the open session; the process manager rings carry none of its traffic', async () => {
    // Without core supervision nothing else pings the cores: the counters are the session's alone.
    await rt.shutdown()
    rt = await boot({ cores: 2, supervisor: { superviseCores: false } })
    await kvServer()
    const kv = await rt.session('kv', { label: 'x' })
    const [info] = rt.sessions().filter((s) => s.id === kv.id)
    expect(info).toMatchObject({ service: 'kv', label: 'x', state: 'CAP_HANDED_OUT', client: null })
    expect(info.server).toBeGreaterThan(0)
    const before = rt.stats().map((c) => [c.requests, c.replies, c.notifications])
    for (let i = 0; i < 1000; i++) await kv.call('echo', i)
    const after = rt.stats().map((c) => [c.requests, c.replies, c.notifications])
    expect(after).toEqual(before)
    const [moved] = rt.sessions().filter((s) => s.id === kv.id)
    expect(moved.bytesToServer).toBeGreaterThan(info.bytesToServer)
    expect(moved.bytesToClient).toBeGreaterThan(info.bytesToClient)
    await kv.close()
    expect(rt.sessions().filter((s) => s.id === kv.id)).toEqual([])
  })
})

describe('domains as clients', () => {
  it('a domain calls a server domain on the other core, and one on its own core', async () => {
    await kvServer(1)
    const sc = scripts(rt)
    for (const core of [0, 1]) {
      const run = await sc.run(
        [
          { op: 'session', name: 'kv', opts: { label: 'c' }, as: 'kv' },
          { op: 'call', s: 'kv', method: 'set', args: ['k', [1, 2]] },
          { op: 'call', s: 'kv', method: 'get', args: ['k'] },
          { op: 'call', s: 'kv', method: 'fail', args: ['boom'] },
          { op: 'close', s: 'kv' },
        ],
        { core, label: `client${core}` },
      )
      expect((await run.step(0)).value).toMatchObject({ label: `client${core} -> c` })
      expect((await run.step(2)).value).toEqual([1, 2])
      expect(await run.step(3)).toMatchObject({
        ok: false,
        code: 'CALL_FAILED',
        cause: { name: 'RangeError' },
      })
      expect((await run.step(4)).value).toBe('closed')
      expect(await within(rt.wait(run.d), 'client ends')).toMatchObject({ exitCode: 0 })
    }
  })

  it('the main thread serves domains (rt.serve)', async () => {
    const opened: string[] = []
    const closed: string[] = []
    rt.serve('clock', {
      open(req) {
        opened.push(req.label)
        let n = 0
        return { tick: (by: number) => (n += by) }
      },
      close(req, why) {
        closed.push(`${req.label}:${why}`)
      },
    })
    const sc = scripts(rt)
    const run = await sc.run(
      [
        { op: 'session', name: 'clock', opts: { label: 'ui' }, as: 'c' },
        { op: 'call', s: 'c', method: 'tick', args: [2] },
        { op: 'call', s: 'c', method: 'tick', args: [3] },
        { op: 'close', s: 'c' },
      ],
      { label: 'app' },
    )
    expect((await run.step(2)).value).toBe(5)
    await run.step(3)
    expect(opened).toEqual(['app -> ui'])
    expect(closed).toEqual(['app -> ui:closed'])
  })
})
