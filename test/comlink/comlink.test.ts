// multikernel/comlink (issue 13, part 2): comlink's wrap/expose over a session,
// between the main thread and a domain and between two domains; callbacks passed
// with Comlink.proxy both ways (sub-channels of the session, no MessagePort);
// releaseProxy freeing them; errors thrown by remote functions; and channel death:
// pending calls reject SESSION_CLOSED instead of waiting forever.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Comlink from 'comlink'
import { boot, type Runtime, type Session } from 'multikernel'
import { comlinkStats, endpoint, exposeService, wrapSession } from 'multikernel/comlink'
import { until, within } from '../shared/bounded.js'

const fixture = (name: string): URL => new URL(`./fixtures/${name}`, import.meta.url)

/** Bounded: poll an async check until it holds. */
async function untilAsync(check: () => Promise<boolean>, what: string): Promise<void> {
  await within(
    (async () => {
      while (!(await check())) await new Promise((r) => setTimeout(r, 5))
    })(),
    what,
  )
}

interface Counter {
  n: number
  inc(by?: number): number
}

interface Calc {
  version: number
  label: string
  domainId: number
  add(a: number, b: number): number
  echo<T>(v: T): T
  unsendable(): symbol
  slow<T>(ms: number, v: T): Promise<T>
  never(): Promise<never>
  fail(message: string): never
  failAsync(message: string): Promise<never>
  sumVia(cb: (i: number) => number | Promise<number>, n: number): Promise<number>
  subscribe(cb: (v: number) => number): boolean
  emit(v: number): Promise<number | null>
  unsubscribe(): boolean
  makeCounter(start: number): Counter & Comlink.ProxyMarked
  stats(): { channels: number; pending: number }
  exit(code: number): boolean
}

interface Relay {
  add(a: number, b: number): Promise<number>
  whoServes(): Promise<{ relay: number; server: number; label: string }>
  sumOwn(n: number): Promise<number>
  sumVia(cb: (i: number) => number | Promise<number>, n: number): Promise<number>
  counter(start: number, times: number): Promise<number>
  fail(m: string): Promise<never>
  pendingThenOutcome(): Promise<{ ok: boolean; name?: string; code?: string | null }>
  killTarget(): Promise<boolean>
  stats(): Promise<{
    mine: { channels: number; pending: number } | null
    server: { channels: number; pending: number } | null
  }>
}

let rt: Runtime

beforeEach(async () => {
  rt = await boot({ cores: 2 })
})

afterEach(async () => {
  await within(rt.shutdown(), 'shutdown')
})

/** Start a domain serving `name` and wait until a session to it opens. */
async function up(program: string, argv: string[], core = 1) {
  const d = await rt.spawn(fixture(program), { core, argv, label: argv[0] })
  const s = await within(
    (async (): Promise<Session> => {
      for (;;) {
        try {
          return await rt.session(argv[0], { label: 'test' })
        } catch {
          await new Promise((r) => setTimeout(r, 5))
        }
      }
    })(),
    `${argv[0]} serving`,
  )
  return { d, s }
}

