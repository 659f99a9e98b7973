/**
 * Each process manager operation's answers and the domain state transitions
 * (RUNNING -> STOP_PEND -> STOPPED -> CLEANED), on real spawnd workers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { boot, KILLED_EXIT_CODE, type DomainCap, type Runtime } from 'multikernel'
import {
  EvidenceDir,
  Remote,
  cleanupBarrier,
  expectCleaned,
  expectQueuesAtRest,
  fixture,
  rejectsWith,
  within,
} from './helpers.js'

let rt: Runtime
let remote: Remote
let ev: EvidenceDir

beforeEach(async () => {
  rt = await boot({ cores: 2 })
  remote = new Remote()
  ev = new EvidenceDir()
})

afterEach(async () => {
  await within(rt.shutdown(), 'shutdown')
  remote.close()
  ev.remove()
})

/** Tracks whether a promise has settled, without awaiting it. */
function probe<T>(p: Promise<T>): { readonly settled: boolean; p: Promise<T> } {
  const s = { settled: false, p }
  p.then(
    () => (s.settled = true),
    () => (s.settled = true),
  )
  return s
}

function spawnRemote(core: number, argv: string[] = []): Promise<DomainCap> {
  return within(rt.spawn(fixture('remote.mjs'), { core, argv, env: remote.env }), 'spawn remote')
}

describe('spawn', () => {
  it('creates a RUNNING entry on the requested core and hands main its ctx', async () => {
    const d = await spawnRemote(1, ['a', 'b'])
    expect(d.kind).toBe('domain')
    const st = rt.status(d)
    expect(st).toMatchObject({
      id: d.id,
      program: fixture('remote.mjs').href,
      argv: ['a', 'b'],
      state: 'RUNNING',
      cores: [1],
      resourceCores: [1],
      numSpawndsRunning: 1,
      numSpawndsResources: 1,
      exitCode: null,
      reason: null,
      error: null,
    })
    const started = await remote.event('started', d, 1)
    expect(started.argv).toEqual(['a', 'b'])
    expect(started.env).toEqual(remote.env)
    expect(rt.domains().map((s) => s.id)).toEqual([d.id])

    const ps = await rt.ps(1)
    expect(ps).toEqual([
      expect.objectContaining({ domainId: d.id, state: 'running', program: st.program }),
    ])
    expect(await rt.ps(0)).toEqual([])
  })

  it('accepts a path as well as a file URL, and round-robins without a core', async () => {
    const a = await rt.spawn(fixture('behave.mjs').pathname, { argv: ['sleep'] })
    const b = await rt.spawn(fixture('behave.mjs').href, { argv: ['sleep'] })
    expect(rt.status(a).program).toBe(fixture('behave.mjs').href)
    // Two spawns in a row without a core land on different cores.
    expect([...rt.status(a).cores, ...rt.status(b).cores].sort()).toEqual([0, 1])
    await within(Promise.all([rt.kill(a), rt.kill(b)]), 'kills')
  })
})

