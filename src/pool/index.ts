/**
 * multikernel/pool: piscina 5's API on multikernel's rings and supervision.
 *
 *     import { Pool } from 'multikernel/pool'
 *     const pool = new Pool({ filename: new URL('./task.mjs', import.meta.url) })
 *     await pool.run({ a: 1 })
 */
export { Pool, type RunOptions, type CloseOptions, type PoolThread } from './pool.js'
export { AbortError, type AbortSignalLike } from './abort.js'
export type { PoolOptions, PoolResourceLimits, FilledPoolOptions } from './options.js'
export type { PoolHistogram, PoolHistogramSummary } from './histogram.js'
export type { PoolWorkerState } from './pool_worker.js'
export { fastifyPool, type FastifyPoolOptions } from './fastify.js'
export { Pool as Piscina, Pool as default } from './pool.js'
