// Quota (issue 12, item 3): accounts of ring-memory bytes and handles; a child's
// share donated at spawn and returned when freed; a session's quota moved client ->
// server all or nothing and back on close (and when the server dies);
// OUT_OF_QUOTA, INSUFFICIENT_QUOTA then upgrade, resource requests and yield; and a
// model-based property test: random sequences of those, checking after every step
// that the accounts and the sessions' escrows add up to the root's boot quota.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  boot,
  KernelError,
  type DomainCap,
  type Quota,
  type Runtime,
  type Session,
} from 'multikernel'
import { within, until } from '../shared/bounded.js'
import { fixture, openWhenServed } from './domains.js'

let rt: Runtime
let puppetNo = 0

beforeAll(async () => {
  rt = await boot({ cores: 2, quota: { bytes: 64 * 1024 * 1024, handles: 4096 } })
  rt.serve('m', {
    open(req) {
      const want = (req.args as { want?: number } | null)?.want
      if (want !== undefined && want > req.quota.bytes) req.insufficient({ bytes: want })
      return { ping: () => 1 }
    },
  })
  rt.onResourceRequest((req) => req.bytes <= 100_000)
})

afterAll(async () => {
  await within(rt.shutdown(), 'shutdown')
})

function conserved(): void {
  const t = rt.quotaTotals()
  expect(t.root.bytes + t.domains.bytes + t.sessions.bytes).toBe(t.total.bytes)
  expect(t.root.handles + t.domains.handles + t.sessions.handles).toBe(t.total.handles)
}

interface Puppet {
  d: DomainCap
  name: string
  s: Session
}

async function puppet(quota?: Partial<Quota>): Promise<Puppet> {
  const name = `puppet-${++puppetNo}`
  const d = await rt.spawn(fixture('puppet.mjs'), { argv: [name], quota })
  const s = await openWhenServed(rt, name)
  return { d, name, s }
}

async function gone(p: Puppet): Promise<void> {
  await rt.kill(p.d).catch(() => undefined)
  await within(rt.wait(p.d, { reap: true }), 'puppet ends')
}

