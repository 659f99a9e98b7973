// rt.wait(d, { reap: true }) answers with the entry already reaped, whether the
// domain was still running when waited for or had already stopped; and a second
// wait made in the same turn as a reaping one still finds the domain.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { boot, type Runtime } from 'multikernel'
import { within } from '../shared/bounded.js'

const prog = fileURLToPath(new URL('./fixtures/behave.mjs', import.meta.url))
let rt: Runtime

beforeAll(async () => {
  rt = await boot({ cores: 2 })
})
afterAll(() => rt.shutdown())

describe('rt.wait with reap', () => {
  it('a domain still running when waited for is gone when the wait answers', async () => {
    const d = await rt.spawn(prog, { argv: ['return', '4', '30'] })
    expect(rt.status(d).state).toBe('RUNNING')
    const r = await within(rt.wait(d, { reap: true }), 'reaping wait')
    expect(r).toMatchObject({ exitCode: 4 })
    expect(() => rt.status(d)).toThrow(expect.objectContaining({ code: 'DOMAIN_NOTFOUND' }))
  })

  it('a domain already stopped is gone when the wait answers; a wait in the same turn finds it', async () => {
    const d = await rt.spawn(prog, { argv: ['return', '5'] })
    await within(rt.wait(d), 'plain wait')
    const first = rt.wait(d, { reap: true })
    const second = rt.wait(d, { reap: true })
    expect(rt.status(d).state).toMatch(/STOPPED|CLEANED/)
    const [a, b] = await within(Promise.all([first, second]), 'both waits')
    expect(a).toMatchObject({ exitCode: 5 })
    expect(b).toMatchObject({ exitCode: 5 })
    await within(rt.ping(0), 'a ping after the cleanup')
    await within(rt.ping(1), 'a ping after the cleanup')
    expect(() => rt.status(d)).toThrow(expect.objectContaining({ code: 'DOMAIN_NOTFOUND' }))
  })
})
