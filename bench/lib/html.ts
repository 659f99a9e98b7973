/**
 * The benchmark suites' results as an HTML report (quick runs labelled "quick, not
 * comparable" in every heading and row): per suite, throughput and
 * latency figures beside their peers measured in the same run, the ratios to
 * peers, and a table of every figure with its target. Pure: builds the report
 * object that report.ts renders.
 */
import { QUICK_LABEL, type ReportFile } from './report.js'
import type { HtmlReport, ReportChart, ReportSection } from '../../src/cli/report.js'

const SELF = 'multikernel'

function isRate(unit: string): boolean {
  return unit.endsWith('/s')
}

function isLatency(unit: string): boolean {
  return unit === 'us' || unit === 'ms' || unit === 'ns'
}

/** One grouped bar chart: this library's figure and each peer's, per measurement. */
function sideBySide(
  id: string,
  title: string,
  yLabel: string,
  figures: ReportFile['results'],
  logY: boolean,
): ReportChart {
  const peers = [...new Set(figures.flatMap((f) => Object.keys(f.peers ?? {})))]
  return {
    id,
    type: 'bar',
    title,
    xLabel: 'measurement',
    yLabel,
    labels: figures.map((f) => f.name),
    datasets: [
      { label: SELF, data: figures.map((f) => f.value) },
      ...peers.map((p) => ({ label: p, data: figures.map((f) => f.peers?.[p] ?? null) })),
    ],
    logY,
  }
}

function suiteSection(file: ReportFile): ReportSection {
  const charts: ReportChart[] = []
  const tag = file.quick ? ` [${QUICK_LABEL}]` : ''
  const rates = file.results.filter((f) => isRate(f.unit) && f.better === 'higher')
  // Units differ inside the rate group (frames/s, req/s, domains/s): a log axis keeps
  // them readable side by side.
  if (rates.length > 0) {
    charts.push(
      sideBySide(
        `${file.suite}-throughput`,
        `${file.suite}: throughput (higher is better)${tag}`,
        'per second (log)',
        rates,
        true,
      ),
    )
  }
  const lat = file.results.filter((f) => isLatency(f.unit) && f.better === 'lower')
  if (lat.length > 0) {
    const unit = lat[0].unit
    const same = lat.filter((f) => f.unit === unit)
    charts.push(
      sideBySide(
        `${file.suite}-latency`,
        `${file.suite}: latency percentiles (lower is better)${tag}`,
        `${unit} (log)`,
        same,
        true,
      ),
    )
  }
  const withRatio = file.results.filter(
    (f) => f.ratio !== undefined && Object.keys(f.ratio).length > 0,
  )
  if (withRatio.length > 0) {
    const peers = [...new Set(withRatio.flatMap((f) => Object.keys(f.ratio ?? {})))]
    charts.push({
      id: `${file.suite}-ratios`,
      type: 'bar',
      title: `${file.suite}: times better than each peer, like for like (1 = even)${tag}`,
      xLabel: 'measurement',
      yLabel: 'ratio (log)',
      labels: withRatio.map((f) => f.name),
      datasets: peers.map((p) => ({
        label: `vs ${p}`,
        data: withRatio.map((f) => f.ratio?.[p] ?? null),
      })),
      logY: true,
    })
  }
  const rows = file.results.map((f) => {
    const targets = f.target === undefined ? [] : Array.isArray(f.target) ? f.target : [f.target]
    return [
      f.group,
      f.name,
      f.value,
      f.unit,
      f.compares ?? '',
      Object.entries(f.peers ?? {})
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
      Object.entries(f.ratio ?? {})
        .map(([k, v]) => `x${v} vs ${k}${k === f.headline ? ' (headline)' : ''}`)
        .join(', '),
      targets
        .map(
          (t) =>
            `${t.op} ${t.peer === undefined ? t.value : `${t.value}x ${t.peer}`}: ${t.met === true ? 'met' : 'missed'}`,
        )
        .join('; '),
      f.loadavg ?? '',
      file.quick ? QUICK_LABEL : '',
    ]
  })
  const q = file.quiet
  return {
    heading: `Suite '${file.suite}'${file.quick ? ` (${QUICK_LABEL})` : ''}`,
    text:
      (file.quick ? `${QUICK_LABEL.toUpperCase()}: a smoke run with small counts.\n\n` : '') +
      `\`${file.command}\` at commit ${file.commit}. Node ${file.node}, ${file.cpus} CPUs ` +
      `(${file.cpuModel}), ${file.platform}, ${file.started} to ${file.date} (${file.seconds} s). ` +
      `1-minute load average ${file.loadavg[0]} at the start, ${file.loadavg[1]} at the end` +
      (q === null
        ? '. '
        : `; waited ${q.waitedSeconds} s for a quiet machine (${q.startedBusy} rounds started ` +
          `busy, ${q.ungated} ran without waiting once the ${q.budgetSeconds} s budget was spent). `) +
      `Median of ${file.runs} run(s); every peer was measured in the same run, like for like ` +
      `(the "compares" column says how).` +
      (file.notes.length > 0 ? `\n\n${file.notes.join('\n\n')}` : ''),
    charts,
    table: {
      columns: [
        'group',
        'measurement',
        'value',
        'unit',
        'compares',
        'peers',
        'ratio',
        'target',
        'load',
        'run',
      ],
      rows,
    },
  }
}

export function benchHtmlReport(files: ReportFile[]): HtmlReport {
  return {
    title: 'multikernel benchmarks',
    subtitle: files.map((f) => f.suite).join(', '),
    sections: files.map(suiteSection),
  }
}
