/**
 * What runRingSuite (suite.ts) hands each section of the ring suite (suite-*.ts):
 * the run's size, where figures go, and how progress is shown.
 */
import type { QuietGate } from '../lib/cpu.js'
import type { Figure } from '../lib/report.js'

export interface Section {
  /** A line of progress (to stderr). */
  say: (line: string) => void
  /** Measured rounds of round trips and MPMC. */
  runs: number
  /** Measured rounds of one-way throughput (more, shorter rounds). */
  owRuns: number
  /** Frames for a run of `full` frames at this run's size. */
  n: (full: number) => number
  /** Record figures, each stamped with the load average when it was measured. */
  add: (...fs: Figure[]) => void
  /** Waits (bounded) for other processes to leave the CPUs before each measured round. */
  quiet: QuietGate | undefined
}
