/**
 * The pool's options, checked as piscina checks its own (a TypeError for the
 * wrong kind of value, a RangeError for a conflict), plus the runtime's: a pool
 * either boots a runtime of its own or is given one.
 */
import { availableParallelism } from 'node:os'
import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { BootOptions } from '../runtime/boot.js'
import type { Runtime } from '../runtime/runtime.js'

/** piscina's ResourceLimits: the heap limit becomes each core's heap budget. */
export interface PoolResourceLimits {
  maxOldGenerationSizeMb?: number
  maxYoungGenerationSizeMb?: number
  codeRangeSizeMb?: number
  stackSizeMb?: number
}

export interface PoolOptions {
  /** The task module (a path or a file: URL); null: every run() names one. */
  filename?: string | URL | null
  /** The export to call; default 'default'. */
  name?: string
  /** Worker domains kept running. Default: maxThreads. */
  minThreads?: number
  /** Worker domains at most. Default: the runtime's cores (availableParallelism() when booting). */
  maxThreads?: number
  /** How long a worker above minThreads may stay idle before it stops, ms. Default 0. */
  idleTimeout?: number
  /** Tasks waiting for a worker at most (then run() rejects QUEUE_FULL); 'auto' = maxThreads^2. */
  maxQueue?: number | 'auto'
  /** Tasks in flight on one worker at once. Default 1. */
  concurrentTasksPerWorker?: number
  /** Each core's memory: maxOldGenerationSizeMb becomes its heap budget (a pool that boots). */
  resourceLimits?: PoolResourceLimits
  /** Keep runTime and waitTime histograms. Default true. */
  recordTiming?: boolean
  /** How long close() waits for tasks before destroying, ms. Default 30000. */
  closeTimeout?: number
  /** A running runtime to put the workers on (the pool then never shuts it down). */
  runtime?: Runtime
  /** Options of the runtime the pool boots (not with `runtime`). */
  boot?: BootOptions
  /** Bytes of each ring of a worker's session (a task or result must fit). Default 1 MiB. */
  capacity?: number
  /** Each worker is a service with this label prefix (routes, rt.services). Default 'pool<n>'. */
  label?: string
  /** piscina's thread flag: accepted and ignored (a worker domain waits on its core's ring). */
  atomics?: 'sync' | 'async' | 'disabled'
}

export interface FilledPoolOptions {
  filename: string | null
  name: string
  minThreads: number
  maxThreads: number
  idleTimeout: number
  maxQueue: number
  concurrentTasksPerWorker: number
  resourceLimits: PoolResourceLimits | undefined
  recordTiming: boolean
  closeTimeout: number
  capacity: number
  label: string | undefined
}

const KEYS = new Set([
  'filename',
  'name',
  'minThreads',
  'maxThreads',
  'idleTimeout',
  'maxQueue',
  'concurrentTasksPerWorker',
  'resourceLimits',
  'recordTiming',
  'closeTimeout',
  'runtime',
  'boot',
  'capacity',
  'label',
  'atomics',
])

const isNonNegInt = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0
const isPosInt = (v: unknown): v is number => isNonNegInt(v) && v > 0
const isTime = (v: unknown): v is number => v === Infinity || (isNonNegInt(v) && v <= 2 ** 31 - 1)

/** A task module named by a path (relative to the working directory) or a URL, as a file: URL. */
export function moduleUrl(f: string | URL, what: string): string {
  if (f instanceof URL) {
    if (f.protocol !== 'file:') throw new TypeError(`${what} must be a file: URL`)
    return f.href
  }
  if (typeof f !== 'string') throw new TypeError(`${what} must be a string or null`)
  if (f.startsWith('file:')) return f
  if (/^[a-z][a-z0-9+.-]*:/i.test(f) && !/^[a-z]:[\\/]/i.test(f)) {
    throw new TypeError(`${what} must be a path or a file: URL`)
  }
  return pathToFileURL(isAbsolute(f) ? f : resolve(f)).href
}

