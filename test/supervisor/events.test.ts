// The lifecycle events as an async iterator: what an embedding server reads with
// `for await`. It must see the whole story and end when the runtime shuts down.
import { afterEach, describe, expect, it } from 'vitest'
import { boot, type Runtime, type RuntimeEvent } from 'multikernel'
import { modes, within } from './helpers.js'

let rt: Runtime | undefined

afterEach(async () => {
  await rt?.shutdown()
  rt = undefined
})

describe('rt.events as an async iterator', () => {
  it('collects every event until shutdown, then ends; each event has a numeric time', async () => {
    const t0 = Date.now()
    const r = await boot({ cores: 1, supervisor: { periodMs: 50, superviseCores: false } })
    rt = r
    const seen: RuntimeEvent[] = []
    const loop = (async () => {
      for await (const ev of r.events) seen.push(ev)
      return 'ended'
    })()
    // A second reader sees the same events: each iterator has its own queue.
    const other: RuntimeEvent[] = []
    const loop2 = (async () => {
      for await (const ev of r.events) other.push(ev)
    })()

    const svc = await r.services.up('svc', modes, { argv: ['ready'], initTimeoutMs: 10_000 })
    const d = await r.spawn(modes, { argv: ['return', '5'] })
    expect(await within(r.wait(d), 'domain to end')).toMatchObject({ exitCode: 5 })
    const t = await r.spawn(modes, { argv: ['throw', 'bad'] })
    await within(r.wait(t), 'thrower to end')
    await within(r.shutdown(), 'shutdown')

    expect(await within(loop, 'the for-await loop to end')).toBe('ended')
    await within(loop2, 'the second loop to end')
    const t1 = Date.now()
    for (const ev of seen) {
      expect(typeof ev.time).toBe('number')
      expect(ev.time).toBeGreaterThanOrEqual(t0)
      expect(ev.time).toBeLessThanOrEqual(t1)
    }
    const types = seen.map((e) => e.type)
    for (const type of ['spawned', 'ready', 'service-up', 'exited', 'cleaned', 'service-down'])
      expect(types).toContain(type)
    expect(seen).toContainEqual(
      expect.objectContaining({ type: 'exited', domainId: d.id, exitCode: 5, reason: 'exited' }),
    )
    expect(seen).toContainEqual(
      expect.objectContaining({ type: 'exited', domainId: t.id, exitCode: 1, reason: 'error' }),
    )
    expect(seen).toContainEqual(
      expect.objectContaining({ type: 'ready', domainId: svc.domain?.id }),
    )
    // Order is kept: the service was up before it was taken down at shutdown.
    expect(types.indexOf('service-up')).toBeLessThan(types.indexOf('service-down'))
    expect(other).toEqual(seen)

    // An iterator opened after shutdown ends at once.
    const late = r.events[Symbol.asyncIterator]()
    expect(await within(late.next(), 'late next')).toEqual({ value: undefined, done: true })
  })

  it('leaving the loop early detaches the reader; the runtime keeps going', async () => {
    const r = await boot({ cores: 1, supervisor: { periodMs: 50, superviseCores: false } })
    rt = r
    const first = (async () => {
      for await (const ev of r.events) if (ev.type === 'spawned') return ev
      return undefined
    })()
    const d = await r.spawn(modes, { argv: ['return', '0'] })
    expect(await within(first, 'first spawned event')).toMatchObject({
      type: 'spawned',
      domainId: d.id,
      core: 0,
      parent: null,
      program: modes.href,
    })
    // The detached reader is gone; a new spawn still works and is seen by a new one.
    const it2 = r.events[Symbol.asyncIterator]()
    const d2 = await r.spawn(modes, { argv: ['return', '0'] })
    let next = await within(it2.next(), 'next event')
    while (!next.done && next.value.type !== 'spawned') next = await within(it2.next(), 'next')
    expect(next.value).toMatchObject({ type: 'spawned', domainId: d2.id })
    await it2.return?.()
  })
})
