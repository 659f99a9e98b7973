// Filicide (Camellia): killing a subtree stops every descendant, deepest first.
// Each node appends its own abort record to a shared log as its signal fires, so
// the log's order is the order in which the process manager stopped them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { boot, type DomainCap, type Runtime } from 'multikernel'
import { Scratch, fixture, sleep, until, within } from './helpers.js'

interface Abort {
  id: number
  name: string
  depth: number
}

let rt: Runtime
let s: Scratch

beforeEach(async () => {
  rt = await boot({ cores: 2 })
  s = new Scratch()
})

afterEach(async () => {
  await rt.shutdown()
  s.cleanup()
})

/** Depths in log order never increase: no node stopped before a descendant of it. */
function expectDeepestFirst(log: Abort[]): void {
  for (let i = 1; i < log.length; i++) expect(log[i].depth).toBeLessThanOrEqual(log[i - 1].depth)
}

/** Every domain under `top` (ids), walking rt.tree(). */
function subtreeIds(top: number): number[] {
  const out: number[] = []
  const walk = (n: { id: number; children: { id: number; children: unknown[] }[] }): void => {
    out.push(n.id)
    for (const c of n.children) walk(c as typeof n)
  }
  const root = rt.tree().find((n) => n.id === top)
  if (root !== undefined) walk(root)
  return out
}

async function grow(env: Record<string, string> = {}): Promise<DomainCap> {
  const top = await rt.spawn(fixture('node.mjs'), {
    argv: ['3', '2'],
    env: { LOG: s.path('log'), NAME: 't', DEPTH: '1', ...env },
  })
  // 1 + 2 + 4 nodes, all running.
  await until(
    () => rt.domains().filter((d) => d.state === 'RUNNING').length === 7,
    'three-level tree built',
  )
  return top
}

describe('filicide', () => {
  it('rt.kill(top, { subtree: true }) stops every descendant, deepest first', async () => {
    const top = await grow()
    const ids = subtreeIds(top.id)
    expect(ids).toHaveLength(7)
    await within(rt.kill(top, { subtree: true }), 'subtree kill')
    // Every node is stopped by now, killed (those still in the table show it).
    for (const d of rt.domains()) {
      expect(d.state === 'STOPPED' || d.state === 'CLEANED').toBe(true)
      expect(d).toMatchObject({ reason: 'killed', exitCode: 9 })
    }
    const log = s.lines<Abort>('log')
    expect(log.map((l) => l.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b))
    expect(log.map((l) => l.depth)).toEqual([3, 3, 3, 3, 2, 2, 1])
    expectDeepestFirst(log)
    // Descendants had no living parent left to wait: freed. The top stays for the root.
    await until(() => rt.domains().length === 1, 'descendants freed')
    expect(rt.status(top)).toMatchObject({ tree: 'zombie', children: [], reason: 'killed' })
    await within(rt.wait(top, { reap: true }), 'root reaps top')
    await until(() => rt.domains().length === 0, 'top freed')
  })

  it('ctx.kill(h, { subtree: true }) from inside the tree stops that subtree only', async () => {
    const killer = await rt.spawn(fixture('parent.mjs'), {
      argv: ['filicide'],
      env: { OUT: s.path('out'), DIR: s.dir, LOG: s.path('log') },
    })
    await until(() => s.read('out'), 'subtree spawned')
    await until(
      () => rt.domains().filter((d) => d.state === 'RUNNING').length === 8,
      'killer and its three-level subtree running',
    )
    const ids = subtreeIds(killer.id).filter((id) => id !== killer.id)
    s.go('kill')
    const r = await within(rt.wait(killer), 'killer ends')
    expect(r).toMatchObject({ exitCode: 0, reason: 'exited' })
    const out = s.read<{
      killed: string
      exit: { exitCode: number; reason: string }
      left: string
    }>('out')!
    expect(out.killed).toBe('ok')
    expect(out.exit).toMatchObject({ exitCode: 9, reason: 'killed' })
    expect(out.left).toBe('ECHILD')
    const log = s.lines<Abort>('log')
    // The killer itself was not in the subtree it killed.
    expect(log.map((l) => l.id).sort((a, b) => a - b)).toEqual(ids.sort((a, b) => a - b))
    expect(log.map((l) => l.depth)).toEqual([4, 4, 4, 4, 3, 3, 2])
    expectDeepestFirst(log)
    await until(() => rt.domains().length === 1, 'subtree freed')
  })

  it('leaves no living descendant even when parents replace their killed children', async () => {
    // Each inner node respawns a child whenever one of its children ends, so it
    // tries to repopulate the subtree while the kill works up from the leaves.
    const top = await grow({ RESPAWN: '1' })
    await within(rt.kill(top, { subtree: true }), 'subtree kill')
    // Respawns already sent when their parent was stopped must not survive either.
    await sleep(200)
    const living = rt.domains().filter((d) => d.state === 'RUNNING' || d.state === 'STOP_PEND')
    expect(living).toEqual([])
  })

  it('children whose spawn was in flight when the kill began are stopped too', async () => {
    // 200 spawns asked at once; the kill starts as soon as the first has landed.
    const b = await rt.spawn(fixture('bomb.mjs'), {
      argv: ['width-burst', '200', 'hold'],
      env: { OUT: s.path('out') },
    })
    await until(() => rt.domains().some((d) => d.parent === b.id), 'first child landed')
    await within(rt.kill(b, { subtree: true }), 'subtree kill')
    const alive = (): unknown[] =>
      rt.domains().filter((d) => d.state === 'RUNNING' || d.state === 'STOP_PEND')
    // The kill answered only once every spawn in flight was answered and stopped.
    expect(alive()).toEqual([])
    await sleep(100)
    expect(alive()).toEqual([])
    expect(rt.status(b)).toMatchObject({ reason: 'killed' })
  })
})
