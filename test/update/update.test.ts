// Live update (issue 14, MINIX 3's RS_UPDATE): a counter service under steady load
// (client domains and the main thread calling it all the time) is updated 20 times:
// every call answered exactly once, the count exact, no session closed. Each cause
// of a rollback, under the same load, leaves the old incarnation serving with its
// state. An update racing a kill, a core failure, or shutdown: nothing hangs.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { boot, KernelError, type DomainCap, type Runtime } from 'multikernel'
import { within, until } from '../shared/bounded.js'

const counter = (mode: string, n = 0): URL =>
  new URL(`./fixtures/counter.mjs?mode=${mode}&n=${n}`, import.meta.url)
const hammer = new URL('./fixtures/hammer.mjs', import.meta.url)

interface Done {
  domainId: number
  ok: number
  errors: string[]
  closed: string | null
}

let rt: Runtime
let done: Done[]
let events: { type: string; label?: string; why?: string }[]

beforeEach(async () => {
  rt = await boot({ cores: 2 })
  done = []
  events = []
  rt.serve('report', { open: () => ({ done: (d: Done) => void done.push(d) }) })
  for (const t of ['update-started', 'updated', 'update-rolled-back'])
    rt.events.on(t, (e: { type: string }) => events.push(e))
  await rt.services.up('counter', counter('v1'), { initTimeoutMs: 5000 })
})

afterEach(async () => {
  await within(rt.shutdown(), 'shutdown')
})

/** Load: `clients` hammer domains and the main thread, calling inc(1) until stopped. */
async function load(clients = 3) {
  const doms: DomainCap[] = []
  for (let i = 0; i < clients; i++) doms.push(await rt.spawn(hammer, { core: i % 2, argv: ['2'] }))
  const main = await rt.session('counter')
  let mainOk = 0
  const mainErrors: string[] = []
  let stop = false
  const lane = (async () => {
    while (!stop) {
      try {
        await main.call('inc', 1)
        mainOk++
      } catch (e) {
        mainErrors.push(String(e))
        if (mainErrors.length > 20) return
      }
    }
  })()
  return {
    main,
    async stop() {
      stop = true
      await within(lane, 'main lane')
      for (const d of doms) await within(rt.terminate(d, 5000), 'hammer ends')
      await until(() => done.length === clients, 'every hammer reported')
      const ok = done.reduce((n, d) => n + d.ok, 0) + mainOk
      const errors = done.flatMap((d) => d.errors).concat(mainErrors)
      const closed = done.map((d) => d.closed).filter((c) => c !== null)
      return { ok, errors, closed }
    },
  }
}

async function count(): Promise<number> {
  const s = await rt.session('counter')
  const n = (await s.call('get')) as number
  await s.close()
  return n
}

