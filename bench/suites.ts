/**
 * The benchmark suites, by name: `multikernel bench <suite|all>` (and
 * `npm run bench -- <suite>`) runs them. Adding a suite is one line in SUITES.
 *
 * Each suite returns a SuiteReport: every figure beside its peers measured in the
 * same run, with the ratio (bench/lib/report.ts documents the JSON shape).
 */
import type { SuiteReport } from './lib/report.js'

export interface SuiteContext {
  /** Short smoke run: small counts, one measured round. */
  quick: boolean
  /** Progress lines (stderr). */
  progress: (line: string) => void
}

export type Suite = (ctx: SuiteContext) => Promise<SuiteReport>

// Loaded on demand: the suites import their peers (piscina, comlink, ringbuf.js,
// benchmark), development dependencies the rest of the command line does not need.
export const SUITES: Record<string, Suite> = {
  ring: async (ctx) => (await import('./ring/suite.js')).runRingSuite(ctx),
  pm: async (ctx) => (await import('./pm/suite.js')).runPmSuite(ctx),
}
