/**
 * Where the main thread allocates under spawn load: V8's sampling heap profiler
 * (including objects already collected) over spawn + wait(reap) of the trivial
 * domain, top allocation sites by bytes per domain.
 *
 *   npm run build && node bench/spawn-profile/alloc-sites.mjs [--window 256] [--total 20000] [--top 40] [--depth 3]
 *
 * The caller is run.mjs's lean loop, so the sites add up to what its garbage figure measures.
 */
import { Session } from 'node:inspector/promises'
import { boot } from 'multikernel'
import { leanLoop } from './lean.mjs'

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name)
  return i < 0 ? dflt : Number(process.argv[i + 1])
}
const window = arg('--window', 256)
const total = arg('--total', 20_000)
const top = arg('--top', 40)

const depth = arg('--depth', 3)

const rt = await boot()
await leanLoop(rt, 2000, window)
const s = new Session()
s.connect()
await s.post('HeapProfiler.startSampling', {
  samplingInterval: 128,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
})
await leanLoop(rt, total, window)
const { profile } = await s.post('HeapProfiler.stopSampling')
await rt.shutdown()

const sites = new Map()
let all = 0
const walk = (node, stack) => {
  const f = node.callFrame
  const here = `${f.functionName || '(anon)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}:${f.columnNumber + 1}`
  const st = [here, ...stack].slice(0, depth)
  if (node.selfSize > 0) {
    const k = st.join(' < ')
    sites.set(k, (sites.get(k) ?? 0) + node.selfSize)
    all += node.selfSize
  }
  for (const c of node.children) walk(c, st)
}
walk(profile.head, [])
console.log(`sampled ${(all / total).toFixed(0)} B per domain (window ${window}, ${total} domains)`)
for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${(v / total).toFixed(0).padStart(6)} B  ${k}`)
}
