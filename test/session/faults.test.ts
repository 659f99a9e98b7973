// Session faults (issue 12, item 7): a server that exits, is killed or loses its
// core closes every session it served at once, saying why, and clients can open
// again (reaching a restarted service); a client that dies runs the server's close;
// an end dying during the open rolls everything back; shutdown closes every session.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { boot, type Runtime } from 'multikernel'
import { within, until } from '../shared/bounded.js'
import { collector, fixture, openWhenServed, scripts } from './domains.js'

let rt: Runtime
let log: ReturnType<typeof collector<Ev>>

beforeEach(async () => {
  rt = await boot({ cores: 2 })
  log = collector<Ev>(rt, 'log', 'ev')
})

afterEach(async () => {
  await within(rt.shutdown(), 'shutdown')
})

interface Ev {
  server: number
  ev: string
  id: number
  why?: string
}

async function server(name = 'kv', core = 1) {
  const d = await rt.spawn(fixture('kv_server.mjs'), { core, argv: [name, 'log'], label: name })
  await (await openWhenServed(rt, name)).close()
  return d
}

describe('server faults', () => {
  for (const how of ['exit', 'kill', 'core'] as const) {
    it(`a server that ${how === 'core' ? 'loses its core' : how + 's'} rejects pending calls SESSION_CLOSED at once and says why`, async () => {
      const d = await server()
      const kv = await rt.session('kv')
      // Its rejection is taken at once: it comes while the fault below is being made.
      const pending = kv.call('never').catch((e: unknown) => e)
      if (how === 'exit') await kv.call('exit', 3)
      else if (how === 'kill') await rt.kill(d)
      else await rt.worker(1).terminate()
      expect(await within(pending, 'pending call')).toMatchObject({ code: 'SESSION_CLOSED' })
      expect(await within(kv.closed, 'closed')).toBe(how === 'core' ? 'core-failed' : 'server-exit')
      await expect(kv.call('echo', 1)).rejects.toMatchObject({ code: 'SESSION_CLOSED' })
      // Its quota came back: every byte is accounted for (the server's own sessions, as
      // a client of 'log', close a moment later, once the main thread's close ran).
      await until(() => rt.quotaTotals().sessions.bytes === 0, 'every session closed')
      const t = rt.quotaTotals()
      expect(t.sessions).toEqual({ bytes: 0, handles: 0 })
      expect(t.root.bytes + t.domains.bytes).toBe(t.total.bytes)
    })
  }

  it('a client can open again and reach a restarted service', async () => {
    const info = await rt.services.up('kv', fixture('kv_server.mjs'), { argv: ['kv', 'log'] })
    const reopen = () => openWhenServed(rt, 'kv')
    const kv = await reopen()
    expect(((await kv.call('whoami')) as { domainId: number }).domainId).toBe(info.domain!.id)
    await rt.kill(info.domain!)
    expect(await within(kv.closed, 'closed')).toBe('server-exit')
    const again = await reopen()
    const who = (await again.call('whoami')) as { domainId: number }
    expect(who.domainId).not.toBe(info.domain!.id)
    await again.close()
  })
})

describe('client faults', () => {
  it("a client that dies closes its sessions and the server's close runs", async () => {
    await server()
    const sc = scripts(rt)
    const run = await sc.run([
      { op: 'session', name: 'kv', as: 'kv' },
      { op: 'call', s: 'kv', method: 'echo', args: [1] },
      { op: 'hold' },
    ])
    await run.step(1)
    const id = rt.sessions().find((s) => s.client === run.d.id && s.service === 'kv')!.id
    await rt.kill(run.d)
    await log.until((all) => all.find((e) => e.ev === 'close' && e.id === id), 'server close ran')
    expect(log.got.find((e) => e.ev === 'close' && e.id === id)!.why).toBe('client-exit')
    await until(() => rt.sessions().every((s) => s.client !== run.d.id), 'session gone')
  })

  it('an end dying during the open rolls everything back', async () => {
    const d = await server()
    const total = rt.quotaTotals()
    // The server hangs in open(); killing it fails the open, nothing is lost.
    const opening = rt.session('kv', { args: { hang: true } })
    await until(() => rt.sessions().some((s) => s.state === 'CREATE_REQUESTED'), 'open pending')
    await rt.kill(d)
    await expect(within(opening, 'open')).rejects.toMatchObject({ code: 'SERVICE_DENIED' })
    expect(rt.sessions()).toEqual([])
    expect(rt.quotaTotals().root).toEqual(total.root)
  })
})

describe('a client dying during the open', () => {
  it('rolls back: the session never reaches the client, the server closes it, the quota comes back', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const closes: string[] = []
    rt.serve('gated', {
      open: async () => {
        await gate
        return { ping: () => 1 }
      },
      close: (_req, why) => void closes.push(why),
    })
    const sc = scripts(rt)
    const run = await sc.run([{ op: 'session', name: 'gated', as: 'g' }], {
      quota: { bytes: 1 << 20, handles: 8 },
    })
    await until(() => rt.sessions().some((s) => s.service === 'gated'), 'open pending')
    await rt.kill(run.d)
    release()
    await until(() => rt.sessions().every((s) => s.service !== 'gated'), 'rolled back')
    // The server's open finished after its client died: it made the session, so it closes it.
    await until(() => closes.length > 0, 'server close ran')
    expect(closes).toEqual(['client-exit'])
    await until(() => rt.quotaTotals().sessions.bytes === 0, 'quota back')
    const t = rt.quotaTotals()
    expect(t.root.bytes + t.domains.bytes).toBe(t.total.bytes)
  })
})

describe('handlers that never answer (sessionAnswerMs)', () => {
  it('an open that never returns is refused in time; a close handler that never returns does not hold the close', async () => {
    await rt.shutdown()
    rt = await boot({ cores: 2, sessionAnswerMs: 300 })
    log = collector<Ev>(rt, 'log', 'ev')
    await server()
    const before = rt.quotaTotals().root
    const err = await within(rt.session('kv', { args: { hang: true } }), 'open').catch(
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ code: 'SERVICE_DENIED', cause: { code: 'TIMEOUT' } })
    expect(rt.quotaTotals().root).toEqual(before)
    rt.serve('stuck', { open: () => ({ ping: () => 1 }), close: () => new Promise(() => {}) })
    const s = await rt.session('stuck')
    await within(s.close(), 'close')
    expect(await s.closed).toBe('closed')
    expect(rt.sessions().filter((x) => x.service === 'stuck')).toEqual([])
  })
})

describe('shutdown', () => {
  it('closes every session in order, runs the servers’ close, and settles every call', async () => {
    const closedWhy: string[] = []
    rt.serve('main-svc', {
      open: () => ({ never: () => new Promise(() => {}) }),
      close: (_req, why) => void closedWhy.push(why),
    })
    await server()
    const a = await rt.session('kv')
    const b = await rt.session('main-svc')
    const pa = a.call('never').catch((e: unknown) => e)
    const pb = b.call('never').catch((e: unknown) => e)
    await within(rt.shutdown(), 'shutdown')
    expect(await within(pa, 'a')).toMatchObject({ code: 'SESSION_CLOSED' })
    expect(await within(pb, 'b')).toMatchObject({ code: 'SESSION_CLOSED' })
    expect(await a.closed).toBe('shutdown')
    expect(await b.closed).toBe('shutdown')
    expect(closedWhy).toEqual(['shutdown'])
  })
})
