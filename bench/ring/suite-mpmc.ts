/**
 * The ring suite's MPMC section: several producers into one MpmcRing, spinning
 * only or spinning then sleeping (its default), beside postMessage with an
 * event-driven consumer.
 */
import { availableParallelism } from 'node:os'
import { DEFAULT_SPIN } from '../../src/ring/index.js'
import { median } from '../lib/stats.js'
import { prepareMpmc, runInterleaved, type Prepared } from './crossthread.js'
import type { Section } from './suite-section.js'

const MPMC_PRODUCERS = 4
const MPMC_SLOTS = 256

export async function mpmcSection(c: Section): Promise<void> {
  const { say, runs, n, add, quiet } = c
  const mp = (impl: 'ring' | 'postMessage', mode: 'spin' | 'sleep'): Prepared =>
    prepareMpmc({
      impl,
      mode,
      producers: MPMC_PRODUCERS,
      frames: n(impl === 'ring' ? 500_000 : 75_000),
      slots: MPMC_SLOTS,
      spin: DEFAULT_SPIN,
      window: 4096,
    })
  say(`${MPMC_PRODUCERS} producers into one MpmcRing: spin only, spin then sleep, postMessage`)
  const [mpSpin, mpSleep, mpPm] = await runInterleaved(
    [mp('ring', 'spin'), mp('ring', 'sleep'), mp('postMessage', 'sleep')],
    runs,
    quiet,
  )
  const mpGroup = `${MPMC_PRODUCERS} producers -> 1 consumer, MpmcRing of ${MPMC_SLOTS} x 64 B (${MPMC_PRODUCERS + 1} threads on ${availableParallelism()} cpus)`
  add(
    {
      name: 'MPMC 16 B frames, spin only',
      group: mpGroup,
      unit: 'frames/s',
      better: 'higher',
      value: median(mpSpin.values),
      runs: mpSpin.values,
      compares: 'no ratio: no polling multi-producer peer is measured',
      extra: mpSpin.extra,
    },
    {
      name: `MPMC 16 B frames, spin ${DEFAULT_SPIN} then sleep (default)`,
      group: mpGroup,
      unit: 'frames/s',
      better: 'higher',
      value: median(mpSleep.values),
      runs: mpSleep.values,
      compares:
        `the ring at its default (spin ${DEFAULT_SPIN}, then a doorbell sleep) against ` +
        `postMessage with an event-driven consumer, one frame per message, ${MPMC_PRODUCERS} ` +
        `producers each`,
      peers: { postMessage: median(mpPm.values) },
      extra: mpSleep.extra,
    },
  )
}
