// Fifo serves the send queue, the retained list, the event queue and the restart
// history: it must behave as an array used as a queue, across growth and wrap-around.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Fifo } from '../../dist/src/fifo.js'

describe('Fifo', () => {
  it('matches an array queue under random pushes, shifts, peeks, drains and clears', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer(), fc.constantFrom('shift', 'drain', 'clear')), {
          maxLength: 400,
        }),
        (ops) => {
          const q = new Fifo<number>(4)
          const model: number[] = []
          for (const op of ops) {
            if (typeof op === 'number') {
              q.push(op)
              model.push(op)
            } else if (op === 'shift') {
              expect(q.shift()).toBe(model.shift())
            } else if (op === 'drain') {
              expect(q.drain()).toEqual(model.splice(0))
            } else {
              q.clear()
              model.length = 0
            }
            expect(q.length).toBe(model.length)
            expect(q.peek()).toBe(model[0])
          }
        },
      ),
    )
  })
})
