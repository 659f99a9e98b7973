// Parent/child lifecycles of the process tree (Camellia) in every order, as seen by
// the parent (its ctx reports) and by the runtime (rt.domains(), rt.tree()).
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { boot, type DomainCap, type Runtime } from 'multikernel'
import { Scratch, entry, fixture, sleep, until, within } from './helpers.js'

interface ChildExit {
  handle: number
  domainId: number
  exitCode: number
  reason: string
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

/** Start parent.mjs in `scenario`; it reports to s.path(out). */
function parent(scenario: string, out = 'out'): Promise<DomainCap> {
  return rt.spawn(fixture('parent.mjs'), {
    argv: [scenario],
    env: { OUT: s.path(out), DIR: s.dir },
  })
}

/** The root reaps `d`: freed once cleaned (the wait itself answers at STOPPED). */
async function reap(d: DomainCap): Promise<void> {
  await within(rt.wait(d, { reap: true }), `root reaps ${d.id}`)
  await until(() => entry(rt, d.id) === undefined, `domain ${d.id} freed`)
}

async function exitOf(d: DomainCap): Promise<number> {
  const r = await within(rt.wait(d), `domain ${d.id} to end`)
  if (r.status === 'running') throw new Error('still running')
  if (r.reason !== 'exited') throw new Error(`domain ${d.id} ended by ${r.reason}`)
  return r.exitCode
}

describe('parent and child lifecycles', () => {
  it('child dies before the parent waits: a zombie, reaped once, then freed', async () => {
    const freed = rt.freedDomains
    const p = await parent('child-dies-first')
    expect(await exitOf(p)).toBe(0)
    const r = s.read<{
      seen: { domainId: number; state: string; parent: number }
      children: { domainId: number; state: string; handle: number }[]
      exit: ChildExit
      after: string
    }>('out')!
    const c = r.seen.domainId
    expect(r.seen.parent).toBe(p.id)
    // The dead child was still listed (reapable) until the wait.
    expect(r.children).toEqual([expect.objectContaining({ domainId: c, handle: 0 })])
    expect(r.exit).toEqual({ handle: 0, domainId: c, exitCode: 7, reason: 'exited' })
    expect(r.after).toBe('ECHILD')
    // Reaped and cleaned: freed. The parent stays for the root's wait.
    await until(() => entry(rt, c) === undefined, 'reaped child freed')
    await reap(p)
    expect(rt.domains()).toEqual([])
    expect(rt.freedDomains - freed).toBe(2)
  })

  it('child dies after the parent waits: the wait blocks, then answers', async () => {
    const p = await parent('wait-blocks')
    const r0 = await until(
      () => s.read<{ waiting: boolean; early: unknown; earlyAny: unknown }>('out'),
      'parent about to wait',
    )
    // nohang answered null while the child ran, for one child and for any child.
    expect(r0).toEqual({ waiting: true, early: null, earlyAny: null })
    // Give the blocking wait time to reach the process manager (no time asserted).
    await sleep(50)
    expect(rt.status(p).state).toBe('RUNNING')
    const [c] = rt.status(p).children
    expect(entry(rt, c)).toMatchObject({ state: 'RUNNING', parent: p.id, tree: 'alive' })
    s.go('child')
    expect(await exitOf(p)).toBe(0)
    const r = s.read<{ exit: ChildExit }>('out')!
    expect(r.exit).toEqual({ handle: 0, domainId: c, exitCode: 5, reason: 'exited' })
  })

  it('waiting with no child answers ECHILD at once, also under nohang', async () => {
    const p = await parent('echild')
    expect(await exitOf(p)).toBe(0)
    expect(s.read('out')).toEqual({ wait: 'ECHILD', nohang: 'ECHILD', children: [] })
  })

  it('nohang answers null while the child runs; a killed child reaps as killed/9', async () => {
    const p = await parent('nohang')
    expect(await exitOf(p)).toBe(0)
    const r = s.read<{ one: unknown; any: unknown; exit: ChildExit }>('out')!
    expect(r.one).toBeNull()
    expect(r.any).toBeNull()
    expect(r.exit).toMatchObject({ handle: 0, exitCode: 9, reason: 'killed' })
  })

  it('wait for any child: several children ending in some order, each reaped once', async () => {
    const p = await parent('wait-any')
    const { ids } = await until(
      () => s.read<{ ids: number[]; results: ChildExit[] }>('out'),
      'children spawned',
    )
    expect(ids).toHaveLength(3)
    // End them one at a time, in an order unlike spawn order; the blocked wait()
    // answers each time with exactly the child that ended.
    const order = [2, 0, 1]
    for (let k = 0; k < order.length; k++) {
      s.go(`child${order[k]}`)
      const r = await until(
        () => {
          const x = s.read<{ results: ChildExit[] }>('out')
          return x !== undefined && x.results.length === k + 1 ? x : undefined
        },
        `wait number ${k + 1}`,
      )
      expect(r.results[k]).toMatchObject({
        domainId: ids[order[k]],
        exitCode: 10 + order[k],
        reason: 'exited',
      })
    }
    expect(await exitOf(p)).toBe(0)
    const r = s.read<{ results: ChildExit[]; last: string }>('out')!
    expect(new Set(r.results.map((x) => x.domainId))).toEqual(new Set(ids))
    expect(r.last).toBe('ECHILD')
    for (const id of ids) await until(() => entry(rt, id) === undefined, `child ${id} freed`)
  })
})

describe('parent dies first: orphans and tombstones', () => {
  /** Run exit-first; returns the parent and its orphaned child's id. */
  async function orphan(): Promise<{ p: DomainCap; c: number }> {
    const p = await parent('exit-first')
    expect(await exitOf(p)).toBe(0)
    const { child } = s.read<{ child: number }>('out')!
    return { p, c: child }
  }

  it('the orphan runs on; the parent stays as a tombstone until it ends', async () => {
    const freed = rt.freedDomains
    const { p, c } = await orphan()
    expect(entry(rt, c)).toMatchObject({ state: 'RUNNING', parent: p.id, tree: 'alive' })
    await until(() => rt.status(p).state === 'CLEANED', 'parent cleaned')
    expect(rt.status(p)).toMatchObject({ tree: 'tombstone', children: [c], exitCode: 0 })
    expect(rt.tree()).toEqual([
      expect.objectContaining({
        id: p.id,
        tree: 'tombstone',
        children: [expect.objectContaining({ id: c, state: 'RUNNING', tree: 'alive' })],
      }),
    ])
    expect(await rt.wait(rt.capOf(c), { nohang: true })).toEqual({ status: 'running' })
    // Orphan policy: nobody is left to wait for it, so it is freed once cleaned.
    s.go('child')
    await until(() => entry(rt, c) === undefined, 'orphan freed')
    // A root child is kept for the root's wait (now childless: a zombie of the root).
    expect(rt.status(p)).toMatchObject({ tree: 'zombie', children: [] })
    await reap(p)
    expect(rt.domains()).toEqual([])
    expect(rt.freedDomains - freed).toBe(2)
  })

  it('a tombstone reaped by the root goes together with its last orphan', async () => {
    const { p, c } = await orphan()
    await within(rt.wait(p, { reap: true }), 'root reaps the tombstone')
    await until(() => rt.status(p).state === 'CLEANED', 'tombstone cleaned')
    // Reaped and cleaned, but kept: a child of it still lives.
    expect(entry(rt, p.id)).toMatchObject({ tree: 'tombstone', children: [c] })
    s.go('child')
    await until(() => rt.domains().length === 0, 'orphan and tombstone freed')
    expect(() => rt.status(p)).toThrow(expect.objectContaining({ code: 'DOMAIN_NOTFOUND' }))
  })

  it('three levels: a grandparent reaps a tombstone; the orphan frees it on ending', async () => {
    const g = await parent('grandparent')
    const r = await until(() => s.read<{ mid: number; exit: ChildExit }>('out'), 'mid reaped')
    const { child: c } = s.read<{ child: number }>('out.mid')!
    expect(r.exit).toMatchObject({ domainId: r.mid, exitCode: 0, reason: 'exited' })
    // Reaped by its parent but still the parent of a living orphan.
    expect(entry(rt, r.mid)).toMatchObject({ parent: g.id, tree: 'tombstone', children: [c] })
    expect(entry(rt, c)).toMatchObject({ parent: r.mid, state: 'RUNNING' })
    expect(rt.tree()).toEqual([
      expect.objectContaining({
        id: g.id,
        tree: 'alive',
        children: [
          expect.objectContaining({
            id: r.mid,
            tree: 'tombstone',
            children: [expect.objectContaining({ id: c, tree: 'alive', children: [] })],
          }),
        ],
      }),
    ])
    s.go('child')
    await until(
      () => entry(rt, c) === undefined && entry(rt, r.mid) === undefined,
      'orphan and tombstone freed',
    )
    expect(rt.status(g)).toMatchObject({ state: 'RUNNING', children: [] })
    s.go('grandparent')
    expect(await exitOf(g)).toBe(0)
    await reap(g)
    expect(rt.domains()).toEqual([])
  })
})

describe('noreap children', () => {
  it('are never waited for, never block the parent, and are freed once cleaned', async () => {
    const freed = rt.freedDomains
    const p = await parent('noreap')
    // The parent returns while its detached child runs: nothing blocks it.
    expect(await exitOf(p)).toBe(0)
    const r = s.read<{
      children: { noreap: boolean }[]
      waitAny: string
      waitAnyNohang: string
      waitOne: string
      detachedId: number
      reaped: ChildExit
      thenWait: string
      quickId: number
      quickHandle: { domainId: number }[]
    }>('out')!
    expect(r.children).toEqual([expect.objectContaining({ domainId: r.detachedId, noreap: true })])
    // wait() ignores detached children: with only them left it is ECHILD at once.
    expect(r.waitAny).toBe('ECHILD')
    expect(r.waitAnyNohang).toBe('ECHILD')
    expect(r.waitOne).toBe('ECHILD')
    expect(r.reaped).toMatchObject({ exitCode: 4, reason: 'exited' })
    expect(r.thenWait).toBe('ECHILD')
    // The detached child that ended while its parent lived was freed, handle and all.
    expect(entry(rt, r.quickId)).toBeUndefined()
    expect(r.quickHandle.map((h) => h.domainId)).not.toContain(r.quickId)
    // The parent is a tombstone over its still running detached child.
    const d = r.detachedId
    expect(entry(rt, d)).toMatchObject({ noreap: true, parent: p.id, state: 'RUNNING' })
    await until(() => rt.status(p).state === 'CLEANED', 'parent cleaned')
    expect(rt.status(p).tree).toBe('tombstone')
    s.go('child')
    await until(() => entry(rt, d) === undefined, 'detached child freed')
    await reap(p)
    expect(rt.domains()).toEqual([])
    // Parent, the waitable child, and two detached children.
    expect(rt.freedDomains - freed).toBe(4)
  })
})

describe('snapshots', () => {
  it('rt.domains() and rt.tree() show parent, children and tree state', async () => {
    const p = await parent('tree')
    await until(() => s.read('out'), 'children spawned')
    const [c1, c2] = rt.status(p).children
    expect(rt.status(p)).toMatchObject({
      parent: null,
      children: [c1, c2],
      tree: 'alive',
      noreap: false,
      state: 'RUNNING',
    })
    expect(rt.status(rt.capOf(c1))).toMatchObject({
      parent: p.id,
      children: [],
      tree: 'alive',
      noreap: false,
    })
    expect(rt.status(rt.capOf(c2))).toMatchObject({ parent: p.id, noreap: true, tree: 'alive' })
    const leaf = fixture('leaf.mjs').href
    expect(rt.tree()).toEqual([
      {
        id: p.id,
        program: fixture('parent.mjs').href,
        state: 'RUNNING',
        tree: 'alive',
        exitCode: null,
        children: [
          { id: c1, program: leaf, state: 'RUNNING', tree: 'alive', exitCode: null, children: [] },
          { id: c2, program: leaf, state: 'RUNNING', tree: 'alive', exitCode: null, children: [] },
        ],
      },
    ])
    // Both children end: the waitable one is a zombie until its parent is gone; the
    // detached one is freed.
    s.go('child')
    await until(() => entry(rt, c2) === undefined, 'detached child freed')
    await until(() => entry(rt, c1)?.state === 'CLEANED', 'child cleaned')
    expect(rt.tree()).toEqual([
      expect.objectContaining({
        id: p.id,
        children: [expect.objectContaining({ id: c1, tree: 'zombie', exitCode: 0, children: [] })],
      }),
    ])
    // The parent ends without waiting: its zombie child is an orphan now, freed.
    s.go('parent')
    expect(await exitOf(p)).toBe(0)
    await until(() => entry(rt, c1) === undefined, 'zombie of a dead parent freed')
    expect(rt.tree()).toEqual([expect.objectContaining({ id: p.id, tree: 'zombie', children: [] })])
  })
})
