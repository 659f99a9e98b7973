/**
 * The main thread's event-loop delay under full spawn load (issue 11), measured
 * as the pm suite does (bench/pm/eld.ts: 256 trivial domains spawned and waited
 * (reaped) at all times, monitorEventLoopDelay at 1 ms resolution, 500 ms warm-up,
 * a 2 s window), with 1 core and with every core, plus what may explain it: the
 * main thread's GC pauses in the window and how its longest turns were spent.
 *
 *   npm run build && node bench/spawn-profile/eld.mjs [--runs 5]
 */
import { availableParallelism, loadavg } from 'node:os'
import { PerformanceObserver } from 'node:perf_hooks'
import { boot } from 'multikernel'
import { eventLoopDelay, spawnLoad } from '../../dist/bench/pm/eld.js'

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name)
  return i < 0 ? dflt : Number(process.argv[i + 1])
}
const runs = arg('--runs', 5)
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
const f = (x, d = 2) => x.toFixed(d)

const load0 = loadavg()[0]
const lines = []
const cpus = availableParallelism()
for (const cores of cpus > 1 ? [cpus, 1] : [1]) {
  const rs = []
  const gcs = []
  for (let r = 0; r < runs; r++) {
    const rt = await boot({ cores })
    const pauses = []
    const obs = new PerformanceObserver((l) => {
      for (const e of l.getEntries()) pauses.push(e.duration)
    })
    obs.observe({ entryTypes: ['gc'] })
    rs.push(await eventLoopDelay(2000, 500, spawnLoad(rt, 256)))
    obs.disconnect()
    await rt.shutdown()
    gcs.push({
      n: pauses.length,
      max: Math.max(0, ...pauses),
      sum: pauses.reduce((a, b) => a + b, 0),
    })
  }
  const m = (k) => median(rs.map((x) => x[k]))
  lines.push(
    `${cores} core${cores > 1 ? 's' : ''}: event-loop delay p50 ${f(m('p50'))} ms, p99 ${f(m('p99'))} ms ` +
      `(runs ${rs.map((x) => f(x.p99)).join(' ')}), max ${f(m('max'))} ms; ` +
      `${f(m('perSecond'), 0)} domains/s; main-thread GC per run (whole run incl. warm-up): ` +
      `${median(gcs.map((g) => g.n))} pauses, longest ${f(median(gcs.map((g) => g.max)))} ms, ` +
      `total ${f(median(gcs.map((g) => g.sum)), 1)} ms`,
  )
}
console.log(
  `event-loop delay under full spawn load (256 in flight, default boot options but cores): ` +
    `node ${process.version}, ${cpus} CPUs, ${runs} runs, medians; load average ${f(load0)} -> ${f(loadavg()[0])}`,
)
for (const l of lines) console.log(l)
