// Issue 10, item 4: a stray throw or rejection of one domain (a timer, an unhandled
// rejection, an abort listener) ends only that domain when it can be traced to it
// (AsyncLocalStorage); one that cannot (a timer set at a module's evaluation, which
// belongs to no dispatcher) stays a core fault.
import { afterEach, describe, expect, it } from 'vitest'
import { CORE_FAILED_EXIT_CODE } from 'multikernel'
import { bystander, fixture, spawnWhenUp, start, stop, within } from './helpers.js'

afterEach(stop)

describe('a stray fault traced to its domain', () => {
  for (const kind of ['timer', 'rejection', 'nested']) {
    it(`${kind}: only that domain ends (exit 1, error); its neighbour lives`, async () => {
      const { rt, rec } = await start()
      const check = await bystander(rt, 1)
      const d = await rt.spawn(fixture('stray.mjs'), { core: 1, argv: [kind] })
      const r = await within(rt.wait(d), `the ${kind} domain to end`)
      expect(r).toMatchObject({ exitCode: 1, reason: 'error' })
      if (r.status === 'running') throw new Error('unreachable')
      expect(r.error?.message).toMatch(/thrown|nobody handles/)
      expect(rt.coreHealth()).toEqual(['up', 'up'])
      expect(rec.of('core-failed')).toEqual([])
      await check()
    })
  }

  it('a throw in its own abort listener, when killed: it ends killed, nothing else', async () => {
    const { rt, rec } = await start()
    const check = await bystander(rt, 1)
    const d = await rt.spawn(fixture('stray.mjs'), { core: 1, argv: ['abort'] })
    await rt.kill(d)
    expect(await within(rt.wait(d), 'the killed domain')).toMatchObject({ reason: 'killed' })
    // The listener's throw is reported after the kill; the core must survive it.
    const after = await rt.spawn(fixture('ok.mjs'), { core: 1 })
    expect(await within(rt.wait(after), 'a later domain')).toMatchObject({ exitCode: 7 })
    expect(rec.of('core-failed')).toEqual([])
    await check()
  })
})

describe('a stray fault that cannot be traced', () => {
  it('a timer set at module evaluation is a core fault: domains there end core-failed', async () => {
    const { rt, rec } = await start()
    const other = await bystander(rt, 0)
    const d = await rt.spawn(fixture('module-scope.mjs'), { core: 1 })
    const r = await within(rt.wait(d), 'the domain on the failed core')
    expect(r).toMatchObject({ exitCode: CORE_FAILED_EXIT_CODE, reason: 'core-failed' })
    if (r.status === 'running') throw new Error('unreachable')
    expect(r.error).toMatchObject({ name: 'CoreFailed', code: 'CORE_FAILED' })
    const failed = await rec.waitFor('core-failed', (e) => e.core === 1)
    expect(failed.why).toMatch(/exited|error/)
    await rec.waitFor('core-restarted', (e) => e.core === 1)
    const after = await spawnWhenUp(rt, fixture('ok.mjs'), 1)
    expect(await within(rt.wait(after), 'a domain on the fresh core')).toMatchObject({
      exitCode: 7,
    })
    await other()
  })
})
