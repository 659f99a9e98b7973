/**
 * The text parts of frames: JSON shapes that cross the rings on cold paths
 * (spawning, status tables, a domain's calls and their answers), typed here once
 * for the side that writes them and the side that reads them. Errors have their
 * own codec (error_text.ts).
 */
import type { ErrorText } from './error_text.js'

/**
 * A domain's state in the process manager's table (Barrelfish's names): NIL is
 * never stored, an entry exists from the confirmed spawn on.
 */
export type DomainState = 'RUNNING' | 'STOP_PEND' | 'STOPPED' | 'CLEANED'

/** SPAWN / SPAN text: what to run and with what. */
export interface SpawnText {
  url: string
  argv: string[]
  env: Record<string, string>
}

/** One row of a spawnd's dispatcher table (its ps: the PS reply). */
export interface PsEntry {
  /** The spawnd-local dispatcher id (from 1). */
  dispatcher: number
  domainId: number
  state: 'running' | 'stopped'
  program: string
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
  state: DomainState
  noreap: boolean
}

/** A row of ctx.handles(). */
export interface HandleInfo {
  handle: Handle
  domainId: number
}

/** A domain's state as another domain may read it through a handle (ctx.status). */
export interface DomainInfo {
  domainId: number
  program: string
  state: DomainState
  cores: number[]
  exitCode: number | null
  reason: string | null
  parent: number | null
  children: number[]
}
