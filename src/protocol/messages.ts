/**
 * The text parts of frames: JSON shapes that cross the rings on cold paths
 * (spawning, errors, status tables). Pure functions; no threads here.
 */

/** SPAWN / SPAN text: what to run and with what. */
export interface SpawnText {
  url: string
  argv: string[]
  env: Record<string, string>
}

/** An error as it crosses a thread boundary (Error objects do not survive JSON). */
export interface ErrorText {
  name: string
  message: string
  stack?: string
  code?: string
  cause?: ErrorText
}

/** One row of a spawnd's dispatcher table (STATUS reply). */
export interface PsEntry {
  /** The spawnd-local dispatcher id (from 1). */
  dispatcher: number
  domainId: number
  state: 'running' | 'stopped'
  program: string
}

export function errorToText(err: unknown, depth = 0): ErrorText {
  if (err instanceof Error) {
    const out: ErrorText = { name: err.name, message: err.message }
    if (err.stack !== undefined) out.stack = err.stack
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string') out.code = code
    if (err.cause !== undefined && depth < 8) out.cause = errorToText(err.cause, depth + 1)
    return out
  }
  return { name: 'NonError', message: String(err) }
}

/** Rebuild an Error from its text (name, message, stack and cause chain kept). */
export function errorFromText(t: ErrorText): Error {
  const e = new Error(t.message, t.cause ? { cause: errorFromText(t.cause) } : undefined)
  e.name = t.name
  if (t.stack !== undefined) e.stack = t.stack
  if (t.code !== undefined) (e as Error & { code?: string }).code = t.code
  return e
}

/** A handle: an index into the calling domain's handle table (like a file descriptor). */
export type Handle = number

/** ctx.spawn arguments. */
export interface CallSpawnArgs {
  url: string
  argv: string[]
  env: Record<string, string>
  core: number | null
  /** Detached child: never waited for, freed as soon as it is cleaned. */
  noreap: boolean
  /** Handles of the caller copied into the child's table (spawn_with_caps). */
  handles: Handle[]
  /** The child shares the caller's handle table (Camellia's FORK_SHAREHANDLE). */
  shareHandles: boolean
}

export interface CallWaitArgs {
  /** A child's handle, or null for any child. */
  handle: Handle | null
  nohang: boolean
}

export interface CallHandleArgs {
  handle: Handle
  subtree?: boolean
  core?: number
}

/** What ctx.wait answers for a reaped child. */
export interface ChildExit {
  handle: Handle
  domainId: number
  exitCode: number
  reason: string
  error?: ErrorText
}

/** A row of ctx.children(). */
export interface ChildInfo {
  handle: Handle | null
  domainId: number
  program: string
  state: string
  noreap: boolean
}

/** A row of ctx.handles(). */
export interface HandleInfo {
  handle: Handle
  domainId: number
}