describe('main thread <-> domain', () => {
  it('wraps what a domain exposes: calls, properties, structured clones', async () => {
    const { d, s } = await up('calc_server.mjs', ['calc'])
    const calc = wrapSession<Calc>(s)
    expect(await within(calc.add(2, 3), 'add')).toBe(5)
    expect(await within(calc.version, 'get')).toBe(3)
    expect(await within(calc.label, 'label')).toBe('test')
    expect(await within(calc.domainId, 'domainId')).toBe(d.id)
    const v = {
      m: new Map([[1, 'a']]),
      at: new Date(5),
      xs: [1, 'two', null],
      b: new Uint8Array([1, 2]),
    }
    expect(await within(calc.echo(v), 'echo')).toEqual(v)
    // Many in flight, answered each to its own caller.
    const all = await within(
      Promise.all(Array.from({ length: 500 }, (_, i) => calc.slow(i % 3, i))),
      'many in flight',
    )
    expect(all).toEqual(Array.from({ length: 500 }, (_, i) => i))
    // Comlink.wrap(endpoint(s)) is the same thing, and endpoint() is one per session.
    expect(endpoint(s)).toBe(endpoint(s))
    expect(await within(Comlink.wrap<Calc>(endpoint(s)).add(1, 1), 'wrap again')).toBe(2)
    expect(comlinkStats(s)).toEqual({ channels: 0, pending: 0 })
    await s.close()
  })

  it('a domain wraps what the main thread exposes', async () => {
    let calls = 0
    await exposeService(rt, 'mainsvc', {
      add: (a: number, b: number) => {
        calls++
        return a + b + 1000
      },
    })
    const { s } = await up('relay.mjs', ['relay', 'mainsvc'])
    const relay = wrapSession<Relay>(s)
    expect(await within(relay.add(1, 2), 'relay add')).toBe(1003)
    expect(calls).toBe(1)
    await s.close()
  })

  it('errors thrown by remote functions reject with their name and message', async () => {
    const { s } = await up('calc_server.mjs', ['calc'])
    const calc = wrapSession<Calc>(s)
    await expect(within(calc.fail('boom'), 'fail')).rejects.toMatchObject({
      name: 'RangeError',
      message: 'boom',
    })
    await expect(within(calc.failAsync('later'), 'failAsync')).rejects.toMatchObject({
      name: 'TypeError',
      message: 'later',
    })
    // A value structured clone refuses is refused on this side, at the call.
    await expect(within(calc.echo(Symbol('x') as never), 'symbol')).rejects.toMatchObject({
      code: 'NOT_CLONEABLE',
    })
    // A result that cannot be sent: comlink's own answer for it.
    await expect(within(calc.unsendable(), 'unsendable')).rejects.toMatchObject({
      name: 'TypeError',
      message: 'Unserializable return value',
    })
    // The channel goes on.
    expect(await within(calc.add(1, 2), 'after errors')).toBe(3)
    await s.close()
  })

  it('a callback from the main thread is called by the domain (Comlink.proxy)', async () => {
    const { s } = await up('calc_server.mjs', ['calc'])
    const calc = wrapSession<Calc>(s)
    const seen: number[] = []
    const sq = Comlink.proxy((i: number) => {
      seen.push(i)
      return i * i
    })
    expect(await within(calc.sumVia(sq, 5), 'sumVia')).toBe(55)
    expect(seen).toEqual([1, 2, 3, 4, 5])
    // An async callback, and several at once, each on its own sub-channel.
    const r = await within(
      Promise.all(
        [1, 2, 3].map((k) =>
          calc.sumVia(
            Comlink.proxy(async (i: number) => {
              await new Promise((res) => setTimeout(res, 1))
              return i * k
            }),
            4,
          ),
        ),
      ),
      'async callbacks',
    )
    expect(r).toEqual([10, 20, 30])
    await s.close()
  })

  it('releaseProxy frees the sub-channel on both sides, both ways', async () => {
    const { s } = await up('calc_server.mjs', ['calc'])
    const calc = wrapSession<Calc>(s)
    // main -> domain: a kept callback, released by the domain. Its channel is a
    // number on the session: no MessagePort is made (comlink's own handler makes one).
    const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length
    const portsBefore = ports()
    const got: number[] = []
    expect(
      await within(
        calc.subscribe(
          Comlink.proxy((v: number) => {
            got.push(v)
            return v + 1
          }),
        ),
        'subscribe',
      ),
    ).toBe(true)
    expect(comlinkStats(s).channels).toBe(1)
    expect(ports()).toBe(portsBefore)
    expect((await within(calc.stats(), 'stats')).channels).toBe(1)
    expect(await within(calc.emit(7), 'emit')).toBe(8)
    expect(await within(calc.unsubscribe(), 'unsubscribe')).toBe(true)
    await until(() => comlinkStats(s).channels === 0, 'the main side frees the callback channel')
    await untilAsync(async () => (await calc.stats()).channels === 0, 'the domain side frees it')
    expect(got).toEqual([7])

    // domain -> main: a proxy returned by the domain, released here.
    const c = await within(calc.makeCounter(5), 'makeCounter')
    expect(await within(c.inc(), 'inc')).toBe(6)
    expect(await within(c.inc(4), 'inc 4')).toBe(10)
    expect(await within(c.n, 'n')).toBe(10)
    expect(comlinkStats(s).channels).toBe(1)
    c[Comlink.releaseProxy]()
    await until(() => comlinkStats(s).channels === 0, 'the main side frees the counter channel')
    expect((await within(calc.stats(), 'stats after release')).channels).toBe(0)
    // A released proxy is unusable (comlink's own rule).
    expect(() => c.inc()).toThrow(/released/)

    // Releasing the session's own proxy: the domain stops exposing. A later wrap's
    // call gets an error answer, where comlink alone would wait forever.
    calc[Comlink.releaseProxy]()
    await until(() => comlinkStats(s).pending === 0, 'the release answered')
    await expect(within(wrapSession<Calc>(s).add(1, 2), 'after release')).rejects.toMatchObject({
      code: 'NO_SUCH_METHOD',
    })
    await s.close()
  })
})

describe('MessagePorts in a thread without comlink sessions', () => {
  it("keep comlink's own proxy handler (a MessageChannel per proxy)", async () => {
    const { port1, port2 } = new MessageChannel()
    try {
      Comlink.expose(
        { sumVia: async (cb: (i: number) => number) => (await cb(2)) + (await cb(3)) },
        port1,
      )
      const r = Comlink.wrap<{ sumVia(cb: (i: number) => number): Promise<number> }>(port2)
      expect(
        await within(r.sumVia(Comlink.proxy((i: number) => i * 10)), 'over a MessagePort'),
      ).toBe(50)
    } finally {
      port1.close()
      port2.close()
    }
  })
})

