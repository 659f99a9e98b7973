// multikernel/pool (issue 13, part 1): piscina 5's API over sessions to
// supervised worker domains. The behaviours piscina's own suite checks, in our
// words: option checks, the default and named exports, async tasks, errors
// thrown by tasks, abort before and during a run, queue limits and the
// drain/needsDrain events, histograms, close and destroy with tasks in flight.
import { afterEach, describe, expect, it } from 'vitest'
import { boot, KernelError, type Runtime } from 'multikernel'
import { AbortError, Pool } from 'multikernel/pool'
import { within, until } from '../shared/bounded.js'

const TASK = new URL('./fixtures/task.mjs', import.meta.url)

const open: Pool[] = []
function pool(opts: ConstructorParameters<typeof Pool>[0] = {}): Pool {
  const p = new Pool({ filename: TASK, maxThreads: 2, ...opts })
  open.push(p)
  return p
}

/** The promise's rejection (or value), handled at once: no unhandled rejection meanwhile. */
const caught = (p: Promise<unknown>): Promise<unknown> => p.catch((e: unknown) => e)

afterEach(async () => {
  await within(Promise.all(open.splice(0).map((p) => p.destroy())), 'destroy pools')
})

describe('options are checked as piscina checks them', () => {
  it.each([
    [{ filename: 12 }, TypeError],
    [{ name: 3 }, TypeError],
    [{ minThreads: -1 }, TypeError],
    [{ minThreads: 1.5 }, TypeError],
    [{ maxThreads: 0 }, TypeError],
    [{ minThreads: 4, maxThreads: 2 }, RangeError],
    [{ idleTimeout: -1 }, TypeError],
    [{ maxQueue: -1 }, TypeError],
    [{ maxQueue: 'lots' }, TypeError],
    [{ concurrentTasksPerWorker: 0 }, TypeError],
    [{ resourceLimits: 1 }, TypeError],
    [{ recordTiming: 'yes' }, TypeError],
    [{ closeTimeout: -5 }, TypeError],
    [{ atomics: 'maybe' }, TypeError],
    [{ capacity: 1000 }, RangeError],
    [{ maxThread: 2 }, TypeError], // a typo is refused, not ignored
    [{ filename: 'https://example.com/t.mjs' }, TypeError],
  ])('%o is refused', (opts, E) => {
    expect(() => new Pool(opts as never)).toThrow(E)
  })

  it('run() refuses bad arguments with a rejected promise', async () => {
    const p = pool()
    await expect(p.run(1, null as never)).rejects.toThrow(TypeError)
    await expect(p.run(1, { name: 3 as never })).rejects.toThrow(TypeError)
    await expect(p.run(1, { filename: 3 as never })).rejects.toThrow(TypeError)
    await expect(p.run(1, { signal: 3 as never })).rejects.toThrow(TypeError)
    await expect(p.run(1, { transferList: 3 as never })).rejects.toThrow(TypeError)
    const none = pool({ filename: null })
    await expect(none.run(1)).rejects.toThrow(/filename must be provided/)
  })

  it('fills in the defaults: maxQueue auto is maxThreads squared', () => {
    const p = pool({ maxQueue: 'auto', maxThreads: 3 })
    expect(p.options.maxQueue).toBe(9)
    expect(p.options.minThreads).toBe(3)
    expect(p.options.concurrentTasksPerWorker).toBe(1)
    expect(p.options.name).toBe('default')
    expect(p.options.recordTiming).toBe(true)
  })
})

