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
        fc.array(fc.tuple(fc.boolean(), fc.nat({ max: 400 })), { maxLength: 600 }),
        (ops) => {
          const t = new DomainTable()
          const model = new Map<number, DomainEntry>()
          for (const [add, k] of ops) {
            if (add) {
              if (model.has(k + 1)) continue
              const e = entry(k + 1)
              t.add(e)
              model.set(k + 1, e)
            } else {
              // Delete one that is there (k picks it) or one that is not.
              const ids = [...model.keys()]
              const id = ids.length > 0 && k % 3 !== 0 ? ids[k % ids.length] : k + 1000
              t.delete(id)
              model.delete(id)
            }
            expect(t.size).toBe(model.size)
          }
          for (const [id, e] of model) expect(t.get(id)).toBe(e)
          for (let id = 1; id < 1400; id++) if (!model.has(id)) expect(t.get(id)).toBe(undefined)
          expect(t.values().map((e) => e.id)).toEqual([...model.keys()])
        },
      ),
      { seed: 11, numRuns: 100 },
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
          {
            maxLength: 200,
          },
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