/** Check `o` and fill in the defaults; `cores` is the runtime's (given or to boot). */
export function fillOptions(o: PoolOptions, cores: number): FilledPoolOptions {
  for (const k of Object.keys(o)) {
    if (!KEYS.has(k)) throw new TypeError(`options.${k} is not a pool option`)
  }
  const filename =
    o.filename === undefined || o.filename === null
      ? null
      : moduleUrl(o.filename, 'options.filename')
  if (o.name !== undefined && typeof o.name !== 'string')
    throw new TypeError('options.name must be a string or null')
  if (o.minThreads !== undefined && !isNonNegInt(o.minThreads))
    throw new TypeError('options.minThreads must be a non-negative integer')
  if (o.maxThreads !== undefined && !isPosInt(o.maxThreads))
    throw new TypeError('options.maxThreads must be a positive integer')
  const maxThreads = o.maxThreads ?? Math.max(o.minThreads ?? 0, cores)
  const minThreads = o.minThreads ?? maxThreads
  if (minThreads > maxThreads)
    throw new RangeError('options.minThreads and options.maxThreads must not conflict')
  if (o.idleTimeout !== undefined && !isTime(o.idleTimeout))
    throw new TypeError('options.idleTimeout must be a non-negative integer')
  let maxQueue = Infinity
  if (o.maxQueue === 'auto') maxQueue = maxThreads ** 2
  else if (o.maxQueue !== undefined) {
    if (o.maxQueue !== Infinity && !isNonNegInt(o.maxQueue))
      throw new TypeError('options.maxQueue must be a non-negative integer')
    maxQueue = o.maxQueue
  }
  if (o.concurrentTasksPerWorker !== undefined && !isPosInt(o.concurrentTasksPerWorker))
    throw new TypeError('options.concurrentTasksPerWorker must be a positive integer')
  if (
    o.resourceLimits !== undefined &&
    (typeof o.resourceLimits !== 'object' || o.resourceLimits === null)
  )
    throw new TypeError('options.resourceLimits must be an object')
  if (o.recordTiming !== undefined && typeof o.recordTiming !== 'boolean')
    throw new TypeError('options.recordTiming must be a boolean')
  if (o.closeTimeout !== undefined && !isTime(o.closeTimeout))
    throw new TypeError('options.closeTimeout must be a non-negative integer')
  if (o.atomics !== undefined && !['sync', 'async', 'disabled'].includes(o.atomics))
    throw new TypeError('options.atomics should be a value of sync, async or disabled.')
  const capacity = o.capacity ?? 1 << 20
  if (
    !isPosInt(capacity) ||
    (capacity & (capacity - 1)) !== 0 ||
    capacity < 1024 ||
    capacity > 2 ** 26
  )
    throw new RangeError('options.capacity must be a power of two from 1024 to 2^26')
  if (o.label !== undefined && (typeof o.label !== 'string' || o.label === ''))
    throw new TypeError('options.label must be a non-empty string')
  if (o.runtime !== undefined && o.boot !== undefined)
    throw new TypeError(
      'options.boot and options.runtime: give one (a pool boots or is given a runtime)',
    )
  if (o.boot !== undefined && (typeof o.boot !== 'object' || o.boot === null))
    throw new TypeError('options.boot must be an object')
  return {
    filename,
    name: o.name ?? 'default',
    minThreads,
    maxThreads,
    idleTimeout: o.idleTimeout ?? 0,
    maxQueue,
    concurrentTasksPerWorker: o.concurrentTasksPerWorker ?? 1,
    resourceLimits: o.resourceLimits,
    recordTiming: o.recordTiming ?? true,
    closeTimeout: o.closeTimeout ?? 30_000,
    capacity,
    label: o.label,
  }
}

/** The cores a pool boots: one per worker up to the machine's, with piscina's heap limit. */
export function bootOptionsFor(o: PoolOptions): BootOptions {
  const b: BootOptions = { ...o.boot }
  if (b.cores === undefined) {
    b.cores = Math.min(o.maxThreads ?? availableParallelism(), availableParallelism())
  }
  const heap = o.resourceLimits?.maxOldGenerationSizeMb
  if (heap !== undefined && b.coreMemory === undefined) {
    if (!isPosInt(heap))
      throw new TypeError(
        'options.resourceLimits.maxOldGenerationSizeMb must be a positive integer',
      )
    b.coreMemory = { heapMb: heap }
  }
  return b
}
