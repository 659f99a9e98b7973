// Issue 10, item 7: every distinct program URL stays in its worker's module cache
// for good, so a core that has imported more than maxCoreModules of them is retired
// and replaced by a fresh spawnd once it hosts nothing. Not a fault: nothing ends,
// no spawn is refused, and a core that hosts something is not retired under it.
import { afterEach, describe, expect, it } from 'vitest'
import { fixture, start, stop, until, within } from './helpers.js'

afterEach(stop)

function version(i: number): URL {
  const u = fixture('ok.mjs')
  u.search = `?v=${i}`
  return u
}

describe('the module bound', () => {
  it('retires a core past maxCoreModules once idle; spawns meanwhile all work', async () => {
    const { rt, rec } = await start({ maxCoreModules: 5, supervisor: { periodMs: 100 } })
    const workers = new Set([rt.worker(1)])
    for (let i = 0; i < 40; i++) {
      const d = await rt.spawn(version(i), { core: 1 })
      expect(await within(rt.wait(d), `v=${i}`)).toMatchObject({ exitCode: 7, reason: 'exited' })
      workers.add(rt.worker(1))
      // Give the monitor a period now and then to see the core idle.
      if (i % 8 === 7) await until(() => rec.of('core-retired').length >= (i + 1) / 8, 'a retire')
    }
    const retired = rec.of('core-retired')
    expect(retired.length).toBeGreaterThanOrEqual(4)
    for (const e of retired) expect(e).toMatchObject({ core: 1 })
    for (const e of retired) expect(e.modules).toBeGreaterThan(5)
    // Each retire put a fresh worker in place; nothing failed.
    expect(workers.size).toBeGreaterThanOrEqual(retired.length)
    expect(rec.of('core-failed')).toEqual([])
    expect(rt.coreHealth()).toEqual(['up', 'up'])
  })

  it('does not retire a core that hosts a domain, however many modules it loaded', async () => {
    const { rt, rec } = await start({ maxCoreModules: 3, supervisor: { periodMs: 100 } })
    const host = await rt.spawn(fixture('bystander.mjs'), { core: 1 })
    for (let i = 0; i < 10; i++) await within(rt.wait(await rt.spawn(version(i), { core: 1 })), 'v')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(rec.of('core-retired')).toEqual([])
    expect(rt.status(host).state).toBe('RUNNING')
    const r = await within(rt.terminate(host, 5000), 'the host')
    expect(r).toMatchObject({ exitCode: 0, reason: 'exited' })
    // Now it hosts nothing: retired.
    await rec.waitFor('core-retired', (e) => e.core === 1)
    const d = await rt.spawn(fixture('ok.mjs'), { core: 1 })
    expect(await within(rt.wait(d), 'a domain on the fresh core')).toMatchObject({ exitCode: 7 })
    expect(rec.of('core-failed')).toEqual([])
  })

  it('spawns racing retires: every one is answered and runs', async () => {
    const { rt, rec } = await start({ maxCoreModules: 4, supervisor: { periodMs: 100 } })
    let seed = 7
    const random = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 1000) / 1000
    let n = 0
    const results: unknown[] = []
    const enough = (): boolean => n >= 200 && rec.of('core-retired').length >= 3
    // Four lanes that pause at random: the core is idle now and then, at moments
    // the lanes cannot see, so some spawns land right as the monitor retires it.
    const lane = async (): Promise<void> => {
      while (!enough()) {
        const i = n++
        const d = await rt.spawn(version(i % 60), { core: 1 })
        results.push(await within(rt.wait(d, { reap: true }), `v=${i}`))
        await new Promise((resolve) => setTimeout(resolve, random() * 60))
      }
    }
    await within(Promise.all(Array.from({ length: 4 }, lane)), 'three retires', 60_000)
    expect(results).toHaveLength(n)
    for (const r of results) expect(r).toMatchObject({ exitCode: 7, reason: 'exited' })
    expect(rec.of('core-failed')).toEqual([])
  })
})
