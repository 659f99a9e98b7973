/**
 * Human-readable output of `multikernel stress`: the verdict first (what a stress
 * test is for), then the figures, as cli-table3 tables; colour only via the painter.
 */
import Table from 'cli-table3'
import { painter, type OutputOptions } from '../output.js'
import type { StressRunSummary } from '../../stress/index.js'

export function fmtRate(r: number): string {
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)} M`
  if (r >= 1e3) return `${(r / 1e3).toFixed(1)} k`
  return r.toFixed(0)
}

function fmtUs(us: number): string {
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`
  return `${us.toFixed(us >= 100 ? 0 : 1)} µs`
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`

function table(head: string[], out: OutputOptions): Table.Table {
  const p = painter(out)
  // cli-table3 colours headers itself by default; the painter decides instead.
  return new Table({
    head: head.map((h) => p.bold(h)),
    style: { head: [], border: [], compact: true },
  })
}

export function describeRun(r: StressRunSummary): string {
  const c = r.config
  const load = c.frames !== null ? `${c.frames} frames` : `${(c.durationMs ?? 0) / 1000} s`
  return (
    `${c.producers} producers -> MPMC ring of ${c.capacity} x ${c.slotBytes} B slots -> ` +
    `${c.consumers} consumers, ${c.frameSize}-byte frames, wait ${c.wait}` +
    `${c.wait === 'sleep' ? '' : ` (spin ${c.spin})`}, ${load}`
  )
}

export function verdict(r: StressRunSummary, out: OutputOptions): string[] {
  const p = painter(out)
  const v = r.verification
  if (v.ok) {
    return [
      p.green(
        `verified: all ${v.expected} frames arrived exactly once, intact, in per-producer order`,
      ),
    ]
  }
  return [
    p.red(
      `verification FAILED: ${v.delivered} of ${v.expected} frames delivered; ` +
        `${v.missing} missing, ${v.duplicates} duplicated, ${v.corrupt} corrupt, ${v.outOfOrder} out of order`,
    ),
    ...v.problems.map((s) => p.red(`  - ${s}`)),
  ]
}

/** One line per sweep point, for logs without a progress bar. */
export function pointLine(r: StressRunSummary): string {
  return (
    `${r.config.producers} producers, ${r.config.capacity} slots: ` +
    `${fmtRate(r.throughput.framesPerSec)} frames/s, p99 ${fmtUs(r.latencyUs.p99)}, ` +
    (r.verification.ok ? 'verified' : 'VERIFICATION FAILED')
  )
}

export function printRun(r: StressRunSummary, out: OutputOptions, report: string | null): void {
  const p = painter(out)
  const l = r.latencyUs
  const k = r.contention
  const f = r.fairness
  const lines = [p.bold('multikernel stress') + '  ' + describeRun(r), '', ...verdict(r, out), '']
  const figures = new Table({ style: { head: [], border: [], compact: true } })
  figures.push(
    [
      'throughput',
      `${fmtRate(r.throughput.framesPerSec)} frames/s, ${fmtRate(r.throughput.bytesPerSec)}B/s ` +
        `(${r.elapsedMs.toFixed(0)} ms)`,
    ],
    [
      'latency',
      `p50 ${fmtUs(l.p50)}  p90 ${fmtUs(l.p90)}  p99 ${fmtUs(l.p99)}  ` +
        `p99.9 ${fmtUs(l.p999)}  max ${fmtUs(l.max)}`,
    ],
    [
      'CAS retries',
      `${k.casRetries} (producers ${k.producerCasRetries}, consumers ${k.consumerCasRetries})`,
    ],
    [
      'stalls',
      `ring full ${k.fullStalls} (${k.fullSpins} failed claims), ` +
        `ring empty ${k.emptyStalls} (${k.emptySpins} failed polls)`,
    ],
    [
      'waits',
      `sleeps: producers ${k.producerSleeps}, consumers ${k.consumerSleeps}; ` +
        `yields ${k.yields}; notifies ${k.notifies}`,
    ],
    [
      'fairness',
      `Jain ${f.jain.toFixed(3)}, shares min ${pct(f.minShare)} max ${pct(f.maxShare)} ` +
        `(even: ${pct(1 / r.config.producers)})`,
    ],
  )
  lines.push(figures.toString(), '')
  const prod = table(
    ['producer', 'sent', 'delivered', 'share', 'frames/s', 'CAS retries', 'full stalls', 'sleeps'],
    out,
  )
  for (const x of r.producers) {
    prod.push([
      x.id,
      x.sent,
      x.delivered,
      pct(x.share),
      fmtRate(x.framesPerSec),
      x.casRetries,
      x.fullStalls,
      x.sleeps,
    ])
  }
  lines.push(prod.toString())
  const cons = table(['consumer', 'received', 'CAS retries', 'empty stalls', 'sleeps'], out)
  for (const x of r.consumers) cons.push([x.id, x.received, x.casRetries, x.emptyStalls, x.sleeps])
  lines.push(cons.toString())
  if (report !== null) lines.push('', `report: ${report}`)
  process.stdout.write(lines.join('\n') + '\n')
}

export function printSweep(runs: StressRunSummary[], out: OutputOptions, report: string): void {
  const p = painter(out)
  const c = runs[0].config
  const ps = [...new Set(runs.map((r) => r.config.producers))].join(',')
  const cs = [...new Set(runs.map((r) => r.config.capacity))].join(',')
  const load = c.frames !== null ? `${c.frames} frames` : `${(c.durationMs ?? 0) / 1000} s`
  const about =
    `producers {${ps}} x ring slots {${cs}}, ${c.consumers} consumers, ` +
    `${c.frameSize}-byte frames, wait ${c.wait}, ${load} per run`
  const lines = [p.bold('multikernel stress --sweep') + '  ' + about, '']
  const t = table(
    ['producers', 'slots', 'frames/s', 'p50', 'p99', 'p99.9', 'CAS retries', 'Jain', 'verified'],
    out,
  )
  for (const r of runs) {
    t.push([
      r.config.producers,
      r.config.capacity,
      fmtRate(r.throughput.framesPerSec),
      fmtUs(r.latencyUs.p50),
      fmtUs(r.latencyUs.p99),
      fmtUs(r.latencyUs.p999),
      r.contention.casRetries,
      r.fairness.jain.toFixed(3),
      r.verification.ok ? p.green('yes') : p.red('FAILED'),
    ])
  }
  lines.push(t.toString(), '')
  const failed = runs.filter((r) => !r.verification.ok)
  if (failed.length === 0) {
    const n = runs.length
    lines.push(
      p.green(
        `verified: every frame arrived exactly once, intact, in per-producer order (${n} run${n === 1 ? '' : 's'})`,
      ),
    )
  } else {
    for (const r of failed) lines.push(...verdict(r, out))
  }
  lines.push(`report: ${report}`)
  process.stdout.write(lines.join('\n') + '\n')
}
