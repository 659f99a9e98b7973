// Issue 10, item 2: any thrown value ends only its domain, with exit 1, reason
// 'error' and a safe description; a bystander on the same core keeps running.
import { afterEach, describe, expect, it } from 'vitest'
import { bystander, fixture, start, stop, within } from './helpers.js'

afterEach(stop)

const kinds: [string, RegExp][] = [
  ['null-proto', /non-Error object/],
  ['message-getter', /non-Error object|placeholder/],
  ['unprintable-cause', /^outer$/],
  ['proxy-cause', /^outer$/],
  ['proxy', /non-Error object/],
  ['proxy-error', /non-Error object/],
  ['tostring', /non-Error object/],
  ['name-getter', /^x$/],
  ['symbol', /a symbol/],
  ['revoked', /non-Error object/],
]

describe('a domain that throws a strange value', () => {
  it('ends alone (exit 1, error, safe description), every kind, one core', async () => {
    const { rt } = await start()
    const check = await bystander(rt, 1)
    for (const [kind, message] of kinds) {
      const d = await rt.spawn(fixture('throws.mjs'), { core: 1, argv: [kind] })
      const r = await within(rt.wait(d), `the ${kind} thrower to end`)
      expect({ kind, r }).toMatchObject({ kind, r: { exitCode: 1, reason: 'error' } })
      if (r.status === 'running') throw new Error('unreachable')
      expect(typeof r.error?.name).toBe('string')
      expect({ kind, message: r.error?.message }).toEqual({
        kind,
        message: expect.stringMatching(message),
      })
    }
    // The causes are described too, not dropped, and never by their toString.
    const d = await rt.spawn(fixture('throws.mjs'), { core: 1, argv: ['unprintable-cause'] })
    const r = await within(rt.wait(d), 'the cause thrower to end')
    if (r.status === 'running') throw new Error('unreachable')
    expect(r.error?.cause).toMatchObject({ name: 'NonError', message: 'a non-Error object' })
    expect(rt.coreHealth()).toEqual(['up', 'up'])
    expect(rt.stats()[1].requests).toBeGreaterThan(0)
    await check()
  })
})
