/**
 * The pool suite (`npm run bench -- pool [--quick]`): multikernel/pool against
 * piscina, like for like. The same task module (bench/pool/task.ts) on both, the
 * same number of workers (one per CPU), the same tasks in flight per worker, the
 * same values copied each way, the same run() loop. piscina both with its
 * defaults and tuned (atomics 'async', 16 tasks per worker, no timing); the pool
 * as tuned piscina (16 tasks per worker, recordTiming false); the headline
 * against the better piscina.
 *
 * Tasks: trivial (returns its number), the sum of 1..1000, a 1 KB JSON object
 * echoed whole, a 64 KB Uint8Array echoed whole. Each at 256 and at 1 in flight:
 * tasks/s, and the p50/p99 of each task's run() -> settle time.
 */
import { availableParallelism, loadavg } from 'node:os'
import { Piscina } from 'piscina'
import { Pool } from '../../src/pool/index.js'
import { finishFigure, type Figure, type SuiteReport } from '../lib/report.js'
import { median } from '../lib/stats.js'
import type { SuiteContext } from '../lib/suite.js'
import { Recorder } from '../pm/common.js'
import { measureRuns, type RunFn, type Measured } from './measure.js'

const TASK = new URL('./task.js', import.meta.url)
/** Tasks in flight per worker: piscina-tuned as the pm suite tunes it, and deeper. */
const PER_WORKER = 16
const DEEP = 128

/** A 1 KB JSON object (its JSON text is 1024 bytes, give or take a few). */
function json1k(): unknown {
  const items = []
  for (let i = 0; i < 13; i++)
    items.push({
      id: i,
      name: `item-${i}`,
      price: 10.5 + i,
      tags: ['a', 'bb', 'ccc'],
      ok: i % 2 === 0,
    })
  return { user: 'someone@example.com', session: 'x'.repeat(32), items, total: 123.45 }
}

interface Kind {
  key: string
  label: string
  name: string
  arg: unknown
  /** Tasks per measured round at 256 in flight (full run). */
  total: number
}

const CONTENDERS = ['pool', 'piscina-defaults', 'piscina-tuned', 'piscina-tuned-128'] as const
type Contender = (typeof CONTENDERS)[number]
const PEERS = CONTENDERS.slice(1)

async function contender(
  c: Contender,
  kind: Kind,
  threads: number,
  say: (line: string) => void,
): Promise<{ run: RunFn; close(): Promise<void> }> {
  if (c === 'pool') {
    const pool = new Pool({
      filename: TASK,
      name: kind.name,
      maxThreads: threads,
      concurrentTasksPerWorker: DEEP,
      recordTiming: false,
    })
    await pool.ready
    // A worker that fails mid-run fails the run: say why (a hung or failed core).
    pool.on('error', (e: Error) => say(`pool: ${e.message}`))
    pool.runtime?.events.on('event', (ev: { type: string }) => {
      if (ev.type.startsWith('core-') || ev.type.endsWith('-hung'))
        say(`pool: ${JSON.stringify(ev)}`)
    })
    return { run: (x) => pool.run(x), close: () => pool.destroy() }
  }
  const p = new Piscina({
    filename: TASK.href,
    name: kind.name,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    ...(c === 'piscina-defaults'
      ? {}
      : {
          atomics: 'async' as const,
          concurrentTasksPerWorker: c === 'piscina-tuned' ? PER_WORKER : DEEP,
          recordTiming: false,
        }),
  })
  // Both pools start with their workers up: one task through each first.
  await Promise.all(Array.from({ length: threads * 2 }, () => p.run(kind.arg)))
  return { run: (x) => p.run(x), close: () => p.destroy() }
}

/** The headline: the best piscina configuration for this figure. */
function bestOf(f: Figure): Figure {
  let head: string | undefined
  for (const [k, v] of Object.entries(f.peers ?? {})) {
    if (!(v > 0)) continue
    const cur = head === undefined ? NaN : (f.peers as Record<string, number>)[head]
    if (head === undefined || (f.better === 'higher' ? v > cur : v < cur)) head = k
  }
  f.headline = head
  return f
}

