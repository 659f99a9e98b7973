/**
 * `multikernel demo`: what `npm start` runs. Boots the runtime on every core and
 * runs a mixed workload for a bounded time (short-lived domains spawned and
 * reaped, a long-lived domain spanned over every core, kills, a domain that
 * crashes on purpose, a supervised service that crashes and is restarted with
 * backoff, pipelined pings), with a live view of every core.
 */
import type { Command } from 'commander'
import { boot } from '../index.js'
import type { Runtime } from '../runtime/runtime.js'
import type { DomainCap } from '../kernel/cap.js'
import type { DomainState, ExitReason } from '../kernel/domain_table.js'
import {
  EXIT_FAILED,
  outputOptions,
  painter,
  positiveIntArg,
  type OutputOptions,
} from './output.js'

interface DemoOptions {
  cores?: string
  duration?: string
  json?: boolean
  color?: boolean
}

export interface DemoSummary {
  cores: number
  durationMs: number
  spawned: number
  waited: number
  byReason: Record<ExitReason, number>
  pings: number
  requestsPerSec: number
  domainsPerSec: number
  /** Restarts the reincarnation server scheduled for the crashing service. */
  serviceRestarts: number
  errors: string[]
}

const program = (name: string): URL => new URL(`./programs/${name}.js`, import.meta.url)

