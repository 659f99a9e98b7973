/**
 * The stress command's HTML reports, built on the shared writer (../report.ts):
 * the sweep (throughput and p99 against producers, one line per ring size) and a
 * single run (latency percentiles, producer shares).
 */
import { availableParallelism } from 'node:os'
import type { HtmlReport, ReportTable } from '../report.js'
import type { StressRunSummary } from '../../stress/index.js'

function describe(r: StressRunSummary, sweep: boolean): string {
  const c = r.config
  const load = c.frames !== null ? `${c.frames} frames` : `${(c.durationMs ?? 0) / 1000} s`
  const spin = c.wait === 'sleep' ? '' : ` (spin ${c.spin})`
  const who = sweep ? '' : `${c.producers} producers, ring of ${c.capacity} slots, `
  return (
    `${who}${c.consumers} consumers, ${c.frameSize}-byte frames in ${c.slotBytes}-byte slots, ` +
    `wait ${c.wait}${spin}, ${load}${sweep ? ' per point' : ''}; ` +
    `${availableParallelism()} CPUs, Node ${process.versions.node}`
  )
}

const us1 = (x: number): number => Math.round(x * 10) / 10

function pointsTable(runs: StressRunSummary[]): ReportTable {
  return {
    columns: [
      'producers',
      'ring slots',
      'frames/s',
      'p50 µs',
      'p90 µs',
      'p99 µs',
      'p99.9 µs',
      'CAS retries',
      'full stalls',
      'empty stalls',
      'Jain',
      'min share',
      'max share',
      'verified',
    ],
    rows: runs.map((r) => [
      r.config.producers,
      r.config.capacity,
      r.throughput.framesPerSec,
      us1(r.latencyUs.p50),
      us1(r.latencyUs.p90),
      us1(r.latencyUs.p99),
      us1(r.latencyUs.p999),
      r.contention.casRetries,
      r.contention.fullStalls,
      r.contention.emptyStalls,
      r.fairness.jain,
      r.fairness.minShare,
      r.fairness.maxShare,
      r.verification.ok ? 'yes' : 'FAILED',
    ]),
  }
}

export function sweepReport(runs: StressRunSummary[]): HtmlReport {
  const producers = [...new Set(runs.map((r) => r.config.producers))].sort((a, b) => a - b)
  const capacities = [...new Set(runs.map((r) => r.config.capacity))].sort((a, b) => a - b)
  const series = (pick: (r: StressRunSummary) => number) =>
    capacities.map((cap) => ({
      label: `${cap} slots`,
      data: producers.map((p) => {
        const r = runs.find((x) => x.config.producers === p && x.config.capacity === cap)
        return r === undefined ? null : pick(r)
      }),
    }))
  const failed = runs.filter((r) => !r.verification.ok).length
  return {
    title: 'multikernel stress: producers x ring capacity',
    subtitle: describe(runs[0], true),
    sections: [
      {
        heading: 'Throughput and tail latency',
        text:
          'Each point is one run: P producer threads and the consumer threads around one ' +
          'MPMC ring (Vyukov). Throughput counts frames verified at the consumers; latency is ' +
          'from the producer writing a frame to a consumer taking it. ' +
          (failed === 0
            ? `Every frame of every run arrived exactly once, intact and in per-producer order.`
            : `${failed} run(s) FAILED verification: see the table.`),
        charts: [
          {
            id: 'throughput',
            type: 'line',
            title: 'Throughput',
            xLabel: 'producers',
            yLabel: 'frames/s',
            labels: producers,
            datasets: series((r) => r.throughput.framesPerSec),
          },
          {
            id: 'p99',
            type: 'line',
            title: 'p99 latency',
            xLabel: 'producers',
            yLabel: 'µs (log)',
            labels: producers,
            datasets: series((r) => Math.max(r.latencyUs.p99, 0.001)),
            logY: true,
          },
        ],
      },
      {
        heading: 'Contention and fairness',
        text:
          'CAS retries per frame: failed compare-and-swaps on the shared enqueue and dequeue ' +
          "counters. Jain's index over the producers' frame counts while all of them " +
          'competed: 1 is a perfectly even share.',
        charts: [
          {
            id: 'cas',
            type: 'line',
            title: 'CAS retries per frame',
            xLabel: 'producers',
            yLabel: 'retries / frame',
            labels: producers,
            datasets: series((r) =>
              r.verification.delivered === 0
                ? 0
                : r.contention.casRetries / r.verification.delivered,
            ),
          },
          {
            id: 'fairness',
            type: 'line',
            title: "Fairness between producers (Jain's index)",
            xLabel: 'producers',
            yLabel: 'Jain index',
            labels: producers,
            datasets: series((r) => r.fairness.jain),
          },
        ],
      },
      { heading: 'All points', table: pointsTable(runs) },
    ],
  }
}

export function runReport(r: StressRunSummary): HtmlReport {
  const l = r.latencyUs
  return {
    title: 'multikernel stress',
    subtitle: describe(r, false),
    sections: [
      {
        heading: r.verification.ok ? 'Verified' : 'Verification FAILED',
        text: r.verification.ok
          ? `All ${r.verification.expected} frames arrived exactly once, intact and in per-producer order.`
          : r.verification.problems.join('\n\n'),
        charts: [
          {
            id: 'latency',
            type: 'bar',
            title: 'Latency percentiles',
            xLabel: 'percentile',
            yLabel: 'µs',
            labels: ['p50', 'p90', 'p99', 'p99.9', 'max'],
            datasets: [{ label: 'latency', data: [l.p50, l.p90, l.p99, l.p999, l.max] }],
            logY: true,
          },
          {
            id: 'shares',
            type: 'bar',
            title: 'Producer shares while all competed',
            xLabel: 'producer',
            yLabel: 'share of frames',
            labels: r.producers.map((p) => p.id),
            datasets: [{ label: 'share', data: r.fairness.shares }],
          },
        ],
      },
      { heading: 'Figures', table: pointsTable([r]) },
    ],
  }
}
