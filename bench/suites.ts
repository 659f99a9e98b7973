/**
 * The benchmark suites, by name: `npm run bench -- <suite|all>` (bench/main.ts)
 * runs them. Adding a suite is one line in SUITES.
 *
 * Each suite returns a SuiteReport: every figure beside its peers measured in the
 * same run, with the ratio (bench/lib/report.ts documents the JSON shape).
 */
import type { Suite } from './lib/suite.js'

export type { Suite, SuiteContext } from './lib/suite.js'

// Loaded on demand: a suite loads its peers (piscina, comlink, ringbuf.js, benchmark)
// only when it runs.
export const SUITES: Record<string, Suite> = {
  ring: async (ctx) => (await import('./ring/suite.js')).runRingSuite(ctx),
  pm: async (ctx) => (await import('./pm/suite.js')).runPmSuite(ctx),
  ipc: async (ctx) => (await import('./ipc/suite.js')).runIpcSuite(ctx),
  update: async (ctx) => (await import('./update/suite.js')).runUpdateSuite(ctx),
  pool: async (ctx) => (await import('./pool/suite.js')).runPoolSuite(ctx),
  server: async (ctx) => (await import('./server/suite.js')).runServerSuite(ctx),
  comlink: async (ctx) => (await import('./comlink/suite.js')).runComlinkSuite(ctx),
  remote: async (ctx) => (await import('./remote/suite.js')).runRemoteSuite(ctx),
}
