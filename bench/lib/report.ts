/**
 * Benchmark reports: every suite returns a SuiteReport; bench/main.ts (`npm run
 * bench`) prints it as a table and writes it as JSON to bench/results/<suite>.json
 * (<suite>.quick.json for a --quick run, labelled "quick, not comparable").
 *
 * JSON shape (stable; fields are only ever added, never renamed or removed):
 *
 *     {
 *       "suite": "ring",                 // suite name as given on the command line
 *       "quick": false,                  // true for a --quick smoke run (small counts)
 *       "comparable": true,              // false for --quick: its figures are not comparable
 *       "label": "full run",             // "quick, not comparable" for --quick
 *       "command": "npm run bench -- ring",
 *       "commit": "e13b34c",             // git HEAD of the clone ("+dirty" with local edits)
 *       "node": "v20.20.2",              // process.version
 *       "cpus": 2,                       // os.availableParallelism()
 *       "cpuModel": "AMD EPYC",          // os.cpus()[0].model
 *       "platform": "linux x64",
 *       "started": "2025-01-01T00:00:00.000Z",  // when the suite started
 *       "date": "2025-01-01T00:05:00.000Z",     // when the report was written (end of the run)
 *       "seconds": 300,                  // how long the suite ran
 *       "loadavg": [3.1, 0.2],            // 1-minute load average at the start and at the end
 *       "quiet": { "waitedSeconds": 12, "budgetSeconds": 60, "ungated": 3 },
 *                                        // the quiet gate: time spent waiting for other
 *                                        // processes to leave the CPUs, and rounds run
 *                                        // without waiting once its budget was spent
 *       "runs": 5,                       // measured repetitions of a cross-thread figure (the
 *                                        // notes name any group measured more often)
 *       "results": [
 *         {
 *           "name": "one-way 16 B frames, 64 per publish",   // unique within the suite
 *           "group": "one-way throughput",                  // table section
 *           "unit": "frames/s",          // unit of value, of runs and of every peer value
 *           "better": "higher",          // "higher" | "lower" | "none" (informational figures)
 *           "value": 81000000,           // this library's figure: the median of runs
 *           "runs": [80000000, ...],     // optional: every measured repetition
 *           "rme": 0.8,                  // optional: benchmark.js relative margin of error, +-%
 *           "samples": 87,               // optional: benchmark.js samples / latency samples per run
 *           "compares": "...",           // optional: what the ratios compare (batching, waiting,
 *                                        //   peer configuration); every peer is like for like
 *           "peers": {                   // optional: the same measurement by other means, same run
 *             "postMessage": 400000,
 *             "ringbuf": 30000000
 *           },
 *           "ratio": { "postMessage": 202.5, "ringbuf": 2.7 },
 *                                        // optional: times better than each peer; for "higher"
 *                                        // value/peer, for "lower" peer/value
 *           "headline": "piscina-tuned", // optional: the peer the headline ratio is against
 *                                        //   (the best of several configurations of one peer)
 *           "target": { "op": ">=", "value": 80000000, "met": true },
 *                                        // optional: the goal for this figure; a target with
 *                                        // "peer" is a minimum ratio against that peer
 *           "loadavg": 1.2,              // 1-minute load average when the figure was measured
 *           "extra": { "casRetries": 12, "othersCpuMax": 0.3 },
 *                                        // optional: counters that explain the figure;
 *                                        //   othersCpuMax = most CPUs other processes took
 *                                        //   during one of its measured rounds
 *           "note": "..."                // optional
 *         }
 *       ],
 *       "notes": ["..."]                 // free text: parameters, caveats
 *     }
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, arch, loadavg, platform } from 'node:os'
import { join } from 'node:path'
import type { QuietRecord } from './cpu.js'
import { human, sig } from './stats.js'

/** How quick runs are labelled wherever they are printed. */
export const QUICK_LABEL = 'quick, not comparable'

export type Better = 'higher' | 'lower' | 'none'

export interface Target {
  op: '>=' | '<='
  value: number
  /** When set, the target is a ratio against this peer rather than the value itself. */
  peer?: string
  met?: boolean
}

export interface Figure {
  name: string
  group: string
  unit: string
  better: Better
  value: number
  runs?: number[]
  rme?: number
  samples?: number
  /** What the ratios compare: batching, waiting mode, peer configuration. */
  compares?: string
  peers?: Record<string, number>
  ratio?: Record<string, number>
  /** The peer of the headline ratio (the better of several configurations). */
  headline?: string
  target?: Target | Target[]
  /** 1-minute load average when the figure was measured (stamp() sets it). */
  loadavg?: number
  extra?: Record<string, number>
  note?: string
}

export interface SuiteReport {
  figures: Figure[]
  notes: string[]
  runs: number
  /** 1-minute load average when the suite started (set by the suite; null in JSON if not). */
  loadavgStart?: number
  /** The quiet gate's record, when the suite used one. */
  quiet?: QuietRecord
}

export interface ReportFile {
  suite: string
  quick: boolean
  comparable: boolean
  label: string
  command: string
  commit: string
  node: string
  cpus: number
  cpuModel: string
  platform: string
  started: string
  date: string
  seconds: number
  loadavg: [number, number]
  quiet: QuietRecord | null
  runs: number
  results: Figure[]
  notes: string[]
}

/** Set the figure's load average to the machine's now (call it right after measuring). */
export function stamp(f: Figure): Figure {
  f.loadavg ??= sig(loadavg()[0], 3)
  return f
}

