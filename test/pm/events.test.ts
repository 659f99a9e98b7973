// rt.events is user code's window on the kernel: a listener never runs inside the
// kernel's reply drain, one that throws breaks nothing (its error is reported as an
// EventEmitter's would be), and a reader that never reads costs a bounded buffer.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { boot, type Runtime, type RuntimeEvent } from 'multikernel'
import { fixture, within } from './helpers.js'

let rt: Runtime | undefined

afterEach(async () => {
  await rt?.shutdown()
  rt = undefined
})

const behave = fixture('behave.mjs')

function runChild(file: URL): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [fileURLToPath(file)],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null
        resolve({ code, stdout, stderr })
      },
    )
  })
}

describe('a listener that throws', () => {
  it('without an error listener: each throw reaches uncaughtException, the runtime keeps serving', async () => {
    const r = await runChild(fixture('events-throwing-listener.mjs'))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout.trim()) as {
      calls: number
      caught: number
      message: string
      firstOk: boolean
      later: number[]
      left: number
    }
    // Every domain's 'exited' reached the listener, and every throw was reported.
    expect(out.calls).toBe(220)
    expect(out.caught).toBe(220)
    expect(out.message).toBe('listener boom')
    expect(out.firstOk).toBe(true)
    expect(out.later).toEqual(Array.from({ length: 20 }, () => 7))
    expect(out.left).toBe(0)
  }, 90_000)

  it("with an 'error' listener: it gets the error, other listeners still run, waits and shutdown settle", async () => {
    const r = await boot({ cores: 1, supervisor: { superviseCores: false } })
    rt = r
    const errors: unknown[] = []
    const seen: RuntimeEvent[] = []
    r.events.on('error', (err: unknown) => errors.push(err))
    r.events.on('exited', () => {
      throw new Error('first listener')
    })
    // A second listener of the same event still sees every event.
    r.events.on('exited', (ev: RuntimeEvent) => seen.push(ev))
    let insideDrain = 0
    r.events.on('spawned', () => {
      // Runs after the drain: a synchronous request from the listener is fine.
      insideDrain += r.stats().length
    })
    const ds = await within(
      Promise.all(
        Array.from({ length: 200 }, () => r.spawn(behave, { argv: ['return', '4', '10'] })),
      ),
      '200 spawns',
    )
    const exits = await within(Promise.all(ds.map((d) => r.wait(d))), '200 waits')
    expect(exits.every((x) => x.status !== 'running' && x.exitCode === 4)).toBe(true)
    const d = await within(r.spawn(behave, { argv: ['return', '5'] }), 'a later spawn')
    expect(await within(r.wait(d), 'a later wait')).toMatchObject({ exitCode: 5 })
    await within(r.shutdown(), 'shutdown')
    expect(errors).toHaveLength(201)
    expect((errors[0] as Error).message).toBe('first listener')
    expect(seen).toHaveLength(201)
    expect(insideDrain).toBe(201)
  })

  it('an event reaches its listener after the reply that caused it was handled, in publish order', async () => {
    const r = await boot({ cores: 1, supervisor: { superviseCores: false } })
    rt = r
    const order: string[] = []
    r.events.on('event', (ev: RuntimeEvent) => order.push(ev.type))
    const d = await within(r.spawn(behave, { argv: ['return', '0'] }), 'spawn')
    await within(r.wait(d), 'wait')
    await within(r.shutdown(), 'shutdown')
    expect(order.slice(0, 2)).toEqual(['spawned', 'exited'])
  })
})

describe('a reader that does not read', () => {
  it('keeps at most maxBuffered events: the oldest are dropped and counted, the newest read', async () => {
    const r = await boot({ cores: 1, supervisor: { superviseCores: false } })
    rt = r
    const it8 = r.events.iterate({ maxBuffered: 8 })
    const ids: number[] = []
    for (let i = 0; i < 20; i++) {
      const d = await within(r.spawn(behave, { argv: ['return', '0'] }), 'spawn')
      await within(r.wait(d, { reap: true }), 'wait')
      ids.push(d.id)
    }
    // Each domain made at least 'spawned' and 'exited'.
    expect(it8.dropped).toBeGreaterThanOrEqual(40 - 8)
    const total = it8.dropped + 8
    await within(r.shutdown(), 'shutdown')
    const read: RuntimeEvent[] = []
    for await (const ev of it8) read.push(ev)
    // The 8 kept are the newest: shutdown publishes nothing here (no services).
    expect(read).toHaveLength(8)
    expect(it8.dropped + read.length).toBe(total)
    const last = read[read.length - 1]
    expect('domainId' in last && last.domainId).toBe(ids[ids.length - 1])
  })

  it('for await over rt.events keeps 1024 by default; boot({ eventBuffer }) changes it', async () => {
    const r = await boot({ cores: 1, supervisor: { superviseCores: false } })
    rt = r
    const it = r.events[Symbol.asyncIterator]()
    const ds = await within(
      Promise.all(Array.from({ length: 600 }, () => r.spawn(behave, { argv: ['return', '0'] }))),
      '600 spawns',
    )
    await within(Promise.all(ds.map((d) => r.wait(d))), '600 waits')
    await within(r.shutdown(), 'shutdown')
    let n = 0
    for await (const ev of it) if (ev.type !== undefined) n++
    expect(n).toBe(1024)
    expect(it.dropped).toBeGreaterThanOrEqual(1200 - 1024)
    rt = undefined

    const small = await boot({ cores: 1, eventBuffer: 4, supervisor: { superviseCores: false } })
    rt = small
    const it4 = small.events[Symbol.asyncIterator]()
    for (let i = 0; i < 3; i++) {
      const d = await within(small.spawn(behave, { argv: ['return', '0'] }), 'spawn')
      await within(small.wait(d), 'wait')
    }
    await within(small.shutdown(), 'shutdown')
    const kept: RuntimeEvent[] = []
    for await (const ev of it4) kept.push(ev)
    expect(kept).toHaveLength(4)
    expect(it4.dropped).toBeGreaterThan(0)
  })

  it('refuses a buffer size that is not a positive integer', async () => {
    const r = await boot({ cores: 1, supervisor: { superviseCores: false } })
    rt = r
    for (const bad of [0, -1, 1.5, Number.NaN, '8'])
      expect(() => r.events.iterate({ maxBuffered: bad as number })).toThrow(RangeError)
    await expect(boot({ cores: 1, eventBuffer: 0 })).rejects.toThrow(/eventBuffer/)
  })
})