describe('tasks', () => {
  it('runs the default export, named exports, async ones, and another module', async () => {
    const p = pool()
    await within(p.ready, 'pool ready')
    expect(await p.run({ a: [1, 2], d: new Date(0) })).toEqual({ a: [1, 2], d: new Date(0) })
    expect(await p.run({ a: 2, b: 3 }, { name: 'add' })).toBe(5)
    expect(await p.run(5, { name: 'later' })).toBe(5)
    expect(await p.run(100, { name: 'sum' })).toBe(5050)
    const other = new URL('./fixtures/other.mjs', import.meta.url)
    expect(await p.run(2, { filename: other })).toBe(4)
    expect(await p.run(2, { filename: other.pathname, name: 'triple' })).toBe(6)
    expect(p.completed).toBe(6)
  })

  it('a CommonJS module: module.exports is the default, its properties the names', async () => {
    const p = pool({ filename: new URL('./fixtures/task.cjs', import.meta.url) })
    expect(await p.run({ a: 2, b: 3 })).toBe(5)
    expect(await p.run(7, { name: 'square' })).toBe(49)
  })

  it('a task that throws rejects with its own error; the worker serves on', async () => {
    const p = pool()
    const err = await p.run('bad input', { name: 'boom' }).catch((e: unknown) => e)
    // The task's own TypeError, rebuilt from the ring (name, message, stack).
    expect((err as Error).name).toBe('TypeError')
    expect((err as Error).message).toBe('bad input')
    await expect(p.run(1, { name: 'nope' })).rejects.toThrow(/no handler function 'nope'/)
    await expect(p.run(1, { filename: '/no/such/module.mjs' })).rejects.toThrow()
    expect(await p.run(7)).toBe(7)
  })

  it('a value structured clone refuses, or too large for the ring, rejects that task only', async () => {
    const p = pool({ capacity: 4096 })
    const fn = await p.run((() => 1) as never).catch((e: unknown) => e)
    expect(KernelError.is(fn, 'NOT_CLONEABLE')).toBe(true)
    const big = await p.run('x'.repeat(10_000)).catch((e: unknown) => e)
    expect(KernelError.is(big, 'MESSAGE_TOO_LARGE')).toBe(true)
    expect(await p.run('small')).toBe('small')
    expect(p.threads.every((t) => t.inFlight === 0)).toBe(true)
  })

  it('many tasks in flight on each worker, answered in whatever order they finish', async () => {
    const p = pool({ concurrentTasksPerWorker: 8 })
    const out = await within(
      Promise.all(Array.from({ length: 200 }, (_, i) => p.run(i % 7, { name: 'later' }))),
      '200 async tasks',
    )
    expect(out).toEqual(Array.from({ length: 200 }, (_, i) => i % 7))
    expect(p.queueSize).toBe(0)
  })

  it('on a running runtime: the pool never shuts it down', async () => {
    const rt: Runtime = await boot({ cores: 1 })
    try {
      const p = new Pool({ runtime: rt, filename: TASK, maxThreads: 2 })
      expect(await p.run(3)).toBe(3)
      expect(p.threads.map((t) => t.core)).toEqual([0, 0])
      await p.close()
      expect(rt.isShutdown).toBe(false)
      expect(rt.services.list()).toEqual([])
      await expect(p.run(1)).rejects.toThrow(AbortError)
    } finally {
      await rt.shutdown()
    }
  })
})

describe('abort', () => {
  it('an aborted signal rejects at once; the task never runs', async () => {
    const p = pool()
    const ac = new AbortController()
    ac.abort('no')
    const err = await p.run(1, { signal: ac.signal }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortError)
    expect((err as AbortError).name).toBe('AbortError')
    expect((err as AbortError).cause).toBe('no')
  })

  it('a queued task is dropped from the queue', async () => {
    const p = pool({ maxThreads: 1, concurrentTasksPerWorker: 1 })
    await within(p.ready, 'ready')
    const first = p.run(50, { name: 'later' })
    const ac = new AbortController()
    const second = caught(p.run(1, { signal: ac.signal }))
    expect(p.queueSize).toBe(1)
    ac.abort()
    expect(await second).toBeInstanceOf(AbortError)
    expect(p.queueSize).toBe(0)
    expect(await first).toBe(50)
  })

  it('a running task sees its own signal fire; its worker lives on', async () => {
    const p = pool({ maxThreads: 1 })
    await within(p.ready, 'ready')
    const ac = new AbortController()
    const running = p.run(60_000, { name: 'abortable', signal: ac.signal })
    await until(() => p.threads[0].inFlight === 1, 'task in flight')
    ac.abort(new Error('client went away'))
    const err = await within(
      running.catch((e: unknown) => e),
      'abort rejects at once',
    )
    expect(err).toBeInstanceOf(AbortError)
    expect(((err as AbortError).cause as Error).message).toBe('client went away')
    // The task heard it in the worker (it counts aborts in its realm), and the
    // same worker (no restart) serves the next task.
    let aborts = 0
    await until(
      () => aborts === 1 || void p.run(0, { name: 'aborts' }).then((n) => (aborts = n as number)),
      'the worker saw the abort',
    )
    expect(p.threads[0].restarts).toBe(0)
  })
})

