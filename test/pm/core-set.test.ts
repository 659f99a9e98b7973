// CoreSet replaces Sets of core numbers in the domain table: it must behave as one,
// for the low cores kept in a bitmask and the high ones kept beside it.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CoreSet } from '../../dist/src/kernel/core_set.js'

describe('CoreSet', () => {
  it('matches a Set under random adds and deletes, low and high cores', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 70 })), { maxLength: 200 }),
        (ops) => {
          const cs = new CoreSet()
          const model = new Set<number>()
          for (const [add, core] of ops) {
            if (add) {
              cs.add(core)
              model.add(core)
            } else {
              cs.delete(core)
              model.delete(core)
            }
            expect(cs.size).toBe(model.size)
            expect(cs.has(core)).toBe(model.has(core))
          }
          expect([...cs]).toEqual([...model].sort((a, b) => a - b))
        },
      ),
      { seed: 11, numRuns: 300 },
    )
  })

  it('iterates over a snapshot, so deleting while iterating is safe', () => {
    const cs = new CoreSet()
    for (const c of [0, 3, 30, 31, 40]) cs.add(c)
    const seen: number[] = []
    for (const c of cs) {
      seen.push(c)
      cs.delete(c)
    }
    expect(seen).toEqual([0, 3, 30, 31, 40])
    expect(cs.size).toBe(0)
  })
})