describe('wait and exit', () => {
  it('a wait made before the exit is answered at the exit; nohang says running until then', async () => {
    const d = await spawnRemote(0)
    await remote.event('started', d, 0)
    const w = probe(rt.wait(d))
    expect(await rt.wait(d, { nohang: true })).toEqual({ status: 'running' })
    // A round trip to the core: the domain is still running and the wait still pending.
    await rt.ping(0)
    expect(w.settled).toBe(false)
    expect(rt.status(d).state).toBe('RUNNING')

    remote.tell(d, { cmd: 'return', code: 7 })
    const r = await within(w.p, 'wait made before the exit')
    expect(r).toMatchObject({ exitCode: 7, reason: 'exited' })
    expect(['stopped', 'cleaned']).toContain(r.status)
    expect(r).not.toHaveProperty('error')
  })

  it('a wait made after the exit answers at once, stopped or cleaned, and nohang too', async () => {
    const d = await spawnRemote(1)
    await remote.event('started', d, 1)
    remote.tell(d, { cmd: 'return', code: 3 })
    await within(rt.wait(d), 'first wait')
    const again = await within(rt.wait(d), 'wait after stop')
    expect(again).toMatchObject({ exitCode: 3, reason: 'exited' })
    await cleanupBarrier(rt)
    expectCleaned(rt.status(d))
    expect(await within(rt.wait(d), 'wait after cleanup')).toEqual({
      status: 'cleaned',
      exitCode: 3,
      reason: 'exited',
    })
    expect(await rt.wait(d, { nohang: true })).toEqual({
      status: 'cleaned',
      exitCode: 3,
      reason: 'exited',
    })
    expect(await rt.ps(1)).toEqual([])
  })

  it('return value, ctx.exit, throw and rejection each give their exit code and reason', async () => {
    const cases: {
      argv: string[]
      exitCode: number
      reason: string
      message?: string
      name?: string
    }[] = [
      { argv: ['return', '0'], exitCode: 0, reason: 'exited' },
      { argv: ['return', '42'], exitCode: 42, reason: 'exited' },
      // NaN is no exit code: the exit-code rule makes it a misuse (README).
      {
        argv: ['return', 'not-a-number'],
        exitCode: 1,
        reason: 'error',
        name: 'TypeError',
        message:
          'main returned NaN: an exit code is an integer from -2147483648 to 2147483647, or nothing (0)',
      },
      { argv: ['exit', '5'], exitCode: 5, reason: 'exited' },
      { argv: ['exit', '6', '5'], exitCode: 6, reason: 'exited' }, // after an await
      { argv: ['throw', 'sync-ish'], exitCode: 1, reason: 'error', message: 'sync-ish' },
      { argv: ['throw', 'later', '5'], exitCode: 1, reason: 'error', message: 'later' },
    ]
    const caps = await Promise.all(
      cases.map((c, i) => rt.spawn(fixture('behave.mjs'), { core: i % 2, argv: c.argv })),
    )
    for (const [i, d] of caps.entries()) {
      const c = cases[i]
      const r = await within(rt.wait(d), `wait ${c.argv.join(' ')}`)
      expect(r, c.argv.join(' ')).toMatchObject({ exitCode: c.exitCode, reason: c.reason })
      if (c.message === undefined) {
        expect(r).not.toHaveProperty('error')
      } else {
        const name = c.name ?? 'Error'
        expect(r).toMatchObject({ error: { name, message: c.message } })
        expect(rt.status(d).error).toMatchObject({ name, message: c.message })
      }
    }
    await cleanupBarrier(rt)
    for (const d of caps) expectCleaned(rt.status(d))
    await expectQueuesAtRest(rt)
  })

  it('ctx.exit from a callback ends the domain with its code (via main)', async () => {
    const d = await spawnRemote(0)
    await remote.event('started', d, 0)
    remote.tell(d, { cmd: 'exit', code: 12 })
    expect(await within(rt.wait(d), 'wait')).toMatchObject({ exitCode: 12, reason: 'exited' })
    // The worker survived the DomainExit: the core still answers.
    await within(rt.ping(0), 'ping after exit')
  })
})

describe('kill', () => {
  it('walks RUNNING -> STOP_PEND -> STOPPED -> CLEANED and fires the signal with code 9', async () => {
    const d = await rt.spawn(fixture('sleeper.mjs'), { core: 0, env: { DIR: ev.dir } })
    const w = rt.wait(d)
    const k = rt.kill(d)
    // STOP_PEND at once: the exit status is set before any core answered.
    expect(rt.status(d)).toMatchObject({ state: 'STOP_PEND', exitCode: 9, reason: 'killed' })
    expect(await rt.wait(d, { nohang: true })).toEqual({ status: 'running' })
    await within(k, 'kill')
    const st = rt.status(d)
    expect(['STOPPED', 'CLEANED']).toContain(st.state)
    expect(st.numSpawndsRunning).toBe(0)
    expect(await within(w, 'wait made before the kill')).toMatchObject({
      exitCode: KILLED_EXIT_CODE,
      reason: 'killed',
    })
    expect(KILLED_EXIT_CODE).toBe(9)
    expect(ev.lines('aborted', d, 0)).toEqual(['9'])
    await cleanupBarrier(rt)
    expectCleaned(rt.status(d))
    expect(await rt.wait(d)).toEqual({ status: 'cleaned', exitCode: 9, reason: 'killed' })
    expect(await rt.ps(0)).toEqual([])
  })

  it("a kill racing the domain's own exit decides the status; both are answered once", async () => {
    const d = await spawnRemote(1)
    await remote.event('started', d, 1)
    remote.tell(d, { cmd: 'return', code: 4 })
    // Called in the same turn: the process manager cannot have seen the exit yet, so
    // the kill comes first whatever the domain does; its own EXIT (if any) is absorbed.
    const k = rt.kill(d)
    expect(rt.status(d).state).toBe('STOP_PEND')
    await within(k, 'kill')
    expect(await within(rt.wait(d), 'wait')).toMatchObject({ exitCode: 9, reason: 'killed' })
    await cleanupBarrier(rt)
    expectCleaned(rt.status(d))
    await expectQueuesAtRest(rt)
  })
})

