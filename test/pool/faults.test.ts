// multikernel/pool faults (issue 13, part 1): a worker that crashes fails only the
// tasks it had in flight, with WORKER_FAILED; the reincarnation server restarts
// it, the pool reopens its session, and serves on. Nothing leaks: no domain, no
// session, no service after close.
import { afterEach, describe, expect, it } from 'vitest'
import { boot, KernelError, type Runtime } from 'multikernel'
import { Pool } from 'multikernel/pool'
import { within, until } from '../shared/bounded.js'

const TASK = new URL('./fixtures/task.mjs', import.meta.url)
const caught = (p: Promise<unknown>): Promise<unknown> => p.catch((e: unknown) => e)

let rt: Runtime | null = null
afterEach(async () => {
  if (rt !== null) await within(rt.shutdown(), 'shutdown')
  rt = null
})

describe('a worker that crashes', () => {
  it('fails only its own tasks in flight, is restarted, and the pool serves on', async () => {
    rt = await boot({ cores: 2, supervisor: { periodMs: 100 } })
    const pool = new Pool({
      runtime: rt,
      filename: TASK,
      maxThreads: 2,
      concurrentTasksPerWorker: 2,
    })
    await within(pool.ready, 'ready')
    const errors: unknown[] = []
    pool.on('error', (e) => errors.push(e))
    // The least busy worker takes each task: w0, w1, then w0 again.
    const onW0 = caught(pool.run(2000, { name: 'later' }))
    const onW1 = pool.run(300, { name: 'later' })
    await until(() => pool.threads[1].inFlight === 1, 'both busy')
    const crash = caught(pool.run(1, { name: 'crash' }))

    const e0 = await within(onW0, 'the crashed worker task rejects')
    const ec = await within(crash, 'the crashing task rejects')
    for (const e of [e0, ec]) {
      expect(KernelError.is(e, 'WORKER_FAILED')).toBe(true)
      expect(KernelError.is(e, 'SESSION_CLOSED')).toBe(true) // the cause says how it ended
    }
    expect(await within(onW1, 'the other worker task')).toBe(300)

    // Tasks keep being served meanwhile, and after the restart on both workers.
    const more = await within(
      Promise.all(Array.from({ length: 50 }, (_, i) => pool.run(i))),
      'tasks after the crash',
    )
    expect(more).toEqual(Array.from({ length: 50 }, (_, i) => i))
    await until(
      () => pool.threads[0].state === 'up' && pool.threads[0].restarts === 1,
      'w0 back up',
    )
    const served = await within(
      Promise.all(Array.from({ length: 40 }, () => pool.run(5, { name: 'later' }))),
      'tasks on both workers',
    )
    expect(served.every((v) => v === 5)).toBe(true)
    expect(pool.threads.map((t) => t.state)).toEqual(['up', 'up'])
    expect(errors.some((e) => KernelError.is(e, 'WORKER_FAILED'))).toBe(true)
    await within(pool.close(), 'close')
  })

  it('close leaves no domain, session or service behind on a runtime it was given', async () => {
    rt = await boot({ cores: 2 })
    const before = rt.domains().filter((d) => d.state === 'RUNNING').length
    const pool = new Pool({
      runtime: rt,
      filename: TASK,
      maxThreads: 3,
      concurrentTasksPerWorker: 4,
    })
    await within(Promise.all(Array.from({ length: 30 }, (_, i) => pool.run(i))), 'tasks')
    expect(rt.sessions().length).toBe(3)
    await within(pool.close(), 'close')
    expect(rt.sessions()).toEqual([])
    expect(rt.services.list()).toEqual([])
    await until(
      () => rt!.domains().filter((d) => d.state === 'RUNNING').length === before,
      'worker domains ended',
    )
  })
})

describe('scaling', () => {
  it('grows from minThreads to maxThreads under load, and idle workers above min stop', async () => {
    rt = await boot({ cores: 2 })
    const pool = new Pool({
      runtime: rt,
      filename: TASK,
      minThreads: 1,
      maxThreads: 2,
      idleTimeout: 50,
    })
    await within(pool.ready, 'ready')
    expect(pool.threads.length).toBe(1)
    await within(
      Promise.all(Array.from({ length: 20 }, () => pool.run(20, { name: 'later' }))),
      'load',
    )
    expect(pool.threads.length).toBe(2)
    await until(() => pool.threads.length === 1, 'the idle worker stopped')
    await until(() => rt!.services.list().length === 1, 'its service is down')
    await within(pool.close(), 'close')
  })
})
