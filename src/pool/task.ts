/**
 * A task as the pool keeps it from run() until it settles: one object per task,
 * of one shape (fields set in the constructor), so the dispatch path stays
 * monomorphic.
 */
import type { AbortSignalLike } from './abort.js'
import type { PoolWorker } from './pool_worker.js'

/** Waiting in the pool's queue. */
export const QUEUED = 0
/** Sent to a worker, not answered. */
export const RUNNING = 1
/** Settled (answered, aborted, failed): its promise is decided. */
export const DONE = 2

export class Task {
  state = QUEUED
  worker: PoolWorker | null = null
  signal: AbortSignalLike | null = null
  onAbort: (() => void) | null = null
  created = 0
  started = 0

  constructor(
    /** The value, until it is copied into the ring. */
    public task: unknown,
    readonly id: number,
    readonly filename: string | null,
    readonly name: string | null,
    readonly resolve: (v: unknown) => void,
    readonly reject: (e: unknown) => void,
  ) {}
}