describe('span', () => {
  it('runs main on the new core, with ctx.core telling which and the same argv/env', async () => {
    // span-report ends the domain with 40 + ctx.core, but only on core env.TARGET.
    const d = await rt.spawn(fixture('span-report.mjs'), {
      core: 0,
      argv: ['a', 'b'],
      env: { K: 'v', TARGET: '1' },
    })
    await within(rt.span(d, 1), 'span')
    const r = await within(rt.wait(d), 'wait')
    expect(r).toMatchObject({ exitCode: 41, reason: 'exited' })
    await cleanupBarrier(rt)
    expectCleaned(rt.status(d))
  })

  it('records the new core: status shows both, and ps on each core lists it', async () => {
    const d = await rt.spawn(fixture('sleeper.mjs'), {
      core: 1,
      argv: ['x'],
      env: { DIR: ev.dir },
    })
    await within(rt.span(d, 0), 'span')
    expect(rt.status(d)).toMatchObject({
      state: 'RUNNING',
      cores: [0, 1],
      resourceCores: [0, 1],
      numSpawndsRunning: 2,
      numSpawndsResources: 2,
    })
    for (const core of [0, 1]) {
      const ps = await rt.ps(core)
      expect(ps.filter((p) => p.domainId === d.id)).toEqual([
        expect.objectContaining({ state: 'running' }),
      ])
    }
    await within(rt.kill(d), 'kill')
    // main started exactly once on each core, with its own ctx.core.
    for (const core of [0, 1]) {
      const lines = ev.lines('started', d, core)
      expect(lines).toHaveLength(1)
      expect(JSON.parse(lines[0])).toEqual({ core, argv: ['x'], env: { DIR: ev.dir } })
    }
  })

  it('span then kill reaches every core: ps shows stopped, then cleaned; every signal fired', async () => {
    const d = await rt.spawn(fixture('sleeper.mjs'), { core: 0, env: { DIR: ev.dir } })
    await within(rt.span(d, 1), 'span')
    const k = rt.kill(d)
    // Sent behind the KILLs on the same rings and before any CLEANUP can be: they
    // see the dispatchers stopped but not yet freed.
    const between = [rt.ps(0), rt.ps(1)]
    await within(k, 'kill')
    for (const [core, p] of between.entries()) {
      const rows = (await within(p, `ps(${core})`)).filter((e) => e.domainId === d.id)
      expect(rows, `core ${core}`).toEqual([expect.objectContaining({ state: 'stopped' })])
      expect(ev.lines('aborted', d, core), `signal on core ${core}`).toEqual(['9'])
    }
    // The CLEANUPs went out when the last KILL was answered, before kill() resolved.
    for (const core of [0, 1]) {
      expect((await rt.ps(core)).filter((e) => e.domainId === d.id)).toEqual([])
    }
    expectCleaned(rt.status(d))
    expect(await rt.wait(d)).toEqual({ status: 'cleaned', exitCode: 9, reason: 'killed' })
    await expectQueuesAtRest(rt)
  })

  it('main ending on one core stops the dispatchers on the others', async () => {
    const d = await spawnRemote(0)
    await remote.event('started', d, 0)
    await within(rt.span(d, 1), 'span')
    await remote.event('started', d, 1)
    remote.tell(d, { cmd: 'exit', code: 3, core: 1 })
    expect(await within(rt.wait(d), 'wait')).toMatchObject({ exitCode: 3, reason: 'exited' })
    const aborted = await remote.event('aborted', d, 0)
    expect(aborted.exitCode).toBe(9)
    // The core that exited by itself saw no abort from the process manager.
    expect(remote.count('aborted', d)).toBe(1)
    await cleanupBarrier(rt)
    expectCleaned(rt.status(d))
  })

  it('a throw on the spanned core is the whole domain error', async () => {
    const d = await spawnRemote(1)
    await within(rt.span(d, 0), 'span')
    await remote.event('started', d, 0)
    remote.tell(d, { cmd: 'throw', core: 0, message: 'spanned failure' })
    const r = await within(rt.wait(d), 'wait')
    expect(r).toMatchObject({
      exitCode: 1,
      reason: 'error',
      error: { message: 'spanned failure' },
    })
    await remote.event('aborted', d, 1)
  })

  it('a kill while a span is in flight stops the new dispatcher when its span is answered', async () => {
    const d = await rt.spawn(fixture('sleeper.mjs'), { core: 0, env: { DIR: ev.dir } })
    const sp = rt.span(d, 1)
    const k = rt.kill(d)
    await rejectsWith(sp, 'DOMAIN_NOT_RUNNING')
    await within(k, 'kill')
    expect(rt.status(d).numSpawndsRunning).toBe(0)
    expect(ev.lines('aborted', d, 0)).toEqual(['9'])
    expect(ev.lines('aborted', d, 1)).toEqual(['9'])
    await cleanupBarrier(rt)
    expectCleaned(rt.status(d))
    expect(await rt.ps(1)).toEqual([])
  })
})

describe('snapshots', () => {
  it('domains() lists every confirmed domain with its state', async () => {
    const a = await rt.spawn(fixture('behave.mjs'), { core: 0, argv: ['return', '1'] })
    const b = await rt.spawn(fixture('behave.mjs'), { core: 1, argv: ['sleep'] })
    await within(rt.wait(a), 'wait a')
    const byId = new Map(rt.domains().map((s) => [s.id, s]))
    expect(byId.size).toBe(2)
    expect(['STOPPED', 'CLEANED']).toContain(byId.get(a.id)?.state)
    expect(byId.get(b.id)?.state).toBe('RUNNING')
    await within(rt.kill(b), 'kill b')
  })
})
