// No leak: every entry of 10,000 short-lived descendants is freed in the end,
// whether reaped by handle, reaped as "any child", or detached (noreap).
import { afterEach, beforeEach, expect, it } from 'vitest'
import { boot, type Runtime } from 'multikernel'
import { Scratch, fixture, until, within } from './helpers.js'

let rt: Runtime
let s: Scratch

beforeEach(async () => {
  rt = await boot({ cores: 2 })
  s = new Scratch()
})

afterEach(async () => {
  await rt.shutdown()
  s.cleanup()
})

it('10,000 short-lived descendants leave no entry behind', { timeout: 60_000 }, async () => {
  const freed = rt.freedDomains
  const plan: [mode: string, count: number][] = [
    ['reap-one', 3000],
    ['reap-any', 3000],
    ['noreap', 2000],
    ['noreap', 2000],
  ]
  const parents = await Promise.all(
    plan.map(([mode, count], i) =>
      rt.spawn(fixture('churn.mjs'), {
        argv: [String(count), '32', mode],
        env: { OUT: s.path(`out${i}`) },
        core: i % 2,
      }),
    ),
  )
  for (const [i, p] of parents.entries()) {
    const r = await within(rt.wait(p), `churn parent ${i}`, 50_000)
    expect(r).toMatchObject({ exitCode: 0, reason: 'exited' })
    const [mode, count] = plan[i]
    const out = s.read<{
      started: number
      reaped: number
      distinct: number
      errors: unknown[]
    }>(`out${i}`)!
    expect(out.started).toBe(count)
    expect(out.errors).toEqual([])
    // Each child reaped exactly once (or, detached, never).
    const reaped = mode === 'noreap' ? 0 : count
    expect(out.reaped).toBe(reaped)
    expect(out.distinct).toBe(reaped)
  }
  // Detached children still finishing keep their parent as a tombstone; then only
  // the four parents are left, for the root to reap.
  await until(() => rt.domains().length === parents.length, 'only the parents left', 20_000)
  for (const d of rt.domains()) expect(d).toMatchObject({ children: [], parent: null })
  for (const p of parents) await within(rt.wait(p, { reap: true }), 'root reaps parent')
  await until(() => rt.domains().length === 0, 'every entry freed')
  expect(rt.freedDomains - freed).toBe(10_000 + parents.length)
  expect(rt.tree()).toEqual([])
})
