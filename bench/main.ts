/**
 * The benchmark harness, a development tool run from a clone (it needs the peers
 * it compares against, which are development dependencies):
 *
 *     npm run bench -- ring|pm|ipc|update|all [--quick] [--json] [--out file] [--no-html]
 *
 * Every figure is printed beside its peers measured in the same run, like for like
 * (same batching, same waiting mode, the peer at its best, rounds interleaved; the
 * README's "Benchmarks" says more), with the machine's load.
 * Results go to bench/results/<suite>.json (<suite>.quick.json for --quick, labelled
 * "quick, not comparable") and one self-contained HTML report; `npm run bench:readme`
 * turns the last full run's JSON into the README's table.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command, CommanderError } from 'commander'
import { writeHtmlReport } from '../src/cli/report.js'
import { QuietGate } from './lib/cpu.js'
import { benchHtmlReport } from './lib/html.js'
import { printReport, writeReport, type ReportFile } from './lib/report.js'
import { SUITES } from './suites.js'
import { loadavg } from 'node:os'

/** The clone's root (dist/bench/main.js -> ../../). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * The quiet gate of full runs: a round starts once other processes use < 0.1 CPU,
 * waiting at most 2 s per round and 60 s per suite; then rounds run at once and the
 * load they met is recorded. A busy 2-CPU machine still finishes `all` in 15 minutes.
 */
const QUIET_THRESHOLD = 0.1
const QUIET_MAX_WAIT_MS = 2_000
const QUIET_BUDGET_MS = 60_000

interface BenchOptions {
  quick?: boolean
  json?: boolean
  out?: string
  html?: boolean
}

/** The commit the figures were measured on ("+dirty" with uncommitted edits). */
function gitCommit(): string {
  try {
    const run = (args: string[]): string =>
      execFileSync('git', args, {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      })
    const head = run(['rev-parse', '--short', 'HEAD']).trim()
    const dirty = run(['status', '--porcelain', '--untracked-files=no']).trim() !== ''
    return dirty ? `${head}+dirty` : head
  } catch {
    return 'unknown'
  }
}

async function main(argv: string[]): Promise<void> {
  const names = [...Object.keys(SUITES), 'all']
  const cli = new Command()
    .name('npm run bench --')
    .description('the benchmark suites: every figure beside its peers measured in the same run')
    .argument('[suite]', `one of ${names.join(', ')}`, 'all')
    .option('-q, --quick', 'a short smoke run: small counts, figures not comparable')
    .option('--json', 'print the results as JSON (an array of suite reports) instead of tables')
    .option(
      '-o, --out <file>',
      'where to write the HTML report (default bench/results/report[.quick].html)',
    )
    .option('--no-html', 'write no HTML report')
    .showHelpAfterError()
    .exitOverride()
  cli.parse(argv)
  const suite = cli.args[0] ?? 'all'
  const opts = cli.opts<BenchOptions>()
  if (!names.includes(suite)) {
    process.stderr.write(`bench: unknown suite '${suite}' (choose ${names.join(', ')})\n`)
    process.exitCode = 2
    return
  }
  const quick = opts.quick === true
  const command = `npm run bench -- ${argv.slice(2).join(' ')}`.trim()
  const commit = gitCommit()
  const files: ReportFile[] = []
  for (const name of suite === 'all' ? Object.keys(SUITES) : [suite]) {
    const started = new Date()
    const load0 = loadavg()[0]
    const quiet = quick
      ? undefined
      : new QuietGate(QUIET_THRESHOLD, QUIET_MAX_WAIT_MS, QUIET_BUDGET_MS)
    const report = await SUITES[name]({
      quick,
      quiet,
      progress: (line) => process.stderr.write(`[${name}] ${line}\n`),
    })
    report.loadavgStart ??= load0
    if (quiet) report.quiet = quiet.record()
    if (opts.json !== true) printReport(name, report, quick)
    const { path, file } = writeReport(
      { root: ROOT, command, commit, started },
      name,
      report,
      quick,
    )
    process.stderr.write(`[${name}] wrote ${path} (${file.seconds} s)\n`)
    files.push(file)
  }
  if (opts.html !== false) {
    const html = opts.out ?? join(ROOT, 'bench', 'results', `report${quick ? '.quick' : ''}.html`)
    await writeHtmlReport(html, benchHtmlReport(files))
    process.stderr.write(`wrote ${html}\n`)
  }
  if (opts.json === true) process.stdout.write(JSON.stringify(files, null, 2) + '\n')
}

try {
  await main(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2
  } else {
    process.stderr.write(
      `bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    )
    process.exitCode = 1
  }
}