describe('queue limits and drain', () => {
  it('a full queue rejects QUEUE_FULL at once', async () => {
    const p = pool({ maxThreads: 1, maxQueue: 2 })
    await within(p.ready, 'ready')
    const running = p.run(40, { name: 'later' })
    const queued = [p.run(1), p.run(2)]
    const err = await p.run(3).catch((e: unknown) => e)
    expect(KernelError.is(err, 'QUEUE_FULL')).toBe(true)
    expect(p.queueSize).toBe(2)
    expect(await Promise.all([running, ...queued])).toEqual([40, 1, 2])
  })

  it('needsDrain when a task has to wait, drain when none waits any more', async () => {
    const p = pool({ maxThreads: 1 })
    await within(p.ready, 'ready')
    const seen: string[] = []
    p.on('needsDrain', () => seen.push(`needsDrain ${p.queueSize}`))
    p.on('drain', () => seen.push(`drain ${p.queueSize}`))
    const a = p.run(20, { name: 'later' })
    expect(p.needsDrain).toBe(false)
    const rest = [p.run(1), p.run(2), p.run(3)]
    expect(p.needsDrain).toBe(true)
    await Promise.all([a, ...rest])
    await until(() => seen.length === 2, 'both events')
    expect(seen[0]).toMatch(/^needsDrain [1-3]$/)
    expect(seen[1]).toBe('drain 0')
    expect(p.needsDrain).toBe(false)
  })
})

describe('timing', () => {
  it('histograms shaped as piscina 5s, utilization and duration', async () => {
    const p = pool()
    for (let i = 0; i < 20; i++) await p.run(2, { name: 'later' })
    const rt = p.histogram.runTime
    for (const k of ['average', 'mean', 'stddev', 'min', 'max', 'p50', 'p99', 'p99_999'])
      expect(typeof rt[k as keyof typeof rt]).toBe('number')
    expect(rt.min).toBeGreaterThan(0)
    expect(rt.p50).toBeGreaterThanOrEqual(rt.min)
    expect(p.histogram.waitTime.max).toBeGreaterThan(0)
    expect(p.utilization).toBeGreaterThan(0)
    expect(p.utilization).toBeLessThan(1)
    expect(p.duration).toBeGreaterThan(0)
    p.histogram.resetRunTime()
    expect(Number.isNaN(p.histogram.runTime.mean)).toBe(true)
  })

  it('recordTiming: false keeps none', async () => {
    const p = pool({ recordTiming: false })
    await p.run(1)
    expect(p.utilization).toBe(0)
  })
})

describe('close and destroy', () => {
  it('close() finishes queued and running tasks, then refuses new ones', async () => {
    const p = pool({ maxThreads: 1 })
    await within(p.ready, 'ready')
    const tasks = [p.run(30, { name: 'later' }), p.run(1), p.run(2)]
    let closed = false
    p.once('close', () => (closed = true))
    await within(p.close(), 'close')
    expect(await Promise.all(tasks)).toEqual([30, 1, 2])
    expect(closed).toBe(true)
    await expect(p.run(1)).rejects.toThrow(AbortError)
    expect(p.runtime?.isShutdown).toBe(true)
  })

  it('close({ force: true }) rejects the queued ones, lets the running one finish', async () => {
    const p = pool({ maxThreads: 1 })
    await within(p.ready, 'ready')
    const running = p.run(30, { name: 'later' })
    const queued = caught(p.run(1))
    await within(p.close({ force: true }), 'close')
    expect(await running).toBe(30)
    expect(await queued).toBeInstanceOf(AbortError)
  })

  it('destroy() rejects queued and running tasks at once and ends the workers', async () => {
    const p = pool({ maxThreads: 1 })
    await within(p.ready, 'ready')
    const rt = p.runtime as Runtime
    const running = caught(p.run(60_000, { name: 'later' }))
    const queued = caught(p.run(1))
    await until(() => p.threads[0]?.inFlight === 1, 'in flight')
    await within(p.destroy(), 'destroy')
    expect(String(await running)).toBe('Error: Terminating worker thread')
    expect(String(await queued)).toBe('Error: Terminating worker thread')
    expect(rt.isShutdown).toBe(true)
  })

  it('destroy() while the pool still boots leaves nothing behind', async () => {
    const p = pool()
    const t = caught(p.run(1))
    await within(p.destroy(), 'destroy')
    expect(String(await t)).toBe('Error: Terminating worker thread')
    expect(p.runtime === null || p.runtime.isShutdown).toBe(true)
  })

  it('Symbol.asyncDispose closes it', async () => {
    const p = pool()
    expect(await p.run(4)).toBe(4)
    await within(p[Symbol.asyncDispose](), 'dispose')
    expect(p.runtime?.isShutdown).toBe(true)
  })

  it('Symbol.dispose starts a close: the pool ends and emits close', async () => {
    const p = pool()
    expect(await p.run(5)).toBe(5)
    const closed = new Promise<void>((resolve) => p.once('close', () => resolve()))
    p[Symbol.dispose]()
    await within(closed, 'close event')
    expect(p.runtime?.isShutdown).toBe(true)
  })
})