/** Fill in `ratio` from `peers` and `met` of each target; rounds numbers for printing. */
export function finishFigure(f: Figure): Figure {
  if (f.peers) {
    const ratio: Record<string, number> = {}
    for (const [peer, v] of Object.entries(f.peers)) {
      if (!(v > 0) || !(f.value > 0) || f.better === 'none') continue
      ratio[peer] = sig(f.better === 'higher' ? f.value / v : v / f.value, 3)
    }
    f.ratio = ratio
  }
  const targets = f.target === undefined ? [] : Array.isArray(f.target) ? f.target : [f.target]
  for (const t of targets) {
    const actual = t.peer === undefined ? f.value : f.ratio?.[t.peer]
    t.met =
      actual === undefined || Number.isNaN(actual)
        ? false
        : t.op === '>='
          ? actual >= t.value
          : actual <= t.value
  }
  if (f.headline !== undefined && f.ratio?.[f.headline] === undefined) delete f.headline
  f.value = sig(f.value)
  if (f.runs) f.runs = f.runs.map((v) => sig(v))
  if (f.peers) for (const k of Object.keys(f.peers)) f.peers[k] = sig(f.peers[k])
  if (f.extra) for (const k of Object.keys(f.extra)) f.extra[k] = sig(f.extra[k])
  return f
}

function targetText(f: Figure): string {
  const targets = f.target === undefined ? [] : Array.isArray(f.target) ? f.target : [f.target]
  return targets
    .map((t) => {
      const what =
        t.peer === undefined ? `${t.op} ${human(t.value)}` : `${t.op} ${t.value}x ${t.peer}`
      return `${what} ${t.met ? 'MET' : 'MISSED'}`
    })
    .join('; ')
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length)
}

/** Print the figures grouped, each beside its peers and ratios. */
export function printReport(suite: string, report: SuiteReport, quick: boolean): void {
  const out: string[] = []
  out.push('')
  out.push(
    `== ${suite}${quick ? ` (${QUICK_LABEL}: small counts)` : ''}: ` +
      `node ${process.version}, ${availableParallelism()} cpus, median of ${report.runs} run(s) unless noted`,
  )
  let group = ''
  for (const f of report.figures) {
    if (f.group !== group) {
      group = f.group
      out.push('')
      out.push(`-- ${group}`)
    }
    let line = `${pad(f.name, 58)} ${pad(human(f.value), 10)} ${pad(f.unit, 9)}`
    if (f.rme !== undefined) line += ` ±${f.rme.toFixed(2)}%`
    if (f.samples !== undefined) line += ` (${f.samples} samples)`
    const peers = Object.entries(f.peers ?? {})
    if (peers.length > 0) {
      line +=
        ' | ' +
        peers
          .map(([k, v]) => {
            const r = f.ratio?.[k]
            const star = k === f.headline ? '*' : ''
            return `${k}${star} ${human(v)}${r === undefined ? '' : ` (x${human(r)})`}`
          })
          .join(', ')
    }
    if (f.loadavg !== undefined) line += ` | load ${f.loadavg}`
    if (quick) line += ` [${QUICK_LABEL}]`
    const t = targetText(f)
    if (t) line += ` | target ${t}`
    out.push(line)
    if (f.extra && Object.keys(f.extra).length > 0) {
      out.push(
        `${' '.repeat(6)}${Object.entries(f.extra)
          .map(([k, v]) => `${k}=${human(v)}`)
          .join(' ')}`,
      )
    }
    if (f.compares) out.push(`${' '.repeat(6)}compares: ${f.compares}`)
    if (f.note) out.push(`${' '.repeat(6)}${f.note}`)
  }
  if (report.notes.length > 0) {
    out.push('')
    for (const n of report.notes) out.push(`note: ${n}`)
  }
  if (report.figures.some((f) => f.headline !== undefined)) {
    out.push('note: * = the headline peer (the better configuration of that peer)')
  }
  out.push('')
  process.stdout.write(out.join('\n') + '\n')
}

/** Where and how a report was made, for writeReport. */
export interface RunInfo {
  /** The directory bench/results/ is in (the clone's root). */
  root: string
  command: string
  commit: string
  started: Date
}

/**
 * Write bench/results/<suite>.json under `info.root`, or <suite>.quick.json for a
 * quick run. Returns its path and the file written.
 */
export function writeReport(
  info: RunInfo,
  suite: string,
  report: SuiteReport,
  quick: boolean,
): { path: string; file: ReportFile } {
  const dir = join(info.root, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const end = new Date()
  const file: ReportFile = {
    suite,
    quick,
    comparable: !quick,
    label: quick ? QUICK_LABEL : 'full run',
    command: info.command,
    commit: info.commit,
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    platform: `${platform()} ${arch()}`,
    started: info.started.toISOString(),
    date: end.toISOString(),
    seconds: Math.round((end.getTime() - info.started.getTime()) / 1000),
    loadavg: [sig(report.loadavgStart ?? NaN, 3), sig(loadavg()[0], 3)],
    quiet: report.quiet ?? null,
    runs: report.runs,
    results: report.figures,
    notes: report.notes,
  }
  const path = join(dir, `${suite}${quick ? '.quick' : ''}.json`)
  writeFileSync(path, JSON.stringify(file, null, 2) + '\n')
  return { path, file }
}
