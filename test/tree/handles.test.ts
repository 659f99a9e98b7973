// Handle tables (Camellia): a fixed maximum, close and reuse, copies and shares
// passed to a child at spawn, and handles that outlive the domain they named.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { boot, type DomainCap, type Runtime } from 'multikernel'
import { Scratch, fixture, within } from './helpers.js'

interface HandleInfo {
  handle: number
  domainId: number
}

let rt: Runtime
let s: Scratch

beforeEach(async () => {
  rt = await boot({ cores: 2, maxHandles: 8 })
  s = new Scratch()
})

afterEach(async () => {
  await rt.shutdown()
  s.cleanup()
})

async function run(scenario: string): Promise<DomainCap> {
  const d = await rt.spawn(fixture('handles.mjs'), {
    argv: [scenario],
    env: { OUT: s.path('out'), DIR: s.dir },
  })
  const r = await within(rt.wait(d), `${scenario} ends`)
  expect(r).toMatchObject({ exitCode: 0, reason: 'exited' })
  return d
}

describe('handle tables', () => {
  it('dup until HANDLE_TABLE_FULL; close frees the lowest slot for reuse; a replay is BAD_HANDLE', async () => {
    await run('dup-close')
    const r = s.read<{
      child: number
      h: number
      dups: number[]
      refusal: string
      full: HandleInfo[]
      reused: number
      replay: Record<string, string>
      after: HandleInfo[]
      childState: string
    }>('out')!
    expect(r.h).toBe(0)
    // maxHandles 8: the spawn took one slot, seven dups fill the rest.
    expect(r.dups).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(r.refusal).toBe('HANDLE_TABLE_FULL')
    expect(r.full).toEqual(
      Array.from({ length: 8 }, (_, handle) => ({ handle, domainId: r.child })),
    )
    expect(r.reused).toBe(3)
    expect(r.replay).toEqual({
      close: 'BAD_HANDLE',
      status: 'BAD_HANDLE',
      kill: 'BAD_HANDLE',
      dup: 'BAD_HANDLE',
    })
    expect(r.after.map((x) => x.handle)).toEqual([0, 1, 2, 3, 4, 6, 7])
    // The refused replayed kill did not reach the child.
    expect(r.childState).toBe('RUNNING')
  })

  it('handles copied at spawn are the child’s own: its dup and close leave the parent’s table alone', async () => {
    await run('copy')
    const r = s.read<{
      a: number
      b: number
      before: HandleInfo[]
      exit: { exitCode: number }
      after: HandleInfo[]
    }>('out')!
    const c = s.read<{
      inherited: HandleInfo[]
      dup: number
      mine: HandleInfo[]
      closedHere: string
      status0: string
    }>('out.child')!
    const idOf = (h: number): number => r.before.find((x) => x.handle === h)!.domainId
    const [aId, bId] = [idOf(r.a), idOf(r.b)]
    // New slots in the child's own table, in the order passed.
    expect(c.inherited).toEqual([
      { handle: 0, domainId: bId },
      { handle: 1, domainId: aId },
    ])
    expect(c.dup).toBe(2)
    expect(c.mine).toEqual([
      { handle: 0, domainId: bId },
      { handle: 2, domainId: bId },
    ])
    expect(c.closedHere).toBe('BAD_HANDLE')
    expect(c.status0).toBe('RUNNING')
    expect(r.exit.exitCode).toBe(0)
    // The parent's table is as it was (the child's own handle went with the child).
    expect(r.after).toEqual(r.before)
  })

  it('a shared table (shareHandles): the child’s dup and close are the parent’s too', async () => {
    await run('share')
    const r = s.read<{
      a: number
      aId: number
      sh: number
      exit: { exitCode: number }
      seen: HandleInfo[]
      status0: string
    }>('out')!
    const c = s.read<{ seen: HandleInfo[]; dup: number; mine: HandleInfo[] }>('out.child')!
    const shId = c.seen.find((x) => x.handle === r.sh)!.domainId
    expect(r.a).toBe(0)
    // The child saw the parent's table: its sibling-to-be and itself.
    expect(c.seen).toEqual([
      { handle: 0, domainId: r.aId },
      { handle: 1, domainId: shId },
    ])
    expect(c.dup).toBe(2)
    expect(c.mine).toEqual([
      { handle: 1, domainId: shId },
      { handle: 2, domainId: r.aId },
    ])
    expect(r.exit.exitCode).toBe(0)
    // In the parent: slot 0 closed by the child, the child's dup present.
    expect(r.seen).toContainEqual({ handle: 2, domainId: r.aId })
    expect(r.seen.some((x) => x.handle === 0)).toBe(false)
    expect(r.status0).toBe('BAD_HANDLE')
  })

  it('a stale handle: BAD_HANDLE in the reaper’s table, DOMAIN_NOTFOUND in a copy', async () => {
    await run('stale')
    const r = s.read<{
      aId: number
      exit: { domainId: number; exitCode: number }
      own: Record<string, string>
      bExit: { exitCode: number }
    }>('out')!
    const c = s.read<{
      states: string[]
      code: string
      kill: string
      wait: string
      span: string
      dup: number
      dupStatus: string
      close: string
      handles: HandleInfo[]
    }>('out.child')!
    expect(r.exit).toMatchObject({ domainId: r.aId, exitCode: 0 })
    // The reaper's handle was closed when the entry was freed.
    expect(r.own).toEqual({ status: 'BAD_HANDLE', kill: 'BAD_HANDLE', wait: 'BAD_HANDLE' })
    expect(r.bExit.exitCode).toBe(0)
    // The copy still names the id, which is gone (ids are never reused).
    expect(c.code).toBe('DOMAIN_NOTFOUND')
    expect(c.states.length).toBeGreaterThan(0)
    for (const st of c.states) expect(['RUNNING', 'STOP_PEND', 'STOPPED', 'CLEANED']).toContain(st)
    expect({ kill: c.kill, wait: c.wait, span: c.span }).toEqual({
      kill: 'DOMAIN_NOTFOUND',
      wait: 'DOMAIN_NOTFOUND',
      span: 'DOMAIN_NOTFOUND',
    })
    // A dup of a stale handle is as stale as the original; closing it is allowed.
    expect(c.dupStatus).toBe('DOMAIN_NOTFOUND')
    expect(c.close).toBe('ok')
    expect(c.handles).toEqual([{ handle: c.dup, domainId: r.aId }])
  })
})