describe('live update', () => {
  it('20 updates in a row under load: every call answered once, the count exact, no session closed', async () => {
    const l = await load()
    for (let i = 1; i <= 20; i++) {
      const info = await within(
        rt.services.update('counter', counter(i % 2 === 0 ? 'v1' : 'v2', i)),
        `update ${i}`,
      )
      expect(info.version).toBe(i)
      expect(info.program).toContain(`n=${i}`)
    }
    expect(await l.main.call('version')).toBe('v1')
    const r = await l.stop()
    expect(r.errors).toEqual([])
    expect(r.closed).toEqual([])
    expect(r.ok).toBeGreaterThan(0)
    expect(await count()).toBe(r.ok)
    expect(events.filter((e) => e.type === 'updated')).toHaveLength(20)
    expect(events.filter((e) => e.type === 'update-rolled-back')).toHaveLength(0)
    expect(rt.services.lookup('counter')).toMatchObject({ state: 'running', version: 20 })
  }, 120_000)

  const causes: [string, () => Promise<unknown>][] = [
    [
      'the program does not load',
      () => rt.services.update('counter', new URL('./fixtures/nope.mjs', import.meta.url)),
    ],
    ['it throws while starting', () => rt.services.update('counter', counter('throws', 1))],
    ['it rejects the state', () => rt.services.update('counter', counter('reject', 2))],
    [
      'it misses initTimeoutMs',
      () => rt.services.update('counter', counter('never', 3), { initTimeoutMs: 300 }),
    ],
    [
      'it misses the update timeoutMs',
      () =>
        rt.services.update('counter', counter('never', 4), { timeoutMs: 400, initTimeoutMs: 5000 }),
    ],
    ['it refuses a session it adopts', () => rt.services.update('counter', counter('refuse', 5))],
  ]
  for (const [why, update] of causes) {
    it(`rolls back when ${why}: the old incarnation serves on, its state intact`, async () => {
      const before = rt.services.lookup('counter')!
      const l = await load(2)
      await new Promise((r) => setTimeout(r, 50))
      const err = await within(update(), 'update').then(
        () => null,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(KernelError)
      expect((err as KernelError).code).toBe('UPDATE_FAILED')
      const r = await l.stop()
      expect(r.errors).toEqual([])
      expect(r.closed).toEqual([])
      expect(await count()).toBe(r.ok)
      const after = rt.services.lookup('counter')!
      expect(after.domain!.id).toBe(before.domain!.id)
      expect(after.version).toBe(0)
      expect(events.map((e) => e.type)).toEqual(['update-started', 'update-rolled-back'])
    }, 60_000)
  }

  it('a service that cannot reach a quiescent point in time is not touched', async () => {
    const s = await rt.session('counter')
    await s.call('inc', 5)
    const slow = s.call('slow', 1500)
    const err = await within(
      rt.services.update('counter', counter('v2', 9), { timeoutMs: 200 }),
      'update',
    ).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'UPDATE_FAILED' })
    expect(await within(slow, 'slow call')).toBe(5)
    expect(await s.call('inc', 1)).toBe(6)
    expect(await s.call('version')).toBe('v1')
  })

  it('an update racing a kill of the old incarnation: the update fails, the service restarts, nothing hangs', async () => {
    const old = rt.services.lookup('counter')!.domain!
    const p = rt.services
      .update('counter', counter('never', 1), { initTimeoutMs: 2000 })
      .catch((e: unknown) => e)
    await until(() => events.some((e) => e.type === 'update-started'), 'started')
    await rt.kill(old)
    expect(await within(p, 'update')).toMatchObject({ code: 'UPDATE_FAILED' })
    await until(() => rt.services.lookup('counter')?.state === 'running', 'restarted')
    expect(await count()).toBe(0)
  })

  it('a core failure during the update: the update fails, nothing hangs', async () => {
    const p = rt.services
      .update('counter', counter('never', 1), { initTimeoutMs: 2000 })
      .catch((e: unknown) => e)
    await until(() => events.some((e) => e.type === 'update-started'), 'started')
    await rt.worker(0).terminate()
    await rt.worker(1).terminate()
    expect(await within(p, 'update')).toMatchObject({ code: 'UPDATE_FAILED' })
  })

  it('shutdown during an update settles it', async () => {
    const p = rt.services
      .update('counter', counter('never', 1), { initTimeoutMs: 5000 })
      .catch((e: unknown) => e)
    await until(() => events.some((e) => e.type === 'update-started'), 'started')
    await within(rt.shutdown(), 'shutdown')
    expect(await within(p, 'update')).toBeInstanceOf(KernelError)
  })

  it('bad input: an unknown service, a service updating already, bad options', async () => {
    await expect(rt.services.update('nope', counter('v2'))).rejects.toMatchObject({
      code: 'SERVICE_NOTFOUND',
    })
    await expect(
      rt.services.update('counter', counter('v2'), { timeoutMs: -1 }),
    ).rejects.toBeInstanceOf(RangeError)
    await expect(
      rt.services.update('counter', counter('v2'), { nope: 1 } as never),
    ).rejects.toBeInstanceOf(TypeError)
    const first = rt.services.update('counter', counter('never', 1), { initTimeoutMs: 500 })
    await expect(rt.services.update('counter', counter('v2', 2))).rejects.toMatchObject({
      code: 'UPDATE_FAILED',
    })
    await expect(first).rejects.toMatchObject({ code: 'UPDATE_FAILED' })
  })
})
