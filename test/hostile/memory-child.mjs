// Run by memory.test.ts in a child process (a memory fault may abort a process):
// boots a runtime with a small per-core budget, runs a leaking domain on core 1
// and a bystander on core 0, and prints what happened as one JSON line.
import { boot } from 'multikernel'

const [kind, mode] = process.argv.slice(2)
const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url)
const bounded = (p, ms, what) =>
  Promise.race([
    p,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref(),
    ),
  ])

const rt = await boot({
  cores: 2,
  // A loop that never yields is also a hang (silent > 2 periods): a long period
  // here lets the memory rule be the one that names it.
  supervisor: { periodMs: 2000 },
  coreMemory: { heapMb: 96, externalMb: 96 },
})
const events = []
rt.events.on('event', (e) => events.push(e))
const bystander = await rt.spawn(fixture('bystander.mjs'), { core: 0 })
const leak = await rt.spawn(fixture('leak.mjs'), { core: 1, argv: [kind, mode, '3000'] })
const leakEnd = await bounded(rt.wait(leak), 60_000, 'the leaking domain to end')
await bounded(
  new Promise((resolve) => {
    const check = () =>
      events.some((e) => e.type === 'core-restarted' && e.core === 1)
        ? resolve()
        : setTimeout(check, 20)
    check()
  }),
  30_000,
  'core 1 to restart',
)
let after = null
for (let i = 0; i < 200 && after === null; i++) {
  try {
    after = await rt.wait(await rt.spawn(fixture('ok.mjs'), { core: 1 }))
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
const bystanderState = rt.status(bystander).state
const bystanderEnd = await bounded(rt.terminate(bystander, 5000), 10_000, 'the bystander')
const oom = events
  .filter((e) => e.type === 'core-out-of-memory')
  .map((e) => ({ core: e.core, why: e.why }))
const failed = events
  .filter((e) => e.type === 'core-failed')
  .map((e) => ({ core: e.core, why: e.why }))
await rt.shutdown()
console.log(JSON.stringify({ leakEnd, after, bystanderState, bystanderEnd, oom, failed }))
