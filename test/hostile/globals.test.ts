// Issue 10, item 3: a domain that replaces a global of its core's realm breaks at
// most itself; the spawnd keeps its own intrinsics, so a later spawn on that core
// works and a bystander's calls keep being answered. A core whose protocol keeps
// failing anyway is judged unhealthy and restarted.
import { afterEach, describe, expect, it } from 'vitest'
import { KernelError } from 'multikernel'
import { bystander, fixture, spawnWhenUp, start, stop, within } from './helpers.js'

afterEach(stop)

const globals = [
  'JSON',
  'JSON.parse',
  'Atomics.notify',
  'Atomics',
  'TextDecoder.prototype.decode',
  'Array.prototype.push',
  'Map.prototype.get',
  'Promise.prototype.then',
  'Promise',
  'timers',
  'Number.isInteger',
  'Buffer.byteLength',
  'Uint8Array.prototype.set',
  'Function.prototype.call',
  'URL',
  'AbortController',
]

describe('a domain that replaces a global', () => {
  for (const g of globals) {
    it(`${g}: later spawns on its core work, a bystander lives, the core stays up`, async () => {
      const { rt, rec } = await start()
      const check = await bystander(rt, 1)
      const h = await rt.spawn(fixture('replace.mjs'), { core: 1, argv: [g] })
      expect(await within(rt.wait(h), 'the replacer to end')).toMatchObject({ exitCode: 0 })
      for (let i = 0; i < 3; i++) {
        const d = await rt.spawn(fixture('ok.mjs'), { core: 1, argv: ['x'], env: { K: 'v' } })
        expect(await within(rt.wait(d), 'a later domain to end')).toMatchObject({
          exitCode: 7,
          reason: 'exited',
        })
      }
      // A throw's error text, a ps table and a kill still cross the rings.
      const t = await rt.spawn(fixture('throws.mjs'), { core: 1, argv: ['proxy'] })
      expect(await within(rt.wait(t), 'a thrower to end')).toMatchObject({ reason: 'error' })
      expect((await rt.ps(1)).length).toBeGreaterThan(0)
      await rt.ping(1)
      expect(rt.coreHealth()).toEqual(['up', 'up'])
      expect(rec.of('core-failed')).toEqual([])
      await check()
    })
  }
})

describe('a core whose protocol keeps failing', () => {
  it('is judged unhealthy, restarted, and serves again', async () => {
    const { rt, rec } = await start()
    const h = await rt.spawn(fixture('species.mjs'), { core: 1 })
    expect(await within(rt.wait(h), 'the poisoner to end')).toMatchObject({ exitCode: 0 })
    // Pings still work (no text): the ping rule alone would never restart it.
    await rt.ping(1)
    const codes: string[] = []
    const d = await spawnWhenUp(rt, fixture('ok.mjs'), 1)
    expect(await within(rt.wait(d), 'a domain on the fresh core')).toMatchObject({ exitCode: 7 })
    const unhealthy = await rec.waitFor('core-unhealthy', (e) => e.core === 1)
    expect(unhealthy.protocolFailures).toBeGreaterThanOrEqual(3)
    const failed = await rec.waitFor('core-failed', (e) => e.core === 1)
    expect(failed.why).toMatch(/unhealthy: \d+ PROTOCOL replies in a row/)
    await rec.waitFor('core-restarted', (e) => e.core === 1)
    // Before the restart, spawns there were refused PROTOCOL (or CORE_FAILED at the switch).
    for (const e of rec.of('exited')) codes.push(e.reason)
    expect(rt.coreHealth()).toEqual(['up', 'up'])
    expect(KernelError).toBeDefined()
  })
})
