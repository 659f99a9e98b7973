/**
 * shutdown(): kills what runs (including domains that ignore their signal or block
 * their core), cleans everything up, ends the workers, settles every pending
 * promise, and is idempotent; afterwards every call that needs a core is refused
 * with SHUTDOWN while waits and snapshots keep answering.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { boot, type DomainCap, type Runtime } from 'multikernel'
import { EvidenceDir, Remote, expectCleaned, fixture, rejectsWith, within } from './helpers.js'

let rt: Runtime | undefined
const cleanups: (() => void)[] = []

afterEach(async () => {
  if (rt !== undefined) await within(rt.shutdown(), 'shutdown')
  rt = undefined
  for (const c of cleanups.splice(0)) c()
})

/** Every promise a test creates, with whether it has settled yet. */
class Tracker {
  private readonly entries: { what: string; settled: boolean; p: Promise<unknown> }[] = []

  track<T>(what: string, p: Promise<T>): Promise<T> {
    const e = { what, settled: false, p: p as Promise<unknown> }
    // Observed here so a rejection is never unhandled.
    p.then(
      () => (e.settled = true),
      () => (e.settled = true),
    )
    this.entries.push(e)
    return p
  }

  pending(): string[] {
    return this.entries.filter((e) => !e.settled).map((e) => e.what)
  }

  settleAll(): Promise<PromiseSettledResult<unknown>[]> {
    return within(Promise.allSettled(this.entries.map((e) => e.p)), 'every tracked promise')
  }
}

describe('shutdown with domains running', () => {
  it('kills and cleans every domain, ends the workers and settles every promise', async () => {
    const r = (rt = await boot({ cores: 2 }))
    const ev = new EvidenceDir()
    const remote = new Remote()
    cleanups.push(
      () => ev.remove(),
      () => remote.close(),
    )
    const t = new Tracker()
    const running: DomainCap[] = []
    for (const core of [0, 1]) {
      running.push(await r.spawn(fixture('sleeper.mjs'), { core, env: { DIR: ev.dir } }))
      running.push(await r.spawn(fixture('stubborn.mjs'), { core })) // ignores its signal
      running.push(await r.spawn(fixture('remote.mjs'), { core, env: remote.env }))
    }
    await r.span(running[0], 1) // a spanned one: both its dispatchers must stop
    await r.span(running[1], 1) // a spanned stubborn one
    for (const d of running) t.track(`wait ${d.id}`, r.wait(d))
    // In flight when shutdown is called: spawns, a kill, pings, a ps, a ping batch.
    const lateSpawns = [0, 1].map((core) =>
      t.track(`late spawn on ${core}`, r.spawn(fixture('behave.mjs'), { core, argv: ['sleep'] })),
    )
    const lateWaits = lateSpawns.map((sp, i) =>
      t.track(
        `wait of late spawn ${i}`,
        sp.then((d) => r.wait(d)),
      ),
    )
    t.track('kill in flight', r.kill(running[4]))
    for (const core of [0, 1]) {
      t.track(`ping ${core}`, r.ping(core))
      t.track(`ps ${core}`, r.ps(core))
      t.track(`pingMany ${core}`, r.pingMany(core, 200_000, 64))
    }

    const down = t.track('shutdown', r.shutdown())
    expect(r.isShutdown).toBe(true)
    await within(down, 'shutdown')
    // Everything was answered by the time shutdown resolved, not merely later.
    expect(t.pending()).toEqual([])
    const outcomes = await t.settleAll()
    // Only the ping batches may have been cut short, and only with SHUTDOWN.
    for (const o of outcomes) {
      if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'SHUTDOWN' })
    }

    for (const d of running) {
      const w = await r.wait(d)
      expect(w).toEqual({ status: 'cleaned', exitCode: 9, reason: 'killed' })
    }
    for (const w of lateWaits) expect(await w).toMatchObject({ exitCode: 9, reason: 'killed' })
    for (const s of r.domains()) expectCleaned(s)
    expect(r.domains()).toHaveLength(running.length + 2)
    // The domains that listen to their signal heard it on every core they ran on.
    expect(ev.lines('aborted', running[0], 0)).toEqual(['9'])
    expect(ev.lines('aborted', running[0], 1)).toEqual(['9'])
    expect(ev.lines('aborted', running[3], 1)).toEqual(['9'])
    for (const s of r.stats()) {
      expect(s.health).toBe('down')
      expect(s.sendQueue).toBe(0)
      expect(s.receiveQueue).toBe(0)
    }
  })

  it('a domain blocking its core cannot stop shutdown: the deadline ends its worker', async () => {
    const r = (rt = await boot({ cores: 2, shutdownTimeoutMs: 1000 }))
    const t = new Tracker()
    const busy = await r.spawn(fixture('busy.mjs'), { core: 1 })
    const calm = await r.spawn(fixture('behave.mjs'), { core: 0, argv: ['sleep'] })
    // Requests to the blocked core are never answered by it; shutdown must answer them.
    const stuck = t.track('ping of the blocked core', r.ping(1))
    const waits = [busy, calm].map((d) => t.track(`wait ${d.id}`, r.wait(d)))
    await within(t.track('shutdown', r.shutdown()), 'shutdown')
    expect(t.pending()).toEqual([])
    await t.settleAll()
    await rejectsWith(stuck, 'SHUTDOWN')
    for (const w of waits) expect(await w).toMatchObject({ exitCode: 9, reason: 'killed' })
    for (const s of r.domains()) expectCleaned(s)
    for (const s of r.stats()) expect(s.health).toBe('down')
  })
})

