// The domain table is an open-addressing hash keyed by id beside an insertion-order
// list, and a domain entry keeps its three sets of cores as masks in itself: both
// must behave as the Map and the Sets they replace.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { mintCap } from '../../dist/src/kernel/cap.js'
import { DomainEntry, DomainTable } from '../../dist/src/kernel/domain_table.js'
import { RESOURCES, RUNNING, SPANNING } from '../../dist/src/kernel/core_set.js'

const owner = { spawnAnswered: (): void => undefined, limits: { maxHandles: 16 } }
const entry = (id: number, core = 0): DomainEntry =>
  new DomainEntry(owner, id, mintCap(id), core, 'file:///x.mjs', [], {}, 0, 1, false, null)

describe('DomainTable', () => {
  it('matches a Map under random adds and deletes, iterating in insertion order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.nat()), {
          minLength: 200,
          maxLength: 500,
        }),
        (ops) => {
          const t = new DomainTable()
          const model = new Map<number, DomainEntry>()
          for (const [what, k] of ops) {
            if (what < 6) {
              // Ids as the process manager makes them: in order, some never added (a failed spawn).
              const id = t.allocateId()
              if (what === 0) continue
              const e = entry(id)
              t.add(e)
              model.set(id, e)
            } else {
              const ids = [...model.keys()]
              const id = ids.length > 0 && what !== 9 ? ids[k % ids.length] : k
              t.delete(id)
              model.delete(id)
            }
            expect(t.size).toBe(model.size)
            const lost = [...model].filter(([id, e]) => t.get(id) !== e)
            expect(lost.map(([id]) => id)).toEqual([])
          }
          for (let id = 1; id < 600; id++) if (!model.has(id)) expect(t.get(id)).toBe(undefined)
          expect(t.values().map((e) => e.id)).toEqual([...model.keys()])
        },
      ),
      { seed: 11, numRuns: 50 },
    )
  })

  it('hands out increasing ids, never reused', () => {
    const t = new DomainTable()
    const a = t.allocateId()
    const e = entry(a)
    t.add(e)
    t.delete(a)
    expect(t.allocateId()).toBe(a + 1)
  })
})

describe('DomainEntry cores', () => {
  it('keep three sets that match Sets, for low and high cores', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.boolean(),
            fc.constantFrom(RUNNING, SPANNING, RESOURCES),
            fc.nat({ max: 70 }),
          ),
          { minLength: 50, maxLength: 200 },
        ),
        (ops) => {
          const e = entry(1, 5)
          const model = [new Set([5]), new Set<number>(), new Set([5])]
          for (const [add, role, core] of ops) {
            if (add) {
              e.addCore(role, core)
              model[role].add(core)
            } else {
              e.deleteCore(role, core)
              model[role].delete(core)
            }
            expect(e.hasCore(role, core)).toBe(model[role].has(core))
          }
          for (const role of [RUNNING, SPANNING, RESOURCES] as const) {
            const want = [...model[role]].sort((a, b) => a - b)
            expect(e.coreCount(role)).toBe(want.length)
            expect(e.coreList(role)).toEqual(want)
            expect(e.firstCore(role)).toBe(want.length === 0 ? -1 : want[0])
          }
        },
      ),
      { seed: 11, numRuns: 300 },
    )
  })
})
