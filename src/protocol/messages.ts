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
