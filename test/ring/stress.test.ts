// Cross-thread stress on real worker_threads: a million frames of random sizes, each
// with a sequence number and a checksum, through a small SPSC ring (so it wraps and
// fills all the time), and the same through one MPMC ring from four producers. The
// workers check every frame and sleep on doorbells with bounded waits; the test
// is bounded by a timer too, so a lost wake-up fails instead of hanging.
import { afterEach, describe, expect, it } from 'vitest'
import { Doorbell, MpmcRing, SpscRing } from 'multikernel/ring'
import { TEST_MS, TestWorker, WAIT_MS, bounded, terminateAll } from './helpers.js'

afterEach(terminateAll)

const FRAMES = 1_000_000
const PRODUCERS = 4

describe('cross-thread stress', () => {
  it(`SPSC: ${FRAMES} frames, none lost, duplicated, reordered or corrupted`, async () => {
    const ring = SpscRing.create(4096)
    const common = {
      ringSab: ring.buffer,
      dataSab: Doorbell.create().buffer,
      roomSab: Doorbell.create().buffer,
      frames: FRAMES,
      seed: 0x2545f491,
      spin: 64,
      waitMs: WAIT_MS,
    }
    const consumer = new TestWorker<{ received: number; maxFrames: number }>(
      'spsc-consumer.mjs',
      common,
    )
    const producer = new TestWorker<{ blocked: number }>('spsc-producer.mjs', common)
    const [got, sent] = await bounded(
      Promise.all([consumer.result, producer.result]),
      TEST_MS,
      'SPSC stress',
    )
    expect(got.received).toBe(FRAMES)
    // The test really exercised the edges: full rings and maxPayload frames.
    expect(sent.blocked).toBeGreaterThan(0)
    expect(got.maxFrames).toBeGreaterThan(0)
    // Nothing extra after the last frame.
    expect(ring.usedBytes()).toBe(0)
    expect(new SpscRing(ring.buffer).poll()).toBe(-1)
  })

  it(`MPMC: ${PRODUCERS} producers x ${FRAMES / PRODUCERS} frames, each seen once, in producer order`, async () => {
    const ring = MpmcRing.create({ slots: 64, slotBytes: 64 })
    const common = {
      ringSab: ring.buffer,
      dataSab: Doorbell.create().buffer,
      roomSab: Doorbell.create().buffer,
      producers: PRODUCERS,
      frames: FRAMES / PRODUCERS,
      seed: 0x6b43a9b5,
      spin: 64,
      waitMs: WAIT_MS,
    }
    const consumer = new TestWorker<{ received: number; perProducer: number[] }>(
      'mpmc-consumer.mjs',
      common,
    )
    const producers = Array.from(
      { length: PRODUCERS },
      (_, id) => new TestWorker<{ casRetries: number }>('mpmc-producer.mjs', { ...common, id }),
    )
    const [got] = await bounded(
      Promise.all([consumer.result, ...producers.map((p) => p.result)]),
      TEST_MS,
      'MPMC stress',
    )
    expect(got.received).toBe(FRAMES)
    expect(got.perProducer).toEqual(Array(PRODUCERS).fill(FRAMES / PRODUCERS))
    expect(ring.size()).toBe(0)
    expect(new MpmcRing(ring.buffer).poll()).toBe(-1)
  })
})
