/**
 * Benchmark reports: every suite returns a SuiteReport; `multikernel bench`
 * (src/cli/bench.ts) prints it as a table and writes it as JSON to
 * bench/results/<suite>.json (<suite>.quick.json for a --quick run).
 *
 * JSON shape (stable; fields are only ever added, never renamed or removed):
 *
 *     {
 *       "suite": "ring",                 // suite name as given on the command line
 *       "quick": false,                  // true for a --quick smoke run (small counts)
 *       "node": "v20.20.2",              // process.version
 *       "cpus": 2,                       // os.availableParallelism()
 *       "cpuModel": "AMD EPYC",          // os.cpus()[0].model
 *       "platform": "linux x64",
 *       "date": "2025-01-01T00:00:00.000Z",  // when the report was written (end of the run)
 *       "loadavg": [3.1, 0.2],            // 1-minute load average at the start and at the end
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
 *           "peers": {                   // optional: the same measurement by other means, same run
 *             "postMessage": 400000,     //   well-known keys: postMessage, postMessage-batched, ringbuf
 *             "ringbuf": 30000000
 *           },
 *           "ratio": { "postMessage": 202.5, "ringbuf": 2.7 },
 *                                        // optional: times better than each peer; for "higher"
 *                                        // value/peer, for "lower" peer/value
 *           "target": { "op": ">=", "value": 80000000, "met": true },
 *                                        // optional: the goal for this figure; a target with
 *                                        // "peer" is a minimum ratio against that peer
 *           "extra": { "casRetries": 12 }, // optional: counters that explain the figure
 *           "note": "..."                // optional
 *         }
 *       ],
 *       "notes": ["..."]                 // free text: parameters, caveats
 *     }
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, arch, loadavg, platform } from 'node:os'
import { join } from 'node:path'
import { human, sig } from './stats.js'

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
  peers?: Record<string, number>
  ratio?: Record<string, number>
  target?: Target | Target[]
  extra?: Record<string, number>
  note?: string
}

export interface SuiteReport {
  figures: Figure[]
  notes: string[]
  runs: number
  /** 1-minute load average when the suite started (set by the suite; null in JSON if not). */
  loadavgStart?: number
}

export interface ReportFile {
  suite: string
  quick: boolean
  node: string
  cpus: number
  cpuModel: string
  platform: string
  date: string
  loadavg: [number, number]
  runs: number
  results: Figure[]
  notes: string[]
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
    `== ${suite}${quick ? ' (--quick: small counts, figures are indicative only)' : ''}: ` +
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
            return `${k} ${human(v)}${r === undefined ? '' : ` (x${human(r)})`}`
          })
          .join(', ')
    }
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
    if (f.note) out.push(`${' '.repeat(6)}${f.note}`)
  }
  if (report.notes.length > 0) {
    out.push('')
    for (const n of report.notes) out.push(`note: ${n}`)
  }
  out.push('')
  process.stdout.write(out.join('\n') + '\n')
}

/**
 * Write bench/results/<suite>.json under `root` (the package root), or
 * <suite>.quick.json for a quick run. Returns its path.
 */
export function writeReport(
  root: string,
  suite: string,
  report: SuiteReport,
  quick: boolean,
): string {
  const dir = join(root, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const file: ReportFile = {
    suite,
    quick,
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    platform: `${platform()} ${arch()}`,
    date: new Date().toISOString(),
    loadavg: [sig(report.loadavgStart ?? NaN, 3), sig(loadavg()[0], 3)],
    runs: report.runs,
    results: report.figures,
    notes: report.notes,
  }
  const path = join(dir, `${suite}${quick ? '.quick' : ''}.json`)
  writeFileSync(path, JSON.stringify(file, null, 2) + '\n')
  return path
}
