/**
 * What a benchmark suite is handed and returns: below the suite table (suites.ts)
 * and the suites themselves, so neither imports the other.
 */
import type { QuietGate } from './cpu.js'
import type { SuiteReport } from './report.js'

export interface SuiteContext {
  /** Short smoke run: small counts, one measured round; its figures are not comparable. */
  quick: boolean
  /** Progress lines (stderr). */
  progress: (line: string) => void
  /** Waits (bounded) for a quiet machine before each measured round; none in quick runs. */
  quiet?: QuietGate
}

export type Suite = (ctx: SuiteContext) => Promise<SuiteReport>
