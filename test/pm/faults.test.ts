/**
 * The known faults of the Barrelfish process manager, one test each, and that this
 * one does better:
 *  1. a wait after cleanup hangs forever;
 *  2. two concurrent kills double-count and crash;
 *  3. a successful span is answered twice and never recorded;
 *  4. a status lookup of an unknown domain falls through;
 *  5. the send handler reads a freed element (replies misread after failures).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { boot, DomainCap, type Runtime } from 'multikernel'
import {
  EvidenceDir,
  Remote,
  causeMessages,
  cleanupBarrier,
  expectCleaned,
  expectHealthy,
  expectQueuesAtRest,
  fixture,
  rejectsWith,
  throwsWith,
  within,
} from './helpers.js'

let rt: Runtime
let ev: EvidenceDir

beforeEach(async () => {
  rt = await boot({ cores: 2 })
  ev = new EvidenceDir()
})

afterEach(async () => {
  await within(rt.shutdown(), 'shutdown')
  ev.remove()
})

describe('Barrelfish faults', () => {
  it('1. a wait after cleanup answers at once (the original hung)', async () => {
    const d = await rt.spawn(fixture('behave.mjs'), { core: 1, argv: ['exit', '17'] })
    await within(rt.wait(d), 'first wait')
    await cleanupBarrier(rt)
    expectCleaned(rt.status(d))
    // Many waits after cleanup, plain and nohang: each answers (a hang fails here).
    const waits = Array.from({ length: 50 }, (_, i) => rt.wait(d, { nohang: i % 2 === 0 }))
    const rs = await within(Promise.all(waits), 'waits after cleanup')
    for (const r of rs) expect(r).toEqual({ status: 'cleaned', exitCode: 17, reason: 'exited' })
    await expectQueuesAtRest(rt)
  })

  it('2. two concurrent kills both resolve and nothing is counted twice', async () => {
    const d = await rt.spawn(fixture('sleeper.mjs'), { core: 0, env: { DIR: ev.dir } })
    await within(rt.span(d, 1), 'span')
    expect(rt.status(d)).toMatchObject({ numSpawndsRunning: 2, numSpawndsResources: 2 })
    const kills = [rt.kill(d), rt.kill(d)]
    const w = rt.wait(d)
    await within(Promise.all(kills), 'both kills')
    const st = rt.status(d)
    expect(['STOPPED', 'CLEANED']).toContain(st.state)
    expect(st.numSpawndsRunning).toBe(0)
    expect(await within(w, 'wait')).toMatchObject({ exitCode: 9, reason: 'killed' })
    await cleanupBarrier(rt)
    expectCleaned(rt.status(d))
    // One KILL per core reached its dispatcher: each signal fired exactly once.
    for (const core of [0, 1]) expect(ev.lines('aborted', d, core)).toEqual(['9'])
    await rejectsWith(rt.kill(d), 'DOMAIN_NOT_RUNNING')
    await expectQueuesAtRest(rt)
    await expectHealthy(rt)
  })

  it('2b. kills racing a dispatcher exiting by itself keep the counters consistent', async () => {
    const remote = new Remote()
    try {
      // Ten spanned domains; each is told to exit on core 1 and killed in the same
      // turn, while its core 0 dispatcher is still running: every answer must come
      // once and the entry end CLEANED with both counters at zero.
      const caps: DomainCap[] = []
      for (let i = 0; i < 10; i++) {
        const d = await rt.spawn(fixture('remote.mjs'), { core: 0, env: remote.env })
        await within(rt.span(d, 1), 'span')
        await remote.event('started', d, 1)
        caps.push(d)
      }
      const all = caps.map((d) => {
        remote.tell(d, { cmd: 'exit', core: 1, code: 5 })
        return Promise.all([rt.kill(d), rt.kill(d), rt.wait(d)])
      })
      const results = await within(Promise.all(all), 'kills and waits')
      for (const [, , r] of results) expect(r).toMatchObject({ exitCode: 9, reason: 'killed' })
      await cleanupBarrier(rt)
      for (const d of caps) expectCleaned(rt.status(d))
      expect(await rt.ps(0)).toEqual([])
      expect(await rt.ps(1)).toEqual([])
      await expectQueuesAtRest(rt)
    } finally {
      remote.close()
    }
  })

  it('3. a successful span is answered once and recorded, so a later kill reaches it', async () => {
    const d = await rt.spawn(fixture('sleeper.mjs'), { core: 1, env: { DIR: ev.dir } })
    const before = rt.stats()[0]
    let answers = 0
    await within(
      rt.span(d, 0).then(() => answers++),
      'span',
    )
    // Exactly one request and one reply on core 0 for the span.
    const after = rt.stats()[0]
    expect(after.requests - before.requests).toBe(1)
    expect(after.replies - before.replies).toBe(1)
    expect(answers).toBe(1)
    expect(rt.status(d)).toMatchObject({
      cores: [0, 1],
      resourceCores: [0, 1],
      numSpawndsRunning: 2,
      numSpawndsResources: 2,
    })
    await within(rt.kill(d), 'kill')
    // The kill reached the spanned core: its dispatcher's signal fired, once.
    expect(ev.lines('started', d, 0)).toHaveLength(1)
    expect(ev.lines('aborted', d, 0)).toEqual(['9'])
    expect(ev.lines('aborted', d, 1)).toEqual(['9'])
    await cleanupBarrier(rt)
    expectCleaned(rt.status(d))
    expect(await rt.ps(0)).toEqual([])
  })

  it('4. a status lookup of an unknown domain throws DOMAIN_NOTFOUND', async () => {
    throwsWith(() => rt.status(new DomainCap(1, 'f'.repeat(32))), 'DOMAIN_NOTFOUND')
    // An id handed to a spawn that failed is never an entry (NIL is not stored).
    const a = await rt.spawn(fixture('behave.mjs'), { core: 0, argv: ['return', '0'] })
    await rejectsWith(rt.spawn(fixture('no-default.mjs'), { core: 0 }), 'LOAD')
    const b = await rt.spawn(fixture('behave.mjs'), { core: 0, argv: ['return', '0'] })
    expect(b.id).toBe(a.id + 2)
    const ghost = new DomainCap(a.id + 1, a.token)
    throwsWith(() => rt.status(ghost), 'DOMAIN_NOTFOUND')
    await rejectsWith(rt.wait(ghost), 'DOMAIN_NOTFOUND')
    await rejectsWith(rt.wait(ghost, { nohang: true }), 'DOMAIN_NOTFOUND')
    await rejectsWith(rt.kill(ghost), 'DOMAIN_NOTFOUND')
    await rejectsWith(rt.span(ghost, 1), 'DOMAIN_NOTFOUND')
    expect(rt.domains().map((s) => s.id)).toEqual([a.id, b.id])
    await expectHealthy(rt)
  })

  it('5. replies are never misread after failures free receive-queue entries', async () => {
    // A small request ring, so the send queue is in play too. Every round mixes
    // requests that fail (freeing their receive-queue slot early, to be reused by
    // later requests) with ones that succeed, on both cores, all in flight at once;
    // each answer must be the one its own request deserves.
    const small = await boot({ cores: 2, ringCapacity: 512 })
    try {
      const checks: Promise<void>[] = []
      for (let i = 0; i < 150; i++) {
        const core = i % 2
        checks.push(
          rejectsWith(small.spawn(fixture('missing.mjs'), { core }), 'LOAD').then((err) => {
            expect(err.message).toContain('missing.mjs')
          }),
          rejectsWith(small.spawn(fixture('throws-at-import.mjs'), { core }), 'LOAD').then(
            (err) => {
              expect(causeMessages(err)).toContain('boom at import')
            },
          ),
          small
            .spawn(fixture('behave.mjs'), { core, argv: ['return', String(i)] })
            .then((d) => small.wait(d))
            .then((r) => expect(r).toMatchObject({ exitCode: i, reason: 'exited' })),
          small.ping(core),
          small.ps(core).then((rows) => expect(Array.isArray(rows)).toBe(true)),
          rejectsWith(small.ps(core + 2), 'INVALID_SPAWND').then(() => undefined),
        )
      }
      await within(Promise.all(checks), 'mixed requests')
      await cleanupBarrier(small)
      for (const s of small.domains()) expectCleaned(s)
      expect(small.domains()).toHaveLength(150)
      await expectQueuesAtRest(small)
      await expectHealthy(small)
    } finally {
      await within(small.shutdown(), 'shutdown small')
    }
  })
})
