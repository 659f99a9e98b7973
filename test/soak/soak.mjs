#!/usr/bin/env node
// The hostile-domain soak (issue 10): a seeded random mix of every fault a domain or a
// careless caller can commit, thousands of domains over minutes, in this process. The
// invariants: the process lives, every promise settles (each bounded), every core comes
// back, and rt.domains() returns to empty. Exit 0 when they hold, 1 otherwise; the last
// line printed is a JSON summary.
//
//   node test/soak/soak.mjs [--seed N] [--domains N] [--seconds S] [--cores N] [--concurrency N]
//
// `npm run soak` runs it at full size; test/soak/soak.test.ts at a size that fits CI.
import { boot } from 'multikernel'

const opts = { seed: 1, domains: 4000, seconds: 300, cores: 2, concurrency: 32, memoryMb: 96 }
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '')
  if (!(key in opts)) {
    console.error(`unknown option --${key}`)
    process.exit(2)
  }
  opts[key] = Number(process.argv[i + 1])
}

// mulberry32: a small seeded generator, so a failing mix can be replayed.
let state = opts.seed >>> 0
function random() {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

// Weights of each fault. The heavy ones (a frozen or exhausted core) are also capped in
// count: each costs a core restart of a second or more.
const MODES = [
  ['ok', 24],
  ['exit-code', 8],
  ['throw-error', 5],
  ['throw-null-proto', 3],
  ['throw-bad-message', 3],
  ['throw-proxy', 3],
  ['throw-tostring', 3],
  ['throw-cause', 3],
  ['reject-stray', 4],
  ['timer-throw', 4],
  ['replace-global', 2],
  ['distinct-url', 5],
  ['bad-exit', 4],
  ['long', 6],
  ['children', 4],
  ['process-exit', 1],
  ['sync-loop', 1],
  ['alloc', 1],
]
const HEAVY = new Set(['process-exit', 'sync-loop', 'alloc'])
const heavyCap = Math.max(2, Math.floor(opts.domains / 500))
const heavyUsed = { 'process-exit': 0, 'sync-loop': 0, alloc: 0 }
const totalWeight = MODES.reduce((s, [, w]) => s + w, 0)
function pickMode() {
  let r = random() * totalWeight
  for (const [mode, w] of MODES) if ((r -= w) < 0) return mode
  return 'ok'
}

const FIXTURE = new URL('./fixtures/chaos.mjs', import.meta.url)
const BOUND_MS = 60_000
const summary = {
  options: opts,
  attempted: 0,
  spawned: 0,
  refused: {},
  refusalSamples: [],
  reasons: {},
  modes: {},
  hung: [],
  badArgumentsAccepted: [],
  listenerErrors: 0,
  unexpectedUncaught: [],
  coreFaults: 0,
  coresUp: false,
  domainsLeft: -1,
  shutdown: 'not reached',
  heapMb: {},
  seconds: 0,
}

class Marker extends Error {}
process.on('uncaughtException', (err) => {
  if (err instanceof Marker) summary.listenerErrors++
  else summary.unexpectedUncaught.push(String(err && err.stack ? err.stack : err))
})
process.on('unhandledRejection', (err) => {
  summary.unexpectedUncaught.push(
    `unhandled rejection: ${String(err && err.stack ? err.stack : err)}`,
  )
})

/** p, or a recorded hang after BOUND_MS: a promise that never settles fails the soak. */
function bounded(p, what) {
  let timer
  const limit = new Promise((resolve) => {
    timer = setTimeout(() => {
      summary.hung.push(what)
      resolve({ hung: true })
    }, BOUND_MS)
  })
  return Promise.race([
    p.then(
      (v) => ({ v }),
      (e) => ({ e }),
    ),
    limit,
  ]).finally(() => clearTimeout(timer))
}

function count(table, key) {
  table[key] = (table[key] ?? 0) + 1
}

const started = Date.now()
const heapBefore = process.memoryUsage().heapUsed
const rt = await boot({
  cores: opts.cores,
  coreMemory: { heapMb: opts.memoryMb, externalMb: opts.memoryMb },
  supervisor: {
    periodMs: 200,
    // A soak restarts cores many times on purpose: never give one up.
    coreRestart: { backoff: [0, 1], maxRestarts: 1_000_000, withinMs: 1000 },
  },
})

// Main-thread faults: a listener that throws now and then, and an iterator never read.
let exits = 0
rt.events.on('exited', () => {
  if (++exits % 97 === 0) throw new Marker('chaos: a throwing listener')
})
rt.events.on('core-failed', () => summary.coreFaults++)
const unread = rt.events[Symbol.asyncIterator]()
void unread.next()

/** A careless caller: each must throw or reject, and break nothing. */
async function badArguments(d) {
  const probes = [
    ['spawn env null', () => rt.spawn(FIXTURE, { env: null })],
    ['spawn core 99', () => rt.spawn(FIXTURE, { core: 99 })],
    ['terminate NaN', () => rt.terminate(d, Number.NaN)],
    ['terminate -5', () => rt.terminate(d, -5)],
    ['span core 99', () => rt.span(d, 99)],
    ['kill forged cap', () => rt.kill({ id: 1 })],
    ['wait forged cap', () => rt.wait({ id: 1 })],
  ]
  const [name, probe] = probes[Math.floor(random() * probes.length)]
  let r
  try {
    r = await bounded(Promise.resolve(probe()), `bad argument: ${name}`)
  } catch {
    return // thrown synchronously: refused
  }
  if (r.v !== undefined || (!r.e && !r.hung)) summary.badArgumentsAccepted.push(name)
}

/** Refusals that mean "a core is being restarted": worth a retry. */
const RETRY = new Set(['INVALID_SPAWND', 'CORE_FAILED'])
let next = 0
async function one() {
  const i = next++
  summary.attempted++
  let mode = pickMode()
  if (HEAVY.has(mode) && heavyUsed[mode]++ >= heavyCap) mode = 'ok'
  count(summary.modes, mode)
  const url = mode === 'distinct-url' ? new URL(`${FIXTURE.href}?v=${i}`) : FIXTURE
  const argv = [mode === 'distinct-url' ? 'ok' : mode, String(i)]
  let s = await bounded(rt.spawn(url, { argv }), `spawn ${mode}`)
  // A caller facing a core being restarted tries again, as a user would (bounded).
  for (let tries = 0; s.e !== undefined && RETRY.has(s.e.code) && tries < 200; tries++) {
    count(summary.refused, s.e.code)
    await new Promise((r) => setTimeout(r, 25))
    s = await bounded(rt.spawn(url, { argv }), `spawn ${mode}`)
  }
  if (s.hung) return
  if (s.e !== undefined) {
    if (summary.refusalSamples.length < 5)
      summary.refusalSamples.push(`${mode}: ${s.e.message} <- ${s.e.cause?.message ?? ''}`)
    return count(summary.refused, `final ${s.e.code ?? s.e.name} (${mode})`)
  }
  const d = s.v
  summary.spawned++
  if (mode === 'long') {
    const ms = Math.floor(random() * 100)
    const end = random() < 0.5 ? () => rt.kill(d) : () => rt.terminate(d, 50)
    setTimeout(() => void bounded(end(), `end ${mode}`), ms)
  }
  if (random() < 0.05) await badArguments(d)
  const w = await bounded(rt.wait(d, { reap: true }), `wait ${mode}`)
  if (w.v !== undefined) count(summary.reasons, w.v.reason ?? w.v.status)
  else if (w.e !== undefined) count(summary.refused, `wait ${w.e.code ?? w.e.name}`)
}

const deadline = started + opts.seconds * 1000
async function lane() {
  while (next < opts.domains && Date.now() < deadline) await one()
}
await Promise.all(Array.from({ length: opts.concurrency }, lane))

// Every core comes back (restarts may still be pending), and answers a ping.
for (let t = 0; t < 300; t++) {
  if (rt.coreHealth().every((h) => h === 'up')) break
  await new Promise((r) => setTimeout(r, 100))
}
summary.coresUp = rt.coreHealth().every((h) => h === 'up')
for (let core = 0; core < rt.cores; core++) {
  const p = await bounded(rt.ping(core), `ping ${core}`)
  if (p.e !== undefined) summary.coresUp = false
}
// Every core serves: a well-behaved domain runs to its end there.
summary.coresServe = true
for (let core = 0; core < rt.cores; core++) {
  const s = await bounded(
    rt.spawn(FIXTURE, { core, argv: ['exit-code', '7'] }),
    `final spawn ${core}`,
  )
  const w =
    s.v === undefined ? null : await bounded(rt.wait(s.v, { reap: true }), `final wait ${core}`)
  if (w === null || w.v === undefined || w.v.exitCode !== 7) summary.coresServe = false
}
// The domain table empties: orphans of dead parents end and are reaped by the runtime.
for (let t = 0; t < 300; t++) {
  if (rt.domains().length === 0) break
  await new Promise((r) => setTimeout(r, 100))
}
summary.domainsLeft = rt.domains().length
const sd = await bounded(rt.shutdown(), 'shutdown')
summary.shutdown = sd.hung ? 'hung' : sd.e !== undefined ? `rejected: ${sd.e.message}` : 'resolved'
summary.seconds = Math.round((Date.now() - started) / 1000)
summary.heapMb = {
  before: +(heapBefore / 2 ** 20).toFixed(1),
  after: +(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1),
}

// A core fault must come from a fault that can only be a core's (a frozen, exhausted or
// exited worker, or a realm so broken the core is judged unhealthy), never from a thrown
// value or a stray rejection a dispatcher owns.
const coreOnly = ['process-exit', 'sync-loop', 'alloc', 'replace-global']
summary.coreFaultBudget = coreOnly.reduce((n, m) => n + (summary.modes[m] ?? 0), 0)
const ok =
  summary.coreFaults <= summary.coreFaultBudget &&
  summary.coresServe &&
  summary.spawned >= summary.attempted * 0.9 &&
  summary.hung.length === 0 &&
  summary.unexpectedUncaught.length === 0 &&
  summary.badArgumentsAccepted.length === 0 &&
  summary.coresUp &&
  summary.domainsLeft === 0 &&
  summary.shutdown === 'resolved'
summary.ok = ok
console.log(JSON.stringify(summary))
process.exit(ok ? 0 : 1)