describe('after shutdown', () => {
  it('every call that needs a core rejects SHUTDOWN; waits and snapshots still answer', async () => {
    const r = (rt = await boot({ cores: 2 }))
    const done = await r.spawn(fixture('behave.mjs'), { core: 0, argv: ['return', '5'] })
    await r.wait(done)
    const killed = await r.spawn(fixture('behave.mjs'), { core: 1, argv: ['sleep'] })
    const first = r.shutdown()
    // Refused from the moment shutdown starts, not only once it is over.
    await rejectsWith(r.spawn(fixture('behave.mjs'), { argv: ['return', '0'] }), 'SHUTDOWN')
    await within(first, 'shutdown')
    const checks: [string, Promise<unknown>][] = [
      ['spawn', r.spawn(fixture('behave.mjs'), { core: 0, argv: ['return', '0'] })],
      ['span', r.span(killed, 0)],
      ['kill', r.kill(killed)],
      ['ping', r.ping(0)],
      ['pingMany', r.pingMany(1, 10)],
      ['ps', r.ps(0)],
    ]
    for (const [what, p] of checks) {
      const err = await rejectsWith(p, 'SHUTDOWN')
      expect(err.message, what).toContain('shut down')
    }
    expect(await r.wait(done)).toEqual({ status: 'cleaned', exitCode: 5, reason: 'exited' })
    expect(await r.wait(killed, { nohang: true })).toEqual({
      status: 'cleaned',
      exitCode: 9,
      reason: 'killed',
    })
    expect(r.status(killed).state).toBe('CLEANED')
    expect(r.domains()).toHaveLength(2)
    // Idempotent: the same answer, again and again.
    expect(r.shutdown()).toBe(first)
    await within(r.shutdown(), 'second shutdown')
  })

  it('concurrent shutdowns of an idle runtime resolve together', async () => {
    const r = (rt = await boot({ cores: 2 }))
    const all = [r.shutdown(), r.shutdown(), r.shutdown()]
    await within(Promise.all(all), 'shutdowns')
    for (const s of r.stats()) expect(s.health).toBe('down')
  })

  it.each([
    ['the send queue is full', {}],
    // The spawnd's outbox too: its answers (SHUTDOWN's among them) wait for room.
    ['both rings are full', { replyRingCapacity: 256 }],
  ])('shutdown while %s answers every request sent before it', async (_, opts) => {
    // A deadline far away: on a loaded machine the flood may take a while, and only
    // the deadline may cut requests short (that case is the blocked-core test).
    const r = (rt = await boot({ cores: 2, ringCapacity: 256, shutdownTimeoutMs: 50_000, ...opts }))
    const t = new Tracker()
    for (let i = 0; i < 1000; i++) t.track(`ping ${i}`, r.ping(i % 2))
    expect(Math.min(...r.stats().map((s) => s.sendQueue))).toBeGreaterThan(0)
    await within(t.track('shutdown', r.shutdown()), 'shutdown')
    expect(t.pending()).toEqual([])
    const outcomes = await t.settleAll()
    // Requests sent before shutdown are ahead of its SHUTDOWN request: all answered.
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([])
  })
})
