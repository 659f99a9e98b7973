/**
 * run() and close() options, checked as piscina checks them: a bad one is a
 * TypeError (run() hands it back as a rejected promise, as piscina does).
 */
import type { AbortSignalLike } from './abort.js'
import { moduleUrl } from './options.js'

export interface RunOptions {
  /** The export to call instead of the pool's `name`. */
  name?: string | null
  /** Another task module (a path or a file: URL). */
  filename?: string | URL | null
  /** Abort the task: queued, it never runs; running, its own signal fires. */
  signal?: AbortSignalLike | null
  /** piscina's transfer list: accepted; values are copied into the ring either way. */
  transferList?: unknown[]
}

export interface CloseOptions {
  /** Reject the queued tasks (AbortError) instead of running them; running ones finish. */
  force?: boolean
}

export interface ParsedRun {
  /** A file: URL, or null for the pool's module. */
  filename: string | null
  /** An export name, or null for the pool's. */
  name: string | null
  signal: AbortSignalLike | null
}

/** What run() without options means: shared, so a plain run() allocates no options. */
export const DEFAULT_RUN: ParsedRun = Object.freeze({ filename: null, name: null, signal: null })

export function parseRun(options: RunOptions): ParsedRun {
  if (options === null || typeof options !== 'object')
    throw new TypeError('options must be an object')
  const { signal = null, transferList, name = null } = options
  if (transferList !== undefined && !Array.isArray(transferList))
    throw new TypeError('transferList argument must be an Array')
  let filename: string | null = null
  if (options.filename !== undefined && options.filename !== null) {
    if (typeof options.filename !== 'string' && !(options.filename instanceof URL))
      throw new TypeError('filename argument must be a string')
    filename = moduleUrl(options.filename, 'filename argument')
  }
  if (name !== null && typeof name !== 'string')
    throw new TypeError('name argument must be a string')
  if (signal !== null && typeof signal !== 'object')
    throw new TypeError('signal argument must be an object')
  return { filename, name, signal }
}

export function checkClose(options: CloseOptions): boolean {
  if (options === null || typeof options !== 'object')
    throw new TypeError('options must be an object')
  if (options.force !== undefined && typeof options.force !== 'boolean')
    throw new TypeError('force argument must be a boolean')
  return options.force === true
}
