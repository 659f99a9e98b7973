/**
 * The server suite (`npm run bench -- server [--quick]`): Fastify with its work on
 * multikernel/pool, against Fastify with piscina (tuned: atomics 'async', 16 tasks
 * per worker, no timing) and against the handler inline. Each server runs in a
 * child process (serve.ts); autocannon, as a library in this process, loads it
 * over loopback for a bounded time with a fixed number of connections.
 *
 * Handlers: /cpu, a small CPU-bound one (the sum of 1..CPU_N), and /trivial.
 * Figures: requests/s and the p99 latency; each run measures pool, piscina and
 * inline in turn, every figure is the median over runs.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { availableParallelism, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { finishFigure, type SuiteReport } from '../lib/report.js'
import { median } from '../lib/stats.js'
import type { SuiteContext } from '../lib/suite.js'
import { Recorder } from '../pm/common.js'

const SERVE = fileURLToPath(new URL('./serve.js', import.meta.url))
const CPU_N = 20_000
const CONNECTIONS = 64
const MODES = ['pool', 'piscina', 'inline'] as const
type Mode = (typeof MODES)[number]

interface Served {
  child: ChildProcess
  port: number
}

function start(mode: Mode): Promise<Served> {
  const child = fork(SERVE, [mode, String(CPU_N)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${mode} server did not start`)), 30_000)
    child.once('message', (m: { port: number }) => {
      clearTimeout(timer)
      resolve({ child, port: m.port })
    })
    child.once('exit', (code) => reject(new Error(`${mode} server exited (${code})`)))
  })
}

function stop(s: Served): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => s.child.kill('SIGKILL'), 10_000)
    s.child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    s.child.send('stop')
  })
}

interface Load {
  rps: number
  p50: number
  p99: number
  errors: number
  non2xx: number
}

async function load(port: number, path: string, seconds: number): Promise<Load> {
  const r = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
  })
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  }
}

export async function runServerSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const quick = ctx.quick
  const runs = quick ? 1 : 3
  const seconds = quick ? 2 : 5
  const loadAtStart = loadavg()[0]
  const rec = new Recorder(ctx.quiet)
  const threads = availableParallelism()
  for (const [path, label] of [
    ['/cpu', `small CPU-bound handler (sum of 1..${CPU_N})`],
    ['/trivial', 'trivial handler'],
  ] as const) {
    rec.group()
    const m: Record<Mode, Load[]> = { pool: [], piscina: [], inline: [] }
    for (let r = 0; r < runs; r++) {
      await rec.repetition(async () => {
        for (const mode of MODES) {
          ctx.progress(`server: ${path}, ${mode}, run ${r + 1}/${runs}`)
          const s = await start(mode)
          try {
            await load(s.port, path, 1) // warm-up
            m[mode].push(await load(s.port, path, seconds))
          } finally {
            await stop(s)
          }
        }
      })
    }
    const med = (mode: Mode, k: keyof Load): number => median(m[mode].map((x) => x[k]))
    const compares =
      `Fastify in a child process, autocannon in this one (${CONNECTIONS} connections, ` +
      `pipelining 1, ${seconds} s); the pool and piscina-tuned with ${threads} workers, 32 ` +
      `tasks per worker, no timing, the same per-request abort wiring; inline: the work on ` +
      `Fastify's own thread`
    const cpuTarget = path === '/cpu'
    const errs = (mode: Mode): number => med(mode, 'errors') + med(mode, 'non2xx')
    rec.add(
      {
        name: `${path}: requests/s`,
        group: label,
        unit: 'req/s',
        better: 'higher',
        value: med('pool', 'rps'),
        runs: m.pool.map((x) => x.rps),
        compares,
        peers: { 'piscina-tuned': med('piscina', 'rps'), inline: med('inline', 'rps') },
        headline: 'piscina-tuned',
        ...(cpuTarget ? { target: { op: '>=' as const, value: 1.5, peer: 'piscina-tuned' } } : {}),
        extra: {
          errorsPool: errs('pool'),
          errorsPiscina: errs('piscina'),
          errorsInline: errs('inline'),
        },
      },
      {
        name: `${path}: latency p99`,
        group: label,
        unit: 'ms',
        better: 'lower',
        value: med('pool', 'p99'),
        runs: m.pool.map((x) => x.p99),
        compares,
        peers: { 'piscina-tuned': med('piscina', 'p99'), inline: med('inline', 'p99') },
        headline: 'piscina-tuned',
        ...(cpuTarget ? { target: { op: '>=' as const, value: 1, peer: 'piscina-tuned' } } : {}),
      },
      {
        name: `${path}: latency p50`,
        group: label,
        unit: 'ms',
        better: 'lower',
        value: med('pool', 'p50'),
        runs: m.pool.map((x) => x.p50),
        compares,
        peers: { 'piscina-tuned': med('piscina', 'p50'), inline: med('inline', 'p50') },
        headline: 'piscina-tuned',
      },
    )
  }
  return {
    figures: rec.figures.map(finishFigure),
    runs,
    loadavgStart: loadAtStart,
    notes: [
      `Fastify ${CONNECTIONS} connections from autocannon (a library in the bench process) on ` +
        `127.0.0.1; each server in its own child process, started fresh for each measurement ` +
        `and warmed for 1 s; every figure is the median over ${runs} run(s)`,
      `on ${threads} cpus the server's main thread, its ${threads} workers and the load ` +
        `generator share the machine: inline is one thread, the pools use every cpu`,
      'autocannon latency is milliseconds with 1 ms resolution: p50/p99 of 1 or 2 ms are ' +
        'coarse; errors (timeouts, non-2xx) are counted in extra',
      'target: requests/s on the CPU-bound handler >= 1.5x piscina-tuned with an equal or ' +
        'better p99; the trivial handler reported as it is',
    ],
  }
}
