import { defineConfig } from 'vitest/config'

// Tests import the built package by its own name ('multikernel', 'multikernel/ring'),
// exactly as users do; `npm test` builds first (pretest). Worker entry points are
// the built JavaScript, so tests, benchmarks and users run the same code.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    // Cross-thread suites on 2 CPUs: keep the file count in flight small.
    fileParallelism: true,
  },
})
