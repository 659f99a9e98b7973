/**
 * The domain table (Barrelfish's domain_table in proc_mgmt): one entry per domain
 * that a spawnd confirmed, with its capability, state, the cores it runs on and
 * holds resources on, its exit status and the clients waiting on it.
 *
 * States: NIL -> RUNNING -> STOP_PEND -> STOPPED -> CLEANED. NIL is never stored:
 * an entry is created only when the spawnd confirms the spawn.
 *
 * The original counts running dispatchers in an integer that two concurrent kills
 * both decrement; here `running` and `resources` are sets of cores (CoreSet), so a second
 * answer from the same core changes nothing. num_spawnds_running is
 * `running.size`, num_spawnds_resources is `resources.size`.
 */
import type { ErrorText } from '../protocol/error_text.js'
import type { DomainState } from '../protocol/messages.js'
import { DomainCap } from './cap.js'
import { HandleTable } from './handles.js'
import { CoreSet } from './core_set.js'

export type { DomainState }

/** Why a domain stopped. */
export type ExitReason = 'exited' | 'error' | 'killed' | 'core-failed'

/** What wait() answers. */
export type WaitResult =
  | { status: 'running' }
  | {
      status: 'stopped' | 'cleaned'
      exitCode: number
      reason: ExitReason
      error?: ErrorText
    }

/**
 * Where a domain stands in the process tree (Camellia):
 *  alive      running or stopping
 *  zombie     ended, kept until its parent waits for it (reapable)
 *  tombstone  ended, kept because children of it still live
 *  detached   ended, freed as soon as it is cleaned (noreap, or no parent left to wait)
 */
export type TreeState = 'alive' | 'zombie' | 'tombstone' | 'detached'

/** A snapshot of one domain's entry (rt.status, rt.domains). */
export interface DomainStatus {
  id: number
  /** Parent domain id, or null for a domain the runtime (root) spawned. */
  parent: number | null
  /** Ids of its children still in the table. */
  children: number[]
  tree: TreeState
  noreap: boolean
  program: string
  argv: string[]
  state: DomainState
  /** Cores with a dispatcher of it running (or being spanned). */
  cores: number[]
  /** Cores still holding its resources (not yet cleaned up). */
  resourceCores: number[]
  numSpawndsRunning: number
  numSpawndsResources: number
  /** It called ctx.ready(). */
  ready: boolean
  /** Milliseconds since its last ctx.heartbeat() (or its start). */
  lastBeatAgoMs: number
  exitCode: number | null
  reason: ExitReason | null
  error: ErrorText | null
}

export class DomainEntry {
  readonly id: number
  readonly cap: DomainCap
  readonly program: string
  readonly argv: string[]
  readonly env: Record<string, string>
  /** Parent domain id; 0 is the runtime itself (the root). */
  readonly parentId: number
  /** Depth in the tree: 1 for a child of the root. */
  readonly depth: number
  /** Detached child: never waited for, freed once cleaned. */
  readonly noreap: boolean
  /** Its table, made on first use (most short-lived domains never hold a handle). */
  private handleTable: HandleTable | null
  private readonly maxHandles: number
  /** Ids of children still in the table. */
  readonly children = new Set<number>()
  /** Its parent (or the root) has collected its exit status. */
  reaped = false
  /** It called ctx.ready() (the init-ready handshake). */
  ready = false
  /** Date.now() of its last ctx.heartbeat() (or of its start). */
  lastBeat = Date.now()
  state: DomainState = 'RUNNING'
  /** Cores running a dispatcher, including ones whose span is not yet answered. */
  readonly running = new CoreSet()
  /** Cores whose span is sent but not answered (no kill goes there until it is). */
  readonly spanning = new CoreSet()
  /** Cores holding a dispatcher entry that needs a cleanup. */
  readonly resources = new CoreSet()
  exitCode: number | null = null
  reason: ExitReason | null = null
  error: ErrorText | null = null
  /** Clients of kill() and wait() answered when the domain is STOPPED. */
  readonly onStopped: (() => void)[] = []
  /** Clients answered when the domain is CLEANED (shutdown waits on these). */
  readonly onCleaned: (() => void)[] = []

  /** This domain's pending ctx.wait() for any child, answered in order. */
  readonly childWaiters: ((child: DomainEntry) => void)[] = []

  constructor(
    id: number,
    token: string,
    core: number,
    spec: { program: string; argv: string[]; env: Record<string, string> },
    tree: {
      parentId: number
      depth: number
      noreap: boolean
      /** A table to start with (inherited or shared), or null for an empty one on demand. */
      handles: HandleTable | null
      maxHandles: number
    },
  ) {
    this.id = id
    this.cap = new DomainCap(id, token)
    this.program = spec.program
    this.argv = spec.argv
    this.env = spec.env
    this.parentId = tree.parentId
    this.depth = tree.depth
    this.noreap = tree.noreap
    this.handleTable = tree.handles
    this.maxHandles = tree.maxHandles
    this.running.add(core)
    this.resources.add(core)
  }

  /** The capabilities this domain holds (possibly shared with its parent). */
  get handles(): HandleTable {
    return (this.handleTable ??= new HandleTable(this.maxHandles))
  }

  /** Running or stopping: not yet STOPPED. */
  get alive(): boolean {
    return this.state === 'RUNNING' || this.state === 'STOP_PEND'
  }

  waitResult(): WaitResult {
    if (this.state === 'RUNNING' || this.state === 'STOP_PEND') return { status: 'running' }
    const r: WaitResult = {
      status: this.state === 'CLEANED' ? 'cleaned' : 'stopped',
      exitCode: this.exitCode ?? 0,
      reason: this.reason ?? 'exited',
    }
    if (this.error !== null) r.error = this.error
    return r
  }

  snapshot(tree: TreeState): DomainStatus {
    return {
      id: this.id,
      parent: this.parentId === 0 ? null : this.parentId,
      children: [...this.children].sort((a, b) => a - b),
      tree,
      noreap: this.noreap,
      program: this.program,
      argv: this.argv.slice(),
      state: this.state,
      cores: [...this.running].sort((a, b) => a - b),
      resourceCores: [...this.resources].sort((a, b) => a - b),
      numSpawndsRunning: this.running.size,
      numSpawndsResources: this.resources.size,
      ready: this.ready,
      lastBeatAgoMs: Date.now() - this.lastBeat,
      exitCode: this.exitCode,
      reason: this.reason,
      error: this.error,
    }
  }
}

export class DomainTable {
  private readonly entries = new Map<number, DomainEntry>()
  private nextId = 1

  /** Ids are handed out at request time; the entry appears on confirmation. */
  allocateId(): number {
    return this.nextId++
  }

  add(e: DomainEntry): void {
    this.entries.set(e.id, e)
  }

  get(id: number): DomainEntry | undefined {
    return this.entries.get(id)
  }

  delete(id: number): void {
    this.entries.delete(id)
  }

  values(): IterableIterator<DomainEntry> {
    return this.entries.values()
  }

  get size(): number {
    return this.entries.size
  }
}