describe('quota', () => {
  it("a child's share is donated at spawn and returns when it is freed", async () => {
    const before = rt.quota()
    const p = await puppet({ bytes: 500_000, handles: 5 })
    expect(rt.quota(p.d)).toEqual({ bytes: 500_000, handles: 5 })
    conserved()
    await gone(p)
    // Freed once cleaned up (a moment after it stopped): then its share is back.
    await until(() => rt.quota().bytes === before.bytes, 'share back')
    expect(rt.quota()).toEqual(before)
    await expect(rt.spawn(fixture('puppet.mjs'), { quota: { bytes: 1e12 } })).rejects.toMatchObject(
      {
        code: 'OUT_OF_QUOTA',
      },
    )
    conserved()
  })

  it('OUT_OF_QUOTA, INSUFFICIENT_QUOTA (the channel, then the server), upgrade, and the refund on close', async () => {
    const p = await puppet({ bytes: 400_000, handles: 4 })
    // Short of the channel's cost.
    await expect(p.s.call('open', 'a', 'm', { quota: { bytes: 1000 } })).rejects.toMatchObject({
      cause: { code: 'INSUFFICIENT_QUOTA' },
    })
    // More than the puppet has.
    await expect(
      p.s.call('open', 'a', 'm', { quota: { bytes: 300_000, handles: 9 } }),
    ).rejects.toMatchObject({
      cause: { code: 'OUT_OF_QUOTA' },
    })
    // The server wants more than given: INSUFFICIENT_QUOTA says how much.
    const e = await p.s.call('open', 'a', 'm', { args: { want: 200_000 } }).catch((x: Error) => x)
    expect((e as KernelError).cause).toMatchObject({ code: 'INSUFFICIENT_QUOTA' })
    expect(String(((e as KernelError).cause as Error).message)).toMatch(/200000 bytes/)
    conserved()
    expect(rt.quota(p.d)).toEqual({ bytes: 400_000, handles: 4 })
    // Enough: opened, the quota moved into the session; upgrade moves more.
    await p.s.call('open', 'a', 'm', {
      quota: { bytes: 200_000, handles: 1 },
      args: { want: 200_000 },
    })
    expect(rt.quota(p.d)).toEqual({ bytes: 200_000, handles: 3 })
    await p.s.call('upgrade', 'a', { bytes: 50_000 })
    expect(rt.quota(p.d)).toEqual({ bytes: 150_000, handles: 3 })
    expect(rt.sessions().find((s) => s.client === p.d.id)?.quota).toEqual({
      bytes: 250_000,
      handles: 1,
    })
    await expect(p.s.call('upgrade', 'a', { bytes: 1e9 })).rejects.toMatchObject({
      cause: { code: 'OUT_OF_QUOTA' },
    })
    conserved()
    await p.s.call('close', 'a')
    expect(rt.quota(p.d)).toEqual({ bytes: 400_000, handles: 4 })
    conserved()
    await gone(p)
  })

  it("resource requests ask the parent (the runtime's policy here); yield asks a child to give back", async () => {
    const p = await puppet({ bytes: 10_000, handles: 1 })
    expect(await p.s.call('resourceRequest', { bytes: 50_000 })).toEqual({
      bytes: 60_000,
      handles: 1,
    })
    await expect(p.s.call('resourceRequest', { bytes: 5_000_000 })).rejects.toMatchObject({
      cause: { code: 'OUT_OF_QUOTA' },
    })
    conserved()
    await p.s.call('setGive', { bytes: 20_000 })
    expect(await rt.requestYield(p.d, { bytes: 30_000 })).toEqual({ bytes: 20_000, handles: 0 })
    expect(rt.quota(p.d)).toEqual({ bytes: 40_000, handles: 1 })
    // A child may give nothing: a polite request.
    await p.s.call('setGive', {})
    expect(await rt.requestYield(p.d, { bytes: 1 })).toEqual({ bytes: 0, handles: 0 })
    // A domain parent answers its child through onResourceRequest, and asks it to yield.
    const kidName = `puppet-${++puppetNo}`
    await p.s.call('spawn', 'k', kidName, { bytes: 1000, handles: 0 })
    const kid = await openWhenServed(rt, kidName)
    await expect(kid.call('resourceRequest', { bytes: 500 })).rejects.toMatchObject({
      cause: { code: 'OUT_OF_QUOTA' },
    })
    await p.s.call('setGrant', true)
    expect(await kid.call('resourceRequest', { bytes: 500 })).toEqual({ bytes: 1500, handles: 0 })
    conserved()
    await kid.call('setGive', { bytes: 1200 })
    expect(await p.s.call('requestYield', 'k', { bytes: 2000 })).toEqual({
      bytes: 1200,
      handles: 0,
    })
    expect(await kid.call('quota')).toEqual({ bytes: 300, handles: 0 })
    conserved()
    await p.s.call('kill', 'k')
    await gone(p)
  })

  it('model: random spawns, opens, upgrades, closes, kills, resource requests and yields conserve every byte and handle', async () => {
    const Q = fc.record({
      bytes: fc.integer({ min: 0, max: 400_000 }),
      handles: fc.integer({ min: 0, max: 3 }),
    })
    const Op = fc.oneof(
      fc.record({ op: fc.constant('spawn' as const), quota: fc.option(Q, { nil: undefined }) }),
      fc.record({
        op: fc.constant('open' as const),
        p: fc.nat(),
        quota: fc.option(Q, { nil: undefined }),
        want: fc.option(fc.integer({ min: 0, max: 400_000 }), { nil: undefined }),
      }),
      fc.record({ op: fc.constant('rootOpen' as const), quota: fc.option(Q, { nil: undefined }) }),
      fc.record({ op: fc.constant('close' as const), p: fc.nat(), k: fc.nat() }),
      fc.record({ op: fc.constant('upgrade' as const), p: fc.nat(), k: fc.nat(), q: Q }),
      fc.record({ op: fc.constant('kill' as const), p: fc.nat() }),
      fc.record({ op: fc.constant('resource' as const), p: fc.nat(), q: Q }),
      fc.record({ op: fc.constant('yield' as const), p: fc.nat(), q: Q, give: Q }),
    )
    const expected = new Set([
      'OUT_OF_QUOTA',
      'INSUFFICIENT_QUOTA',
      'SESSION_CLOSED',
      'SERVICE_DENIED',
      'DOMAIN_NOT_RUNNING',
      'CALL_FAILED',
      'DOMAIN_NOTFOUND',
    ])
    await fc.assert(
      fc.asyncProperty(fc.array(Op, { minLength: 10, maxLength: 30 }), async (ops) => {
        // Every run starts with two puppets to act on: one with the default share.
        const puppets: Puppet[] = [await puppet(), await puppet({ bytes: 900_000, handles: 8 })]
        const keys = new Map<Puppet, number>()
        const rootSessions: Session[] = []
        try {
          for (const o of ops) {
            const p = puppets[('p' in o ? o.p : 0) % puppets.length]
            try {
              switch (o.op) {
                case 'spawn':
                  puppets.push(await puppet(o.quota))
                  break
                case 'open':
                  if (p === undefined) break
                  keys.set(p, (keys.get(p) ?? 0) + 1)
                  await p.s.call('open', `s${keys.get(p)}`, 'm', {
                    quota: o.quota,
                    args: { want: o.want },
                  })
                  break
                case 'rootOpen':
                  rootSessions.push(await rt.session('m', { quota: o.quota }))
                  break
                case 'close':
                  if (p !== undefined)
                    await p.s.call('close', `s${1 + (o.k % Math.max(1, keys.get(p) ?? 1))}`)
                  else if (rootSessions.length > 0)
                    await rootSessions[o.k % rootSessions.length].close()
                  break
                case 'upgrade':
                  if (p !== undefined)
                    await p.s.call('upgrade', `s${1 + (o.k % Math.max(1, keys.get(p) ?? 1))}`, o.q)
                  break
                case 'kill':
                  if (p !== undefined) await rt.kill(p.d)
                  break
                case 'resource':
                  if (p !== undefined) await p.s.call('resourceRequest', o.q)
                  break
                case 'yield':
                  if (p === undefined) break
                  await p.s.call('setGive', o.give)
                  await rt.requestYield(p.d, o.q)
                  break
              }
            } catch (err) {
              const code = (err as KernelError).code
              const inner = ((err as KernelError).cause as KernelError | undefined)?.code
              if (!expected.has(code) && !(err instanceof TypeError)) throw err
              if (code === 'CALL_FAILED' && inner !== undefined && !expected.has(inner)) {
                // A puppet's call failed for a reason outside the model: surface it.
                if (!['BAD_HANDLE', 'PROTOCOL'].includes(inner)) throw err
              }
            }
            conserved()
          }
        } finally {
          for (const s of rootSessions) await s.close().catch(() => undefined)
          for (const p of puppets) await gone(p)
          await until(() => rt.sessions().length === 0, 'every session closed')
          conserved()
        }
      }),
      { numRuns: 15 },
    )
  })
})
