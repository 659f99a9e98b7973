// Property tests (fast-check): random frame sizes, batch sizes and interleavings of
// producer and consumer steps on one thread, against a model queue. The ring's
// contents must always equal the model's, and reserve/claim may refuse only when the
// model says the bytes (slots) do not fit. A fixed seed keeps runs reproducible; set
// FC_SEED to explore others.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { MpmcRing } from 'multikernel/ring'
import { pattern, sameBytes } from './helpers.js'
import { MpmcModel, ringAtIndex } from './model.js'

const seed = Number(process.env.FC_SEED ?? 20240531)

type SpscOp =
  | { kind: 'produce'; sizes: number[]; publish: boolean }
  | { kind: 'consume'; count: number; release: boolean }

// Sizes are drawn wide and folded into [0, maxPayload] per ring; small ones are
// favoured so batches hold many frames, big ones force wraps and full rings.
const size = fc.oneof(fc.nat({ max: 24 }), fc.nat({ max: 1 << 16 }))
const spscOp: fc.Arbitrary<SpscOp> = fc.oneof(
  fc.record({
    kind: fc.constant('produce' as const),
    sizes: fc.array(size, { minLength: 1, maxLength: 12 }),
    publish: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('consume' as const),
    count: fc.integer({ min: 1, max: 12 }),
    release: fc.boolean(),
  }),
)

describe('SpscRing against a model queue', () => {
  it('random frames, batches and interleavings', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(16, 64, 256, 1024),
        // Start anywhere, including just below the int32 overflow of the indices.
        fc.oneof(
          fc.nat({ max: 1 << 20 }).map((x) => x * 8),
          fc.integer({ min: -64, max: 64 }).map((x) => (0x7fffff00 + x * 8) | 0),
        ),
        fc.array(spscOp, { maxLength: 60 }),
        (capacity, start, ops) => {
          const h = ringAtIndex(capacity, start)
          const fold = (n: number): number => n % (h.p.maxPayload + 1)
          let pushed = 0
          let popped = 0
          for (const op of ops) {
            if (op.kind === 'produce') {
              // The harness compares every reserve() with the model: a refusal
              // exactly when the model has no contiguous room, and vice versa.
              for (const s of op.sizes) if (h.push(fold(s)) >= 0) pushed++
              if (op.publish) h.publish()
            } else {
              for (let i = 0; i < op.count && h.pop(); i++) popped++
              if (op.release) h.release()
            }
            h.check(op.kind === 'consume')
          }
          popped += h.drain()
          expect(popped).toBe(pushed)
          // After a full drain every size fits again (perhaps after passing a marker).
          const big = h.p.maxPayload
          if (h.push(big) < 0) {
            h.publish()
            expect(h.pop()).toBe(false)
            h.release()
            expect(h.push(big)).toBeGreaterThan(0)
          }
          expect(h.drain()).toBe(1)
        },
      ),
      { seed, numRuns: 400 },
    )
  })
})

type MpmcOp =
  | { kind: 'push'; sizes: number[] }
  | { kind: 'pop'; count: number; hold: boolean }
  | { kind: 'claimThenPoll'; size: number }

const mpmcOp: fc.Arbitrary<MpmcOp> = fc.oneof(
  fc.record({
    kind: fc.constant('push' as const),
    sizes: fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 10 }),
  }),
  fc.record({
    kind: fc.constant('pop' as const),
    count: fc.integer({ min: 1, max: 10 }),
    hold: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('claimThenPoll' as const), size: fc.nat({ max: 1000 }) }),
)

describe('MpmcRing against a model queue', () => {
  it('random frames, batches, held slots', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(2, 4, 8, 32),
        fc.constantFrom(16, 24, 64),
        fc.array(mpmcOp, { maxLength: 60 }),
        (slots, slotBytes, ops) => {
          // Producer and consumer objects over the same bytes, as two threads.
          const prod = MpmcRing.create({ slots, slotBytes })
          const cons = new MpmcRing(prod.buffer)
          // A second consumer for the visibility probe: cons may hold a polled slot, and
          // an instance that holds one may not poll again (RING_MISUSE).
          const probe = new MpmcRing(prod.buffer)
          const m = new MpmcModel(slots)
          let heldAt = -1
          let heldPayload: Uint8Array | null = null
          let tag = 0
          const fold = (n: number): number => n % (prod.maxPayload + 1)
          const claim = (len: number): number => {
            // The non-claiming check agrees with the model, and with claim() itself.
            if (prod.canClaim() !== m.canClaim()) {
              throw new Error(`canClaim() = ${prod.canClaim()}, the model says ${m.canClaim()}`)
            }
            const at = prod.claim(len)
            if (at < 0 === m.canClaim()) {
              throw new Error(`claim(${len}) = ${at} but the model says canClaim ${m.canClaim()}`)
            }
            return at
          }
          const releaseHeld = (): void => {
            if (heldPayload === null) return
            // Held, not released: the bytes are still the frame's.
            const still = cons.bytes.subarray(heldAt, heldAt + heldPayload.length)
            if (!sameBytes(still, heldPayload)) throw new Error('held slot overwritten')
            cons.release()
            heldPayload = null
            m.held = false
          }
          const pollOne = (): Uint8Array | null => {
            if (cons.isEmpty() !== (m.queue.length === 0)) {
              throw new Error(`isEmpty() = ${cons.isEmpty()}, the model holds ${m.queue.length}`)
            }
            const at = cons.poll()
            const want = m.queue.shift()
            if (want === undefined) {
              if (at !== -1) throw new Error(`poll() = ${at}, the model says empty`)
              return null
            }
            if (at < 0) throw new Error('poll() = -1, the model has a frame')
            const got = cons.bytes.subarray(at, at + cons.frameLength)
            if (!sameBytes(got, want)) throw new Error(`frame of ${want.length} bytes corrupted`)
            heldAt = at
            heldPayload = want
            m.held = true
            return want
          }
          for (const op of ops) {
            if (op.kind === 'push') {
              for (const s of op.sizes) {
                const payload = pattern(fold(s), ++tag)
                const at = claim(payload.length)
                if (at < 0) continue
                prod.bytes.set(payload, at)
                prod.commit()
                m.queue.push(payload)
              }
            } else if (op.kind === 'pop') {
              for (let i = 0; i < op.count; i++) {
                releaseHeld() // one thread holds at most one polled slot
                if (pollOne() === null) break
              }
              if (!op.hold) releaseHeld()
            } else {
              // A claimed, uncommitted frame is invisible to the consumer.
              const payload = pattern(fold(op.size), ++tag)
              const at = claim(payload.length)
              if (at < 0) continue
              prod.bytes.set(payload, at)
              if (m.queue.length === 0 && probe.poll() !== -1) {
                throw new Error('an uncommitted frame was visible')
              }
              prod.commit()
              m.queue.push(payload)
            }
            expect(prod.size()).toBe(m.queue.length)
          }
          releaseHeld()
          while (pollOne() !== null) releaseHeld()
          expect(m.queue.length).toBe(0)
          expect(cons.size()).toBe(0)
        },
      ),
      { seed, numRuns: 400 },
    )
  })
})