export async function runPoolSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const quick = ctx.quick
  const runs = quick ? 1 : 3
  const threads = availableParallelism()
  const loadAtStart = loadavg()[0]
  const rec = new Recorder(ctx.quiet)
  const scale = quick ? 0.1 : 1
  const kinds: Kind[] = [
    { key: 'trivial', label: 'trivial task', name: 'default', arg: 1, total: 100_000 },
    { key: 'sum', label: 'sum of 1..1000', name: 'sum', arg: 1000, total: 100_000 },
    { key: 'json', label: '1 KB JSON echo', name: 'echo', arg: json1k(), total: 50_000 },
    {
      key: 'buf',
      label: '64 KB buffer echo',
      name: 'echo',
      arg: new Uint8Array(65536).fill(7),
      total: 10_000,
    },
  ]
  for (const kind of kinds) {
    rec.group()
    const m: Record<Contender, Record<number, Measured[]>> = {
      pool: { 1: [], 256: [] },
      'piscina-defaults': { 1: [], 256: [] },
      'piscina-tuned': { 1: [], 256: [] },
      'piscina-tuned-128': { 1: [], 256: [] },
    }
    for (let r = 0; r < runs; r++) {
      await rec.repetition(async () => {
        for (const c of CONTENDERS) {
          ctx.progress(`pool: ${kind.label}, ${c}, run ${r + 1}/${runs}`)
          const x = await contender(c, kind, threads, ctx.progress)
          try {
            const many = Math.max(1000, Math.round(kind.total * scale))
            const one = Math.max(500, Math.round(many / 20))
            m[c][256].push(await measureRuns(x.run, kind.arg, many, 256, Math.round(many / 10)))
            m[c][1].push(await measureRuns(x.run, kind.arg, one, 1, Math.round(one / 5)))
          } finally {
            await x.close()
          }
        }
      })
    }
    const med = (c: Contender, w: number, k: keyof Measured): number =>
      median(m[c][w].map((x) => x[k]))
    const group = `${kind.label} (${threads} workers)`
    const compares =
      `the same task module and values; ${threads} workers each; tasks per worker: pool ${DEEP}, ` +
      `piscina-tuned ${PER_WORKER}, piscina-tuned-128 ${DEEP}, piscina-defaults 1; run() -> settle per task`
    const fig = (
      w: number,
      k: keyof Measured,
      unit: string,
      better: 'higher' | 'lower',
      minRatio?: number,
    ): Figure => {
      const f = bestOf({
        name: `${kind.key}: ${k === 'perSecond' ? 'tasks/s' : k}, ${w} in flight`,
        group,
        unit,
        better,
        value: med('pool', w, k),
        runs: m.pool[w].map((x) => x[k]),
        samples: m.pool[w][0]?.samples,
        compares,
        peers: Object.fromEntries(PEERS.map((c) => [c, med(c, w, k)])),
      })
      if (minRatio !== undefined && f.headline !== undefined)
        f.target = { op: '>=', value: minRatio, peer: f.headline }
      return f
    }
    const rateTarget = kind.key === 'trivial' ? 5 : kind.key === 'json' ? 2 : undefined
    rec.add(
      fig(256, 'perSecond', 'tasks/s', 'higher', rateTarget),
      fig(256, 'p50', 'us', 'lower'),
      fig(256, 'p99', 'us', 'lower', 1),
      fig(1, 'perSecond', 'tasks/s', 'higher'),
      fig(1, 'p50', 'us', 'lower', 2),
      fig(1, 'p99', 'us', 'lower', 1),
    )
  }
  return {
    figures: rec.figures.map(finishFigure),
    runs,
    loadavgStart: loadAtStart,
    notes: [
      `like for like: the same task module, ${threads} workers on each side (the pool: ${threads} ` +
        `worker domains on a runtime of ${threads} cores), the same values copied both ways ` +
        `(no transferList), the same run() loop with the same number in flight`,
      `piscina-defaults = piscina with its defaults (1 task per worker, atomics 'sync', ` +
        `recordTiming on); piscina-tuned = atomics 'async', ${PER_WORKER} tasks per worker ` +
        `(the pm suite's tuning), recordTiming off; piscina-tuned-128 = the same with ${DEEP} ` +
        `tasks per worker (the pool's setting); the pool = ${DEEP} tasks per worker, ` +
        `recordTiming off; headline (*) = the best piscina of the three for each figure`,
      'each run builds fresh pools (the pool boots its own runtime), warms them, measures ' +
        'the pool then each piscina; every figure is the median over runs',
      'latency = performance.now() from run() to its settle, per task; p50/p99 nearest rank',
      'targets: trivial at 256 in flight >= 5x, 1 KB echo at 256 >= 2x, p99 lower everywhere, ' +
        'p50 at 1 in flight at most half of piscina',
    ],
  }
}
