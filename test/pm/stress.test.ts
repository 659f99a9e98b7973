/**
 * 1,000 domains across both cores with seeded random exits, throws and kills: every
 * wait answers right, every domain ends CLEANED, nothing is left in the queues or in
 * the spawnds' tables; and a user program doing the same in a child process exits by
 * itself after shutdown (no worker or handle leaked).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { boot, type DomainCap, type Runtime, type WaitResult } from 'multikernel'
import {
  cleanupBarrier,
  expectCleaned,
  expectQueuesAtRest,
  fixture,
  prng,
  within,
} from './helpers.js'

/** Change to explore; a failure names the seed so it can be replayed. */
const SEED = 0x6b65726e

let rt: Runtime | undefined
let child: ChildProcess | undefined

afterEach(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL')
  }
  child = undefined
  if (rt !== undefined) await within(rt.shutdown(), 'shutdown')
  rt = undefined
})

type Kind = 'return' | 'exit' | 'throw' | 'kill' | 'span-kill'

interface Plan {
  kind: Kind
  core: number
  argv: string[]
  /** Event-loop turns to let pass before the kill (varies the interleaving only). */
  turns: number
  expected: { exitCode: number; reason: string; message?: string }
}

function plan(i: number, rnd: ReturnType<typeof prng>): Plan {
  const r = rnd.next()
  const core = rnd.int(2)
  const code = rnd.int(256)
  const delay = String(rnd.int(4)) // ms before a self-ending domain ends
  const turns = rnd.int(3)
  if (r < 0.3) {
    return {
      kind: 'return',
      core,
      argv: ['return', String(code), delay],
      turns,
      expected: { exitCode: code, reason: 'exited' },
    }
  }
  if (r < 0.5) {
    return {
      kind: 'exit',
      core,
      argv: ['exit', String(code), delay],
      turns,
      expected: { exitCode: code, reason: 'exited' },
    }
  }
  if (r < 0.7) {
    const message = `fail-${i}`
    return {
      kind: 'throw',
      core,
      argv: ['throw', message, delay],
      turns,
      expected: { exitCode: 1, reason: 'error', message },
    }
  }
  // Sleepers end only when killed, so the outcome never depends on timing.
  return {
    kind: r < 0.9 ? 'kill' : 'span-kill',
    core,
    argv: ['sleep'],
    turns,
    expected: { exitCode: 9, reason: 'killed' },
  }
}

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

it(`1,000 domains with random exits, throws and kills (seed ${SEED.toString(16)})`, async () => {
  const r = (rt = await boot({ cores: 2 }))
  const rnd = prng(SEED)
  const plans = Array.from({ length: 1000 }, (_, i) => plan(i, rnd))
  const caps: DomainCap[] = []

  const one = async (p: Plan, i: number): Promise<WaitResult> => {
    const d = await r.spawn(fixture('behave.mjs'), { core: p.core, argv: p.argv })
    caps[i] = d
    if (p.kind !== 'kill' && p.kind !== 'span-kill') return r.wait(d)
    expect(await r.wait(d, { nohang: true })).toEqual({ status: 'running' })
    if (p.kind === 'span-kill') await r.span(d, 1 - p.core)
    const w = r.wait(d) // made before the kill, answered by it
    await turns(p.turns)
    await r.kill(d)
    return w
  }
  const results = await within(Promise.all(plans.map(one)), '1,000 domains', 45_000)

  const kinds = new Map<Kind, number>()
  for (const [i, p] of plans.entries()) {
    kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + 1)
    const res = results[i]
    expect(res.status, `domain ${i} (${p.kind})`).not.toBe('running')
    expect(res, `domain ${i} (${p.kind})`).toMatchObject({
      exitCode: p.expected.exitCode,
      reason: p.expected.reason,
    })
    if (p.expected.message !== undefined) {
      expect(res, `domain ${i}`).toMatchObject({ error: { message: p.expected.message } })
    } else {
      expect(res, `domain ${i}`).not.toHaveProperty('error')
    }
  }
  // The seed gives every kind a fair share.
  for (const k of ['return', 'exit', 'throw', 'kill', 'span-kill'] as const) {
    expect(kinds.get(k) ?? 0, k).toBeGreaterThan(50)
  }

  await cleanupBarrier(r)
  expect(r.domains()).toHaveLength(1000)
  for (const s of r.domains()) expectCleaned(s)
  // Every spawnd's table is empty again, and nothing waits in either queue.
  expect(await r.ps(0)).toEqual([])
  expect(await r.ps(1)).toEqual([])
  await expectQueuesAtRest(r)
  // Waits after cleanup still answer, with the same status.
  const again = await within(Promise.all(caps.map((d) => r.wait(d))), 'waits after cleanup')
  for (const [i, res] of again.entries()) {
    expect(res).toMatchObject({ status: 'cleaned', exitCode: plans[i].expected.exitCode })
  }

  await within(r.shutdown(), 'shutdown')
  for (const s of r.stats()) expect(s.health).toBe('down')
})

it('a program that boots, works and shuts down exits by itself (no leaked worker or handle)', async () => {
  const script = fileURLToPath(fixture('exit-check.mjs'))
  const c = (child = spawn(process.execPath, [script, String(SEED)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }))
  let out = ''
  let err = ''
  c.stdout?.on('data', (b: Buffer) => (out += b.toString()))
  c.stderr?.on('data', (b: Buffer) => (err += b.toString()))
  const ended = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    c.on('exit', (code, signal) => resolve({ code, signal })),
  )
  // A process kept alive by a leaked worker or handle never exits: fail, then kill it
  // (afterEach).
  const exit = await within(ended, 'the child process exiting by itself', 30_000)
  expect(err).toBe('')
  expect(exit).toEqual({ code: 0, signal: null })
  const report = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
    domains: number
    mismatches: unknown[]
    notCleaned: number
    health: string[]
    active: string[]
  }
  expect(report.mismatches).toEqual([])
  expect(report.domains).toBeGreaterThan(100)
  expect(report.notCleaned).toBe(0)
  expect(report.health).toEqual(['down', 'down'])
  expect(report.active).toEqual([])
})