describe('channel death', () => {
  for (const how of ['kill', 'exit'] as const) {
    it(`pending calls reject SESSION_CLOSED when the server domain ${how === 'kill' ? 'is killed' : 'exits'}`, async () => {
      const { d, s } = await up('calc_server.mjs', ['calc'])
      const calc = wrapSession<Calc>(s)
      const pending = [calc.never(), calc.never(), calc.slow(60_000, 1)]
      const settled = Promise.allSettled(pending)
      // A callback call the server is waiting on dies with it too.
      const held = Promise.allSettled([
        calc.sumVia(
          Comlink.proxy(() => new Promise<number>(() => {})),
          1,
        ),
      ])
      await until(
        () => comlinkStats(s).pending === 4 && comlinkStats(s).channels === 1,
        'calls in flight',
      )
      if (how === 'kill') await rt.kill(d)
      else void calc.exit(0).catch(() => {})
      const results = await within(settled, 'pending calls settle')
      for (const r of results) {
        expect(r.status).toBe('rejected')
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'SESSION_CLOSED' })
      }
      const [h] = await within(held, 'callback call')
      expect(h.status).toBe('rejected')
      expect((h as PromiseRejectedResult).reason).toMatchObject({ code: 'SESSION_CLOSED' })
      expect(await within(s.closed, 'closed')).toBe('server-exit')
      // Later calls reject too, at once.
      await expect(within(calc.add(1, 2), 'after death')).rejects.toMatchObject({
        code: 'SESSION_CLOSED',
      })
      expect(comlinkStats(s)).toEqual({ channels: 0, pending: 0 })
    })
  }

  it('pending calls reject when the client closes the session', async () => {
    const { s } = await up('calc_server.mjs', ['calc'])
    const calc = wrapSession<Calc>(s)
    const p = Promise.allSettled([calc.never()])
    await until(() => comlinkStats(s).pending === 1, 'call in flight')
    await s.close()
    const [r] = await within(p, 'pending call')
    expect(r.status).toBe('rejected')
    expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'SESSION_CLOSED' })
  })
})

describe('live update', () => {
  it('a comlink call in flight is answered by the old incarnation; later calls reach the new one', async () => {
    await rt.services.up('calc', fixture('calc_server.mjs'), {
      argv: ['calc'],
      initTimeoutMs: 5000,
    })
    const s = await rt.session('calc', { label: 'test' })
    const calc = wrapSession<Calc>(s)
    const before = await within(calc.domainId, 'domainId')
    const slow = Promise.allSettled([calc.slow(300, 'done')])
    await until(() => comlinkStats(s).pending === 1, 'call in flight')
    const info = await within(rt.services.update('calc', fixture('calc_server.mjs')), 'update')
    expect(info.version).toBe(1)
    const [r] = await within(slow, 'the call in flight')
    expect(r).toEqual({ status: 'fulfilled', value: 'done' })
    expect(await within(calc.add(3, 4), 'after the update')).toBe(7)
    expect(await within(calc.domainId, 'domainId after')).not.toBe(before)
    await s.close()
  })
})

describe('domain <-> domain', () => {
  async function pair() {
    const calc = await up('calc_server.mjs', ['calc'], 1)
    await calc.s.close()
    const relay = await up('relay.mjs', ['relay', 'calc'], 0)
    return { calcD: calc.d, relayD: relay.d, s: relay.s, relay: wrapSession<Relay>(relay.s) }
  }

  it('one domain wraps what another exposes', async () => {
    const { calcD, relayD, s, relay } = await pair()
    expect(await within(relay.add(20, 22), 'add')).toBe(42)
    expect(await within(relay.whoServes(), 'whoServes')).toEqual({
      relay: relayD.id,
      server: calcD.id,
      label: 'relay -> relay',
    })
    await expect(within(relay.fail('deep'), 'fail')).rejects.toMatchObject({ message: 'deep' })
    await s.close()
  })

  it('callbacks both ways between two domains, and through two hops', async () => {
    const { s, relay } = await pair()
    // The relay's own callback, called by calc (relay -> calc sub-channel).
    expect(await within(relay.sumOwn(4), 'sumOwn')).toBe(100)
    // calc's counter, used and released by the relay (calc -> relay sub-channel).
    expect(await within(relay.counter(1, 3), 'counter')).toBe(7)
    // The main thread's callback, called by the relay inside its callback to calc.
    expect(
      await within(
        relay.sumVia(
          Comlink.proxy((i: number) => i + 100),
          3,
        ),
        'two hops',
      ),
    ).toBe(306)
    await s.close()
  })

  it('a pending call between two domains rejects when the server domain is killed', async () => {
    const { calcD, s, relay } = await pair()
    const outcome = relay.pendingThenOutcome()
    await untilAsync(
      async () => (await relay.stats()).mine?.pending === 1,
      'the relay waits on calc',
    )
    await rt.kill(calcD)
    expect(await within(outcome, 'outcome')).toMatchObject({ ok: false, code: 'SESSION_CLOSED' })
    await s.close()
  })
})
