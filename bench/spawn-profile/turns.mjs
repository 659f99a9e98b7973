/**
 * What the event loop's long turns under full spawn load are made of: turns
 * (check phase to check phase, after a 500 ms warm-up, for 2 s) longer than 1 ms,
 * and how much of them the main thread's GC pauses cover.
 *
 *   npm run build && node bench/spawn-profile/turns.mjs [cores]
 */
import { PerformanceObserver } from 'node:perf_hooks'
import { boot } from 'multikernel'
import { spawnLoad } from '../../dist/bench/pm/eld.js'
const rt = await boot({ cores: Number(process.argv[2] ?? 2) })
const gcs = []
const obs = new PerformanceObserver((l) => {
  for (const e of l.getEntries()) gcs.push([e.startTime, e.startTime + e.duration, e.detail?.kind])
})
obs.observe({ entryTypes: ['gc'] })
let on = true
const t00 = performance.now()
setTimeout(() => {
  on = false
}, 2500)
const gaps = []
let last = performance.now()
const tick = () => {
  const n = performance.now()
  if (n - t00 > 500) gaps.push([last, n])
  last = n
  if (on) setImmediate(tick)
}
setImmediate(tick)
await spawnLoad(rt, 256)(
  () => on,
  () => {},
)
await new Promise((r) => setTimeout(r, 50))
obs.disconnect()
await rt.shutdown()
const long = gaps.filter(([a, b]) => b - a > 1)
let gcOverlap = 0,
  gcMs = 0
for (const [a, b] of long) {
  let g = 0
  for (const [s, e] of gcs) {
    const o = Math.min(b, e) - Math.max(a, s)
    if (o > 0) g += o
  }
  if (g > 0) gcOverlap++
  gcMs += g
}
const longMs = long.reduce((x, [a, b]) => x + b - a, 0)
console.log(
  `turns>1ms: ${long.length}, total ${longMs.toFixed(1)} ms, with a GC in them: ${gcOverlap}, GC time in them ${gcMs.toFixed(1)} ms; GCs ${gcs.length} (minor ${gcs.filter((g) => g[2] === 1).length}), GC total ${gcs.reduce((x, [s, e]) => x + e - s, 0).toFixed(1)} ms`,
)
