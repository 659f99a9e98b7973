/**
 * The ring suite's round-trip latency section: both sides polling (beside a polling
 * postMessage and the bare Atomics limit), the echo asleep before each ping or back
 * to back (beside bare Atomics.wait/notify), and both sides asleep (beside
 * event-driven postMessage); p50 and p99 of each.
 */
import { median } from '../lib/stats.js'
import { prepareRoundTrip, runInterleaved, type Measured, type Prepared } from './crossthread.js'
import type { Section } from './suite-section.js'
import type { RoundTripImpl } from './tasks.js'

/** Round trip, spin mode: iterations before a waiting side sleeps (a few ms at most). */
const RT_SPIN = 1 << 20
/** Round trip, consumer asleep: how long the pinger lets it sleep before each ping. */
const SLEEP_GAP_US = 20

export async function roundTripSection(c: Section): Promise<void> {
  const { say, runs, n, add, quiet } = c
  say('round trip: polling (ring, bare, postMessage), asleep (ring, bare), event-driven')
  const rt = (
    impl: RoundTripImpl,
    mode: 'spin' | 'sleep',
    count: number,
    gapUs: number,
    spin = RT_SPIN,
  ): Prepared => prepareRoundTrip({ impl, mode, count: n(count), spin, gapUs })
  const [rtSpin, bareSpin, pollSpin, rtSleep, bareSleep, rtDoze, bareDoze, rtBlock, rtPm] =
    await runInterleaved(
      [
        rt('ring', 'spin', 200_000, 0),
        rt('bare', 'spin', 200_000, 0),
        rt('postMessagePoll', 'spin', 50_000, 0),
        rt('ring', 'sleep', 20_000, SLEEP_GAP_US),
        rt('bare', 'sleep', 20_000, SLEEP_GAP_US),
        rt('ring', 'sleep', 20_000, 0),
        rt('bare', 'sleep', 20_000, 0),
        rt('ring', 'sleep', 20_000, 0, 0),
        rt('postMessage', 'spin', 20_000, 0),
      ],
      runs,
      quiet,
    )
  const p99 = (m: Measured): number[] => m.p99 ?? []
  const rtGroup = 'round trip, 16 B each way (2 workers)'
  const both = (
    name: string,
    m: Measured,
    peers: Record<string, Measured>,
    compares: string,
    target?: number,
    note?: string,
  ): void => {
    const at = (k: 'p50' | 'p99'): Record<string, number> => {
      const out: Record<string, number> = {}
      for (const [peer, pm] of Object.entries(peers))
        out[peer] = median(k === 'p50' ? pm.values : p99(pm))
      return out
    }
    add(
      {
        name: `round trip p50, ${name}`,
        group: rtGroup,
        unit: 'us',
        better: 'lower',
        value: median(m.values),
        runs: m.values,
        compares,
        peers: at('p50'),
        target: target === undefined ? undefined : { op: '<=', value: target },
        extra: m.extra,
        note,
      },
      {
        name: `round trip p99, ${name}`,
        group: rtGroup,
        unit: 'us',
        better: 'lower',
        value: median(p99(m)),
        runs: p99(m),
        compares,
        peers: at('p99'),
      },
    )
  }
  both(
    'both sides polling',
    rtSpin,
    { 'postMessage-poll': pollSpin, bare: bareSpin },
    'both sides poll: ring (2^20 polls, then a doorbell sleep), postMessage-poll ' +
      '(receiveMessageOnPort on both sides), bare (one Int32 word each way, Atomics.store/load: the limit)',
    1,
  )
  both(
    `consumer asleep (${SLEEP_GAP_US} us after it slept)`,
    rtSleep,
    { bare: bareSleep },
    'the echo sleeps in Atomics.wait before every ping, the pinger polls; bare = plain ' +
      'Atomics.wait/notify on one word with the same gap (the floor; no postMessage peer ' +
      'can be made to sleep the same way)',
    8,
    'each ping waits until the echo announced sleep plus the gap, so every round trip ' +
      'includes a full wake-up',
  )
  both(
    'consumer spins zero, pings back to back',
    rtDoze,
    { bare: bareDoze },
    'the echo heads for Atomics.wait after every reply, the pinger polls; bare = ' +
      'Atomics.wait/notify on one word, back to back too (the limit)',
    8,
    'the next ping may catch the echo on its way to sleep (echoSleepsPerRoundTrip says how ' +
      'often it reached the wait)',
  )
  both(
    'both sides asleep (spin 0)',
    rtBlock,
    { postMessage: rtPm },
    'nobody spins: the ring pinger and echo sleep in Atomics.wait on their doorbells between ' +
      'messages; postMessage: both event loops idle between messages (event-driven)',
  )
}
