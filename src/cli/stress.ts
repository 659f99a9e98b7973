/**
 * `multikernel stress`: queue-contention scenarios. Producer and consumer worker
 * threads around one MPMC ring (Vyukov); every run verifies that each frame arrived
 * exactly once, intact and in per-producer order, and reports throughput, latency
 * percentiles, CAS retries, full/empty stalls and fairness between producers.
 * `--sweep` runs producers x ring capacity and writes an HTML report. The engine is
 * the multikernel/stress library (src/stress/); this command keeps the options, the
 * printing and the HTML page.
 * Exit codes: 0 verified, 1 a verification failed, 2 bad usage.
 */
import { stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { EXIT_FAILED, outputOptions } from './output.js'
import { writeHtmlReport } from './report.js'
import { runReport, sweepReport } from './stress/html.js'
import { DEFAULTS, planStress, type StressCliOptions } from './stress/options.js'
import { pointLine, printRun, printSweep } from './stress/print.js'
import { StressProgress } from './stress/progress.js'
import {
  STRESS_SCHEMA,
  WAIT_STRATEGIES,
  type StressJson,
  type StressRunSummary,
} from '../stress/index.js'
import { FAULTS } from '../stress/protocol.js'
import { runStressConfig } from '../stress/run.js'
import { summarize } from '../stress/summary.js'

export function registerStress(cli: Command): void {
  const d = DEFAULTS
  cli
    .command('stress')
    .description(
      'queue-contention stress test: producer and consumer threads around one MPMC ring, ' +
        'every frame verified exactly-once',
    )
    .option('-p, --producers <n>', `producer threads (default: ${d.producers})`)
    .option('-c, --consumers <n>', `consumer threads (default: ${d.consumers})`)
    .option(
      '-s, --capacity <slots>',
      `ring capacity in slots, a power of two (default: ${d.capacity})`,
    )
    .option(
      '-f, --frame-size <bytes>',
      `bytes per frame, its 20-byte header included (default: ${d.frameSize}, one 64-byte slot)`,
    )
    .addOption(
      new Option('-w, --wait <strategy>', 'what a blocked thread does')
        .choices(WAIT_STRATEGIES)
        .default(d.wait),
    )
    .option('--spin <n>', `spin bound of spin and spin-then-sleep (default: ${d.spin})`)
    .option('-n, --frames <n>', `total frames over all producers (default: ${d.frames})`)
    .option('-d, --duration <seconds>', 'run for this long instead of a frame count')
    .option('--sweep', 'run every producers x capacity pair and write an HTML report')
    .option('--sweep-producers <list>', `producer counts to sweep (default: ${d.sweepProducers})`)
    .option('--sweep-capacity <list>', `ring capacities to sweep (default: ${d.sweepCapacity})`)
    .option(
      '-o, --out <file>',
      `write the HTML report here (sweep default: ${d.report}; a single run only when given)`,
    )
    .option('--json', 'print the results as JSON on stdout, no progress bar')
    .option('--no-color', 'no colour even on a terminal')
    // Test-only: producer 0 corrupts, drops or duplicates one frame; the run must fail.
    .addOption(new Option('--fault <kind>').choices(FAULTS).hideHelp())
    .addHelpText(
      'after',
      `
Wait strategies: spin (bounded spinning, then yield), sleep (doorbell, no spin),
spin-then-sleep (doorbell after --spin checks). Exit codes: 0 verified, 1 a frame
was lost, duplicated, corrupted or reordered, 2 bad usage.

Examples:
  multikernel stress -p 4 -c 2 -s 16 -n 500000
  multikernel stress --wait sleep --duration 5 --json
  multikernel stress --sweep --sweep-producers 1,2,4 --sweep-capacity 8,64 -o report.html`,
    )
    .action(async (opts: StressCliOptions) => {
      const out = outputOptions(opts)
      const plan = planStress(opts)
      const tty = process.stderr.isTTY === true && !out.json
      const progress = new StressProgress(
        plan.runs,
        tty ? 'bar' : out.json || !plan.sweep ? 'none' : 'lines',
      )
      const runs: StressRunSummary[] = []
      try {
        for (const config of plan.runs) {
          const raw = await runStressConfig(config, (p) => progress.update(p.received, p.elapsedMs))
          const summary = summarize(raw)
          runs.push(summary)
          progress.finished(pointLine(summary))
        }
      } finally {
        progress.stop()
      }
      const report = plan.out === null ? null : await reportPath(plan.out)
      if (report !== null) {
        await writeHtmlReport(report, plan.sweep ? sweepReport(runs) : runReport(runs[0]))
      }
      const ok = runs.every((r) => r.verification.ok)
      if (out.json) {
        const doc: StressJson = {
          schema: STRESS_SCHEMA,
          mode: plan.sweep ? 'sweep' : 'run',
          ok,
          runs,
          report,
        }
        process.stdout.write(JSON.stringify(doc, null, 2) + '\n')
      } else if (plan.sweep) {
        printSweep(runs, out, report ?? '')
      } else {
        printRun(runs[0], out, report)
      }
      if (!ok) process.exitCode = EXIT_FAILED
    })
}

/** --out names a file, or an existing directory to put stress-report.html in. */
async function reportPath(out: string): Promise<string> {
  const path = resolve(out)
  const st = await stat(path).catch(() => null)
  return st?.isDirectory() === true ? join(path, DEFAULTS.report) : path
}
