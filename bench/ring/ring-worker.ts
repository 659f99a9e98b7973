/**
 * Entry point of every ring benchmark worker (started from its compiled JS, as
 * dist/bench/ring/ring-worker.js): picks the role named by its workerData and serves
 * the round protocol of bench/lib/rounds.ts.
 */
import { workerData } from 'node:worker_threads'
import { serveRounds, type RoundFn } from '../lib/rounds.js'
import { onewayRole } from './roles-oneway.js'
import { roundTripRole } from './roles-latency.js'
import { mpmcRole } from './roles-mpmc.js'
import type { RingBenchTask } from './tasks.js'

const task = workerData as RingBenchTask

function role(t: RingBenchTask): RoundFn {
  switch (t.kind) {
    case 'oneway':
      return onewayRole(t)
    case 'roundtrip':
      return roundTripRole(t)
    case 'mpmc':
      return mpmcRole(t)
  }
}

await serveRounds(task, role(task))
