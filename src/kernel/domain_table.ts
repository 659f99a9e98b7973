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

/** What a domain entry is made from: its spawn, confirmed. */
export interface DomainSpec {
  id: number
  cap: DomainCap
  /** The core of its first dispatcher. */
  core: number
  program: string
  argv: readonly string[]
  env: Readonly<Record<string, string>>
  /** Parent domain id; 0 is the runtime itself (the root). */
  parentId: number
  /** Depth in the tree: 1 for a child of the root. */
  depth: number
  noreap: boolean
  /** A table to start with (inherited or shared), or null for an empty one on demand. */
  handles: HandleTable | null
  maxHandles: number
}

/** Called when a domain reaches STOPPED, with what a wait() for it answers. */
export type StopWaiter = (r: WaitResult) => void

/** The children of a domain that never had any (most): read-only, shared. */
const NO_CHILDREN: ReadonlySet<number> = new Set<number>()

export class DomainEntry {
  readonly id: number
  readonly cap: DomainCap
  readonly program: string
  readonly argv: readonly string[]
  readonly env: Readonly<Record<string, string>>
  /** Parent domain id; 0 is the runtime itself (the root). */
  readonly parentId: number
  /** Depth in the tree: 1 for a child of the root. */
  readonly depth: number
  /** Detached child: never waited for, freed once cleaned. */
  readonly noreap: boolean
  /** Its table, made on first use (most short-lived domains never hold a handle). */
  private handleTable: HandleTable | null
  private readonly maxHandles: number
  /** Ids of children still in the table; made with the first child. */
  private childSet: Set<number> | null = null
  /** Its parent (or the root) has collected its exit status. */
  reaped = false
  /** The root asked to reap it once it stops (rt.wait with reap, while it ran). */
  reapWhenStopped = false
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
  /**
   * Clients of kill() and wait() answered when the domain is STOPPED, in order;
   * made with the first (a domain nobody waits for while it runs has none).
   */
  private stopWaiters: StopWaiter[] | null = null
  /** Clients answered when the domain is CLEANED (shutdown waits on these). */
  private cleanWaiters: (() => void)[] | null = null

  /** This domain's pending ctx.wait() for any child, answered in order (made on first use). */
  childWaiters: ((child: DomainEntry) => void)[] | null = null

  constructor(spec: DomainSpec) {
    this.id = spec.id
    this.cap = spec.cap
    this.program = spec.program
    this.argv = spec.argv
    this.env = spec.env
    this.parentId = spec.parentId
    this.depth = spec.depth
    this.noreap = spec.noreap
    this.handleTable = spec.handles
    this.maxHandles = spec.maxHandles
    this.running.add(spec.core)
    this.resources.add(spec.core)
  }

  /** Ids of its children still in the table (read-only: addChild, removeChild change it). */
  get children(): ReadonlySet<number> {
    return this.childSet ?? NO_CHILDREN
  }

  addChild(id: number): void {
    ;(this.childSet ??= new Set()).add(id)
  }

  removeChild(id: number): void {
    this.childSet?.delete(id)
  }

  /** Answer `w` when the domain reaches STOPPED. */
  whenStopped(w: StopWaiter): void {
    if (this.stopWaiters === null) this.stopWaiters = [w]
    else this.stopWaiters.push(w)
  }

  /** Answer `w` when the domain reaches CLEANED. */
  whenCleaned(w: () => void): void {
    if (this.cleanWaiters === null) this.cleanWaiters = [w]
    else this.cleanWaiters.push(w)
  }

  /** It reached STOPPED: answer every stop waiter, in order, each with its own result. */
  answerStopped(): void {
    const ws = this.stopWaiters
    if (ws === null) return
    this.stopWaiters = null
    for (let i = 0; i < ws.length; i++) ws[i](this.waitResult())
  }

  /** It reached CLEANED: answer every clean waiter, in order. */
  answerCleaned(): void {
    const ws = this.cleanWaiters
    if (ws === null) return
    this.cleanWaiters = null
    for (let i = 0; i < ws.length; i++) ws[i]()
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
