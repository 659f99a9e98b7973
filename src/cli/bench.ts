/**
 * `multikernel bench [ring|pm|all]`: the benchmark suites behind one command.
 * Every figure is printed beside its peers (postMessage, piscina, comlink,
 * ringbuf.js) measured in the same run, with the ratio; results are written as
 * JSON (bench/results/<suite>.json) and as one self-contained HTML report with
 * charts. `npm run bench -- <suite>` runs this command.
 */
import type { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SUITES } from '../../bench/suites.js'
import { printReport, writeReport, type ReportFile } from '../../bench/lib/report.js'
import { benchHtmlReport } from './bench_html.js'
import { outputOptions, UsageError } from './output.js'
import { writeHtmlReport } from './report.js'

interface BenchOptions {
  quick?: boolean
  json?: boolean
  color?: boolean
  out?: string
  html?: boolean
}

/** The package root (dist/src/cli/bench.js -> ../../../). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export function registerBench(cli: Command): void {
  cli
    .command('bench')
    .description('run the benchmark suites, each figure beside its peers measured in the same run')
    .argument('[suite]', `one of ${[...Object.keys(SUITES), 'all'].join(', ')}`, 'all')
    .option('-q, --quick', 'a short smoke run: small counts, figures indicative only')
    .option('--json', 'print the results as JSON (an array of suite reports) instead of tables')
    .option(
      '-o, --out <file>',
      'where to write the HTML report (default bench/results/report[.quick].html)',
    )
    .option('--no-html', 'write no HTML report')
    .option('--no-color', 'no colour even on a terminal')
    .action(async (suite: string, opts: BenchOptions) => {
      const out = outputOptions(opts)
      const names = suite === 'all' ? Object.keys(SUITES) : [suite]
      for (const n of names) {
        if (!(n in SUITES)) {
          throw new UsageError(
            `unknown suite '${n}' (choose ${[...Object.keys(SUITES), 'all'].join(', ')})`,
          )
        }
      }
      const quick = opts.quick === true
      const files: ReportFile[] = []
      for (const name of names) {
        const load0 = loadavg()[0]
        const report = await SUITES[name]({
          quick,
          progress: (line) => process.stderr.write(`[${name}] ${line}\n`),
        })
        // A suite that does not note the machine's load at its start gets it here.
        report.loadavgStart ??= load0
        if (!out.json) printReport(name, report, quick)
        const path = writeReport(ROOT, name, report, quick)
        process.stderr.write(`[${name}] wrote ${path}\n`)
        files.push(JSON.parse(readFileSync(path, 'utf8')) as ReportFile)
      }
      if (opts.html !== false) {
        const html =
          opts.out ?? join(ROOT, 'bench', 'results', `report${quick ? '.quick' : ''}.html`)
        await writeHtmlReport(html, benchHtmlReport(files))
        process.stderr.write(`wrote ${html}\n`)
      }
      if (out.json) process.stdout.write(JSON.stringify(files, null, 2) + '\n')
    })
}