export function registerDemo(cli: Command): void {
  cli
    .command('demo')
    .description(
      'boot on every core and run a mixed workload with a live view (what `npm start` runs)',
    )
    .option('-c, --cores <n>', 'number of cores (default: available parallelism)')
    .option('-d, --duration <seconds>', 'how long to run', '5')
    .option('--json', 'print the summary as JSON, no live view')
    .option('--no-color', 'no colour even on a terminal')
    .action(async (opts: DemoOptions) => {
      const out = outputOptions(opts)
      const cores = opts.cores === undefined ? undefined : positiveIntArg('--cores', opts.cores, 1)
      const seconds = positiveIntArg('--duration', opts.duration, 5)
      const summary = await runDemo({ cores, durationMs: seconds * 1000, out })
      if (out.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n')
      if (summary.errors.length > 0) process.exitCode = EXIT_FAILED
    })
}

export async function runDemo(o: {
  cores?: number
  durationMs: number
  out: OutputOptions
}): Promise<DemoSummary> {
  const rt = await boot({
    ...(o.cores === undefined ? {} : { cores: o.cores }),
    supervisor: { periodMs: 200 },
  })
  const started = Date.now()
  const deadline = started + o.durationMs
  const byReason: Record<ExitReason, number> = { exited: 0, error: 0, killed: 0, 'core-failed': 0 }
  const errors: string[] = []
  let spawned = 0
  let waited = 0
  let pings = 0
  const note = (err: unknown): void => {
    if (errors.length < 10) errors.push(err instanceof Error ? err.message : String(err))
  }
  const reap = async (d: DomainCap): Promise<void> => {
    // Reaped: a demo that spawns without end keeps no entry it will not ask about.
    const r = await rt.wait(d, { reap: true })
    waited++
    if (r.status !== 'running') byReason[r.reason]++
  }

  // Long-lived: one service spanned over every core.
  const services: DomainCap[] = []
  const svc = await rt.spawn(program('service'), { core: 0, env: { TICK_MS: '20' } })
  spawned++
  for (let c = 1; c < rt.cores; c++) await rt.span(svc, c)
  services.push(svc)

  // A supervised service that crashes a little after every start: the
  // reincarnation server restarts it, backing off (MINIX: at once, then 2, 4, ...
  // periods), and the view shows its restarts.
  let restarts = 0
  rt.events.on('restart-scheduled', () => restarts++)
  await rt.services.up('flaky', program('crash'), {
    argv: ['300'],
    restart: 'permanent',
    maxRestarts: 1000,
    withinMs: 60_000,
  })

  const live = (): boolean => Date.now() < deadline
  const tasks: Promise<void>[] = []
  // Short-lived domains, a window of them per core, each reaped.
  for (let c = 0; c < rt.cores; c++) {
    tasks.push(
      (async () => {
        while (live()) {
          const batch: Promise<void>[] = []
          for (let i = 0; i < 16; i++) {
            batch.push(
              rt.spawn(program('short'), { core: c, argv: ['2000'] }).then((d) => {
                spawned++
                return reap(d)
              }, note),
            )
          }
          await Promise.all(batch)
        }
      })(),
    )
  }
  // Kills: a sleeper killed shortly after it starts.
  tasks.push(
    (async () => {
      while (live()) {
        const d = await rt.spawn(program('service'), { argv: [] })
        spawned++
        await sleep(100)
        await rt.kill(d).catch(note)
        await reap(d)
      }
    })().catch(note),
  )
  // A domain that crashes on purpose, now and then.
  tasks.push(
    (async () => {
      while (live()) {
        const d = await rt.spawn(program('crash'), { argv: ['50'] })
        spawned++
        await reap(d)
        await sleep(400)
      }
    })().catch(note),
  )
  // Pipelined pings: the hot path.
  tasks.push(
    (async () => {
      while (live()) {
        await Promise.all(Array.from({ length: rt.cores }, (_, c) => rt.pingMany(c, 20_000, 256)))
        pings += 20_000 * rt.cores
        await sleep(20)
      }
    })().catch(note),
  )

  const view = new LiveView(rt, o.out, started, o.durationMs, () => ({
    spawned,
    waited,
    restarts,
  }))
  const timer = o.out.json ? null : setInterval(() => view.draw(), 250)
  await Promise.all(tasks)
  await rt.services.down('flaky').catch(note)
  for (const s of services) {
    await rt.kill(s).catch(note)
    await reap(s)
  }
  if (timer !== null) clearInterval(timer)
  if (!o.out.json) view.draw(true)
  const durationMs = Date.now() - started
  const requests = rt.stats().reduce((n, s) => n + s.requests, 0)
  await rt.shutdown()
  const summary: DemoSummary = {
    cores: rt.cores,
    durationMs,
    spawned,
    waited,
    byReason,
    pings,
    requestsPerSec: Math.round(requests / (durationMs / 1000)),
    domainsPerSec: Math.round(waited / (durationMs / 1000)),
    serviceRestarts: restarts,
    errors,
  }
  if (!o.out.json) printSummary(summary, o.out)
  return summary
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** The per-core table, redrawn in place on a terminal, one line a second otherwise. */
class LiveView {
  private lastRequests: number[] = []
  private lastAt = Date.now()
  private lines = 0
  private lastPlain = 0

  constructor(
    private readonly rt: Runtime,
    private readonly out: OutputOptions,
    private readonly started: number,
    private readonly durationMs: number,
    private readonly counts: () => { spawned: number; waited: number; restarts: number },
  ) {}

  draw(final = false): void {
    const now = Date.now()
    const tty = process.stdout.isTTY === true
    if (!tty && !final && now - this.lastPlain < 1000) return
    this.lastPlain = now
    const stats = this.rt.stats()
    const dt = Math.max(1, now - this.lastAt) / 1000
    const perCore = new Map<number, number>()
    const byState: Record<DomainState, number> = {
      RUNNING: 0,
      STOP_PEND: 0,
      STOPPED: 0,
      CLEANED: 0,
    }
    for (const d of this.rt.domains()) {
      byState[d.state]++
      for (const c of d.cores) perCore.set(c, (perCore.get(c) ?? 0) + 1)
    }
    const p = painter(this.out)
    const elapsed = ((now - this.started) / 1000).toFixed(1)
    const rows = [
      p.bold(`multikernel demo  ${elapsed}s / ${this.durationMs / 1000}s`),
      p.dim('core  health  sendQ  recvQ  reqRing  replyRing   req/s       dispatchers  last beat'),
    ]
    for (const s of stats) {
      const rate = (s.requests - (this.lastRequests[s.core] ?? 0)) / dt
      this.lastRequests[s.core] = s.requests
      const health = s.health === 'up' ? p.green('up    ') : p.red(s.health.padEnd(6))
      rows.push(
        `${String(s.core).padStart(4)}  ${health}  ${String(s.sendQueue).padStart(5)}  ${String(s.receiveQueue).padStart(5)}  ` +
          `${String(s.requestRingBytes).padStart(7)}  ${String(s.replyRingBytes).padStart(9)}  ` +
          `${fmtRate(rate).padStart(10)}  ${String(perCore.get(s.core) ?? 0).padStart(11)}  ${s.lastSeenAgoMs} ms ago`,
      )
    }
    const c = this.counts()
    rows.push(
      `domains: ${p.green(`running ${byState.RUNNING}`)}  ${p.yellow(`stopping ${byState.STOP_PEND}`)}  ` +
        `stopped ${byState.STOPPED}  cleaned ${byState.CLEANED}  ${p.dim(`(spawned ${c.spawned}, reaped ${c.waited})`)}`,
    )
    const services = this.rt.services
      .list()
      .map((svc) => `${svc.label} ${svc.state} (restarts ${svc.restarts})`)
    rows.push(`services: ${services.length > 0 ? services.join(', ') : 'none'}`)
    this.lastAt = now
    if (tty && this.lines > 0) process.stdout.write(`\x1b[${this.lines}A\x1b[J`)
    process.stdout.write(rows.join('\n') + '\n')
    this.lines = tty ? rows.length : 0
  }
}

function fmtRate(r: number): string {
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)} M`
  if (r >= 1e3) return `${(r / 1e3).toFixed(1)} k`
  return r.toFixed(0)
}

function printSummary(s: DemoSummary, out: OutputOptions): void {
  const p = painter(out)
  const lines = [
    '',
    p.bold('summary'),
    `  cores ${s.cores}, ran ${(s.durationMs / 1000).toFixed(1)} s`,
    `  domains spawned ${s.spawned}, reaped ${s.waited} (${s.domainsPerSec}/s): ` +
      `exited ${s.byReason.exited}, crashed ${s.byReason.error}, killed ${s.byReason.killed}, core-failed ${s.byReason['core-failed']}`,
    `  requests through the rings: ${s.requestsPerSec}/s (pings ${s.pings})`,
    `  the crashing service was restarted ${s.serviceRestarts} times by the reincarnation server`,
    s.errors.length === 0 ? p.green('  no errors') : p.red(`  errors: ${s.errors.join('; ')}`),
  ]
  process.stdout.write(lines.join('\n') + '\n')
}
