/**
 * Bad input: every refusal is a KernelError with its code, and the runtime keeps
 * serving everyone else afterwards (each test ends with a normal spawn and wait).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { boot, DomainCap, KernelError, type Runtime } from 'multikernel'
import {
  EvidenceDir,
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
const extra: Runtime[] = []

beforeEach(async () => {
  rt = await boot({ cores: 2 })
  ev = new EvidenceDir()
})

afterEach(async () => {
  await within(Promise.all([rt, ...extra.splice(0)].map((r) => r.shutdown())), 'shutdown')
  ev.remove()
})

function sleeper(core: number): Promise<DomainCap> {
  return within(rt.spawn(fixture('sleeper.mjs'), { core, env: { DIR: ev.dir } }), 'spawn')
}

describe('unknown core: INVALID_SPAWND', () => {
  it('refuses spawn, ping, pingMany and ps on a core that does not exist', async () => {
    for (const core of [2, -1, 1.5, 1000]) {
      await rejectsWith(
        rt.spawn(fixture('behave.mjs'), { core, argv: ['return', '0'] }),
        'INVALID_SPAWND',
      )
      await rejectsWith(rt.ping(core), 'INVALID_SPAWND')
      await rejectsWith(rt.pingMany(core, 10), 'INVALID_SPAWND')
      await rejectsWith(rt.ps(core), 'INVALID_SPAWND')
    }
    // A refused spawn creates no entry (NIL is never stored).
    expect(rt.domains()).toEqual([])
    await expectHealthy(rt)
    await expectQueuesAtRest(rt)
  })
})

describe('bad modules: LOAD', () => {
  it('a module that does not exist', async () => {
    const err = await rejectsWith(rt.spawn(fixture('does-not-exist.mjs'), { core: 0 }), 'LOAD')
    expect(err.message).toContain('does-not-exist.mjs')
    expect(rt.domains()).toEqual([])
    await expectHealthy(rt)
  })

  it('a module without a default export, or whose default is not a function', async () => {
    await rejectsWith(rt.spawn(fixture('no-default.mjs'), { core: 0 }), 'LOAD')
    await rejectsWith(rt.spawn(fixture('default-not-function.mjs'), { core: 1 }), 'LOAD')
    expect(rt.domains()).toEqual([])
    await expectHealthy(rt)
  })

  it('a module that throws at import: LOAD, the original error in the cause chain', async () => {
    // Twice on one core: the second import answers from the module cache's failure.
    for (const core of [0, 0, 1]) {
      const err = await rejectsWith(rt.spawn(fixture('throws-at-import.mjs'), { core }), 'LOAD')
      expect(err.cause).toBeInstanceOf(Error)
      const chain = causeMessages(err)
      expect(chain).toContain('boom at import')
      expect(chain).toContain('root cause of boom')
      expect((err.cause as Error).stack).toContain('throws-at-import.mjs')
      expect(KernelError.is(err, 'LOAD')).toBe(true)
    }
    expect(rt.domains()).toEqual([])
    // No table slot stays reserved by a failed load.
    expect(await rt.ps(0)).toEqual([])
    await expectHealthy(rt)
    await expectQueuesAtRest(rt)
  })

  it('a program that is neither a path nor a file URL is refused before any request', async () => {
    await expect(rt.spawn(new URL('https://example.com/x.mjs'))).rejects.toBeInstanceOf(TypeError)
    await expect(rt.spawn('')).rejects.toBeInstanceOf(TypeError)
    await expectHealthy(rt)
  })
})

describe('capabilities', () => {
  it('a made-up capability: DOMAIN_CAP_INVALID on every call', async () => {
    const real = await sleeper(0)
    const forged: unknown[] = [
      { id: real.id, token: 'forged' },
      new DomainCap(real.id, '0'.repeat(32)),
      { id: 'x', token: real.token },
      {},
      null,
      'domain#1',
      42,
    ]
    for (const cap of forged) {
      const c = cap as DomainCap
      throwsWith(() => rt.status(c), 'DOMAIN_CAP_INVALID')
      await rejectsWith(rt.wait(c), 'DOMAIN_CAP_INVALID')
      await rejectsWith(rt.wait(c, { nohang: true }), 'DOMAIN_CAP_INVALID')
      await rejectsWith(rt.kill(c), 'DOMAIN_CAP_INVALID')
      await rejectsWith(rt.span(c, 1), 'DOMAIN_CAP_INVALID')
    }
    // The real domain was not touched by any of it.
    expect(rt.status(real)).toMatchObject({ state: 'RUNNING', cores: [0] })
    expect(ev.lines('aborted', real, 0)).toEqual([])
    await within(rt.kill(real), 'kill')
    await expectHealthy(rt)
  })

  it('a capability from another, shut-down runtime does not act on this one', async () => {
    const other = await boot({ cores: 2 })
    extra.push(other)
    // Ids start at 1 in both runtimes: the foreign cap names one of ours by id.
    const foreign = await other.spawn(fixture('behave.mjs'), { core: 0, argv: ['sleep'] })
    await other.shutdown()
    const ours = await sleeper(0)
    expect(ours.id).toBe(foreign.id)
    throwsWith(() => rt.status(foreign), 'DOMAIN_CAP_INVALID')
    await rejectsWith(rt.kill(foreign), 'DOMAIN_CAP_INVALID')
    await rejectsWith(rt.span(foreign, 1), 'DOMAIN_CAP_INVALID')
    await rejectsWith(rt.wait(foreign), 'DOMAIN_CAP_INVALID')
    expect(rt.status(ours).state).toBe('RUNNING')
    // A foreign id we never had is just unknown here.
    const stray = new DomainCap(ours.id + 1000, foreign.token)
    throwsWith(() => rt.status(stray), 'DOMAIN_NOTFOUND')
    // The shut-down runtime still answers waits on its own caps (all cleaned).
    expect(await other.wait(foreign)).toEqual({ status: 'cleaned', exitCode: 9, reason: 'killed' })
    await within(rt.kill(ours), 'kill')
    await expectHealthy(rt)
  })
})

describe('ARGS_TOO_LARGE', () => {
  it('refuses argv or env over maxArgBytes (counted in UTF-8 bytes), accepts the limit', async () => {
    // Each argv string costs its bytes + 1 (Barrelfish's NUL).
    await rejectsWith(
      rt.spawn(fixture('behave.mjs'), { argv: ['return', 'x'.repeat(2041)] }), // 7 + 2042
      'ARGS_TOO_LARGE',
    )
    // 1024 characters but 2048 bytes + 1.
    await rejectsWith(
      rt.spawn(fixture('behave.mjs'), { argv: ['é'.repeat(1024)] }),
      'ARGS_TOO_LARGE',
    )
    // Each env entry costs key + value + 2.
    await rejectsWith(
      rt.spawn(fixture('behave.mjs'), { argv: ['return', '0'], env: { K: 'v'.repeat(2046) } }),
      'ARGS_TOO_LARGE',
    )
    expect(rt.domains()).toEqual([])
    // Exactly at the limit is accepted: argv 7 + 2041 bytes, env 1 + 2045 + 2.
    const d = await rt.spawn(fixture('behave.mjs'), {
      argv: ['return', '0'.repeat(2039) + '8'],
      env: { K: 'v'.repeat(2045) },
    })
    expect(await within(rt.wait(d), 'wait')).toMatchObject({ exitCode: 8, reason: 'exited' })
    await expectHealthy(rt)
  })

  it('honours boot({ maxArgBytes })', async () => {
    const small = await boot({ cores: 2, maxArgBytes: 16 })
    extra.push(small)
    await rejectsWith(
      small.spawn(fixture('behave.mjs'), { argv: ['return', '1234567890'] }),
      'ARGS_TOO_LARGE',
    )
    const d = await small.spawn(fixture('behave.mjs'), { argv: ['return', '12'] })
    expect(await within(small.wait(d), 'wait')).toMatchObject({ exitCode: 12 })
  })
})

describe('span errors', () => {
  it('DOMAIN_NOT_RUNNING for a stopping, stopped or cleaned domain', async () => {
    const d = await sleeper(0)
    const k = rt.kill(d)
    await rejectsWith(rt.span(d, 1), 'DOMAIN_NOT_RUNNING') // STOP_PEND
    await within(k, 'kill')
    await rejectsWith(rt.span(d, 1), 'DOMAIN_NOT_RUNNING') // STOPPED or CLEANED
    await cleanupBarrier(rt)
    await rejectsWith(rt.span(d, 1), 'DOMAIN_NOT_RUNNING') // CLEANED
    expectCleaned(rt.status(d))
    expect(ev.lines('started', d, 1)).toEqual([])
    await expectHealthy(rt)
  })

  it('ALREADY_SPANNED for its own core, a spanned core, and a span already in flight', async () => {
    const d = await sleeper(0)
    await rejectsWith(rt.span(d, 0), 'ALREADY_SPANNED')
    const first = rt.span(d, 1)
    await rejectsWith(rt.span(d, 1), 'ALREADY_SPANNED') // the first is still in flight
    await within(first, 'span')
    await rejectsWith(rt.span(d, 1), 'ALREADY_SPANNED')
    expect(rt.status(d)).toMatchObject({ cores: [0, 1], numSpawndsRunning: 2 })
    await within(rt.kill(d), 'kill')
    expect(ev.lines('started', d, 1)).toHaveLength(1)
    await expectHealthy(rt)
  })

  it('INVALID_SPAWND for a core that does not exist; the domain is untouched', async () => {
    const d = await sleeper(1)
    for (const core of [2, -1, 0.5]) await rejectsWith(rt.span(d, core), 'INVALID_SPAWND')
    expect(rt.status(d)).toMatchObject({ state: 'RUNNING', cores: [1], numSpawndsRunning: 1 })
    await within(rt.kill(d), 'kill')
    await expectHealthy(rt)
  })
})

describe('kill errors', () => {
  it('kill of a stopped or cleaned domain: DOMAIN_NOT_RUNNING, status unchanged', async () => {
    const d = await rt.spawn(fixture('behave.mjs'), { core: 0, argv: ['return', '3'] })
    await within(rt.wait(d), 'wait')
    await rejectsWith(rt.kill(d), 'DOMAIN_NOT_RUNNING')
    await cleanupBarrier(rt)
    await rejectsWith(rt.kill(d), 'DOMAIN_NOT_RUNNING')
    expect(await rt.wait(d)).toEqual({ status: 'cleaned', exitCode: 3, reason: 'exited' })
    await expectHealthy(rt)
  })

  it('double kill: both resolve, the second joins the first', async () => {
    const d = await sleeper(1)
    const order: string[] = []
    const k1 = rt.kill(d).then(() => order.push('k1'))
    const k2 = rt.kill(d).then(() => order.push('k2'))
    await within(Promise.all([k1, k2]), 'both kills')
    expect(order).toEqual(['k1', 'k2'])
    expect(ev.lines('aborted', d, 1)).toEqual(['9'])
    await rejectsWith(rt.kill(d), 'DOMAIN_NOT_RUNNING')
    await expectHealthy(rt)
  })
})

describe('DOMAIN_ALLOCATE', () => {
  it('a full dispatcher table refuses spawn and span; cleanup frees the slot', async () => {
    const small = await boot({ cores: 2, maxDispatchers: 2 })
    extra.push(small)
    const spawnOn = (core: number) =>
      small.spawn(fixture('sleeper.mjs'), { core, env: { DIR: ev.dir } })
    const a = await spawnOn(0)
    const b = await spawnOn(0)
    await rejectsWith(spawnOn(0), 'DOMAIN_ALLOCATE')
    // Two at once for core 1's last slot: the first in ring order gets it (a spawn
    // whose module is still loading holds its slot too).
    const c = await spawnOn(1)
    const [d, e] = await Promise.allSettled([spawnOn(1), spawnOn(1)])
    expect(d.status).toBe('fulfilled')
    expect(e.status).toBe('rejected')
    expect((e as PromiseRejectedResult).reason).toMatchObject({ code: 'DOMAIN_ALLOCATE' })
    // Span onto the full core 0 is refused by its spawnd; the domain stays as it was.
    await rejectsWith(small.span(c, 0), 'DOMAIN_ALLOCATE')
    expect(small.status(c)).toMatchObject({ state: 'RUNNING', cores: [1], resourceCores: [1] })
    expect(small.domains()).toHaveLength(4)
    // Killing one frees its slot: the CLEANUP is queued before kill() answers, so
    // the next spawn on that core finds room.
    await within(small.kill(a), 'kill a')
    const f = await within(spawnOn(0), 'spawn into the freed slot')
    const onCore0 = (await small.ps(0)).map((p) => p.domainId)
    expect(onCore0.sort((x, y) => x - y)).toEqual([b.id, f.id].sort((x, y) => x - y))
    await within(small.kill(c), 'kill c')
    await within(small.span(f, 1), 'span into a freed slot')
    expect(small.status(f)).toMatchObject({ cores: [0, 1], numSpawndsRunning: 2 })
    const dCap = (d as PromiseFulfilledResult<DomainCap>).value
    await within(Promise.all([b, f, dCap].map((x) => small.kill(x))), 'kill the rest')
    await expectHealthy(small)
  })
})
