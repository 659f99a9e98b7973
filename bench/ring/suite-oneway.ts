/**
 * The ring suite's one-way throughput section: the ring (reserveMany and reserve()
 * each) beside the bare hand-off, ringbuf.js and a polling postMessage consumer, at
 * 16 and 64 B frames, 64 and 1 frames per publish, and a ring larger than the
 * cores' private caches.
 */
import { median } from '../lib/stats.js'
import { prepareOneWay, runInterleaved, type Measured, type Prepared } from './crossthread.js'
import type { Section } from './suite-section.js'
import type { OneWayImpl } from './tasks.js'

/** Frames per publish in the batched runs, and the consumer's release interval. */
const BATCH = 64
export const RELEASE_EVERY = 256
/** One-way: iterations a waiting side polls before it sleeps on its Doorbell. */
export const ONEWAY_SPIN = 1 << 14
/** Data bytes of the one-way rings (ours and ringbuf.js alike): the Channel default. */
export const ONEWAY_CAPACITY = 1 << 16
/** The large-ring variant: bigger than a core's L2. */
const LARGE_CAPACITY = 1 << 22
/** postMessage one-way runs: frames in flight at most (credit through a shared word). */
export const PM_WINDOW = 8192
/** One-way consumer: busy-loop rounds between two looks at an empty ring. */
export const BACKOFF = 32

export async function onewaySection(c: Section): Promise<void> {
  const { say, owRuns, n, add, quiet } = c
  const group = `one-way throughput (2 workers), ${ONEWAY_CAPACITY >> 10} KiB rings`
  const ow = (
    impl: OneWayImpl,
    payload: number,
    batch: number,
    frames: number,
    capacity = ONEWAY_CAPACITY,
  ): Prepared =>
    prepareOneWay({
      impl,
      payload,
      batch,
      frames: n(frames),
      spin: ONEWAY_SPIN,
      releaseEvery: RELEASE_EVERY,
      backoff: BACKOFF,
      capacity,
      window: PM_WINDOW,
    })
  const sideCounters = (rb: Measured, pm: Measured | null): Record<string, number> => {
    const out: Record<string, number> = {
      ringbufConsumerSleeps: rb.extra.consumerSleeps,
      ringbufOthersCpuMax: rb.extra.othersCpuMax,
    }
    if (pm) {
      out.postMessagePollOthersCpuMax = pm.extra.othersCpuMax
      out.postMessagePollConsumerNaps = pm.extra.consumerSleeps
    }
    return out
  }
  const owCompares = (batch: number, payload: number): string =>
    `${batch} frame${batch > 1 ? 's' : ''} per publish and per postMessage; every consumer ` +
    `polls (ring, bare and ringbuf.js: ${ONEWAY_SPIN} polls, then a doorbell sleep; ` +
    `postMessage-poll: receiveMessageOnPort, ${ONEWAY_SPIN} polls, then a 50 us nap); ` +
    `ringbuf.js moves ${payload} B per frame (no header) where the ring moves ${payload + 8}; ` +
    `bare = the ring's bytes in fixed slots without ring bookkeeping (the limit)`
  for (const payload of [16, 64]) {
    const k = payload === 16 ? 1 : 0.5
    say(`one-way ${payload} B frames, ${BATCH} per publish: ring, bare, ringbuf.js, postMessage`)
    const [ringB, ringR, bareB, rbB, pmB] = await runInterleaved(
      [
        ow('ringMany', payload, BATCH, 8_000_000 * k),
        ow('ring', payload, BATCH, 8_000_000 * k),
        ow('bare', payload, BATCH, 8_000_000 * k),
        ow('ringbuf', payload, BATCH, 8_000_000 * k),
        ow('postMessagePoll', payload, BATCH, 2_000_000 * k),
      ],
      owRuns,
      quiet,
    )
    add(
      {
        name: `one-way ${payload} B frames, ${BATCH} per publish (reserveMany)`,
        group,
        unit: 'frames/s',
        better: 'higher',
        value: median(ringB.values),
        runs: ringB.values,
        compares: owCompares(BATCH, payload),
        peers: {
          'postMessage-poll': median(pmB.values),
          ringbuf: median(rbB.values),
          bare: median(bareB.values),
        },
        target: payload === 16 ? { op: '>=', value: 80e6 } : undefined,
        extra: { ...ringB.extra, ...sideCounters(rbB, pmB) },
      },
      {
        name: `one-way ${payload} B frames, ${BATCH} per publish, reserve() each`,
        group,
        unit: 'frames/s',
        better: 'higher',
        value: median(ringR.values),
        runs: ringR.values,
        compares: 'the same batches reserved one frame at a time with reserve()',
        peers: { 'ring reserveMany': median(ringB.values), bare: median(bareB.values) },
        extra: ringR.extra,
      },
    )
    say(`one-way ${payload} B frames, 1 per publish: ring, bare, ringbuf.js, postMessage`)
    const [ringF, bareF, rbF, pmF] = await runInterleaved(
      [
        ow('ring', payload, 1, 4_000_000 * k),
        ow('bare', payload, 1, 4_000_000 * k),
        ow('ringbuf', payload, 1, 2_000_000 * k),
        ow('postMessagePoll', payload, 1, 200_000),
      ],
      owRuns,
      quiet,
    )
    add({
      name: `one-way ${payload} B frames, 1 per publish`,
      group,
      unit: 'frames/s',
      better: 'higher',
      value: median(ringF.values),
      runs: ringF.values,
      compares: owCompares(1, payload),
      peers: {
        'postMessage-poll': median(pmF.values),
        ringbuf: median(rbF.values),
        bare: median(bareF.values),
      },
      target: payload === 16 ? { op: '>=', value: 12e6 } : undefined,
      extra: { ...ringF.extra, ...sideCounters(rbF, pmF) },
    })
  }

  // A ring larger than the cores' private caches: a line the producer writes again a
  // lap later has left the consumer's caches, so no invalidation has to reach them.
  say(`one-way 16 B frames, ${BATCH} per publish, ${LARGE_CAPACITY >> 20} MiB rings`)
  const [ringL, bareL, rbL] = await runInterleaved(
    [
      ow('ringMany', 16, BATCH, 8_000_000, LARGE_CAPACITY),
      ow('bare', 16, BATCH, 8_000_000, LARGE_CAPACITY),
      ow('ringbuf', 16, BATCH, 8_000_000, LARGE_CAPACITY),
    ],
    owRuns,
    quiet,
  )
  add({
    name: `one-way 16 B frames, ${BATCH} per publish (reserveMany), ${LARGE_CAPACITY >> 20} MiB ring`,
    group: `one-way throughput (2 workers), ${LARGE_CAPACITY >> 20} MiB rings`,
    unit: 'frames/s',
    better: 'higher',
    value: median(ringL.values),
    runs: ringL.values,
    compares: `${owCompares(BATCH, 16)}; every ring ${LARGE_CAPACITY >> 20} MiB (no postMessage: it has no ring)`,
    peers: { ringbuf: median(rbL.values), bare: median(bareL.values) },
    target: { op: '>=', value: 80e6 },
    extra: { ...ringL.extra, ...sideCounters(rbL, null) },
  })
}
