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
  /** The child's label ('' names it by its program). */
  label?: string
  /** The quota the caller donates to it (absent: the default share). */
  quota?: { bytes?: number; handles?: number } | null
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
/** A slot of a domain's handle table: a domain's capability, or a session's. */
export type HandleInfo =
  { handle: Handle; domainId: number } | { handle: Handle; sessionId: number }

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

/** What the process manager tells a server's core when it asks it to open a session. */
export interface SessionOpenText {
  session: number
  service: string
  label: string
  args: unknown
  quota: { bytes: number; handles: number }
}

/** A session a new incarnation adopts (a live update): its open, and the client's method names. */
export interface SessionAdoptText extends SessionOpenText {
  methods: string[]
}

/** The answer to ctx.session() and ctx.attach(): the session, as its client sees it. */
export interface SessionOpened {
  session: number
  handle: number | null
  service: string
  label: string
  methods: string[]
}
