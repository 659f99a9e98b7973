/**
 * A domain entry (Barrelfish's domain_entry in proc_mgmt): one domain's
 * capability, state, the cores it runs on and holds resources on (DomainCores,
 * its base), its exit status and the clients waiting on it.
 *
 * States: NIL -> RUNNING -> STOP_PEND -> STOPPED -> CLEANED. The entry is made
 * when its spawn is sent, as the spawn's own pending record (the receive queue
 * answers it through onReply: no closure per spawn), and enters the domain table
 * only when the spawnd confirms: NIL is never stored.
 *
 * The original counts running dispatchers in an integer that two concurrent kills
 * both decrement; here they are sets of cores, so a second answer from the same
 * core changes nothing. num_spawnds_running is `coreCount(RUNNING)`,
 * num_spawnds_resources is `coreCount(RESOURCES)`.
 *
 * Everything a short-lived domain needs is a field of this one object; what most
 * domains never use (children, handles, a second waiter) is made on first use.
 */
import type { ErrorText } from '../protocol/error_text.js'
import type { DomainState } from '../protocol/messages.js'
import type { ReplyTarget } from '../link/receive_queue.js'
import type { DomainCap } from './cap.js'
import { DomainCores, RESOURCES, RUNNING } from './core_set.js'
import { HandleTable } from './handles.js'

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

/** What a domain entry is made from: its spawn request. */
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

/** Who answers a spawn's reply for its pending entry (the process manager). */
export interface SpawnAnswerer {
  spawnAnswered(e: DomainEntry, err: number, text: string | null): void
}

/** The children of a domain that never had any (most): read-only, shared. */
const NO_CHILDREN: ReadonlySet<number> = new Set<number>()

/**
 * lastBeat is kept in ms from this module's load: a small integer (stored in the
 * entry as is) for weeks, where Date.now() is a heap number per entry.
 */
const EPOCH = Date.now()

export class DomainEntry extends DomainCores implements ReplyTarget {
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
  /** Its last ctx.heartbeat() (or its start), in ms from EPOCH. */
  private beatAt = Date.now() - EPOCH
  state: DomainState = 'RUNNING'
  exitCode: number | null = null
  reason: ExitReason | null = null
  error: ErrorText | null = null
  /**
   * Clients of kill() and wait() answered when the domain is STOPPED, in order: the
   * first in a field, the rest in a list made with the second (most have one or none).
   */
  private stopWaiter: StopWaiter | null = null
  private moreStopWaiters: StopWaiter[] | null = null
  /** Clients answered when the domain is CLEANED (shutdown waits on these). */
  private cleanWaiters: (() => void)[] | null = null

  /** This domain's pending ctx.wait() for any child, answered in order (made on first use). */
  childWaiters: ((child: DomainEntry) => void)[] | null = null

  /**
   * While its spawn is in flight: who answers the reply, and the spawn's client.
   * Cleared once answered. (The core is its first RUNNING one.)
   */
  spawner: SpawnAnswerer | null = null
  spawnResolve: ((v: unknown) => void) | null = null
  spawnReject: ((err: unknown) => void) | null = null
  /** Called as the child is linked (ctx.spawn); null for the root's spawns. */
  onLink: ((e: DomainEntry) => void) | null = null
  /** The spawn's client wants the capability (the root), not the entry. */
  answerCap = false
  /** The core its spawn was sent to. */
  readonly spawnCore: number
  /** Its index in the domain table's insertion-order list (the table's own field). */
  tableAt = -1

  constructor(spec: DomainSpec) {
    super()
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
    this.spawnCore = spec.core
    this.addCore(RUNNING, spec.core)
    this.addCore(RESOURCES, spec.core)
  }

  /** The spawn's reply (ReplyTarget): handed to whoever sent it. */
  onReply(err: number, _value: number, text: string | null): void {
    this.spawner?.spawnAnswered(this, err, text)
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

  /** It called ctx.heartbeat(). */
  beat(): void {
    this.beatAt = Date.now() - EPOCH
  }

  /** Answer `w` when the domain reaches STOPPED. */
  whenStopped(w: StopWaiter): void {
    if (this.stopWaiter === null && this.moreStopWaiters === null) this.stopWaiter = w
    else (this.moreStopWaiters ??= []).push(w)
  }

  /** Answer `w` when the domain reaches CLEANED. */
  whenCleaned(w: () => void): void {
    if (this.cleanWaiters === null) this.cleanWaiters = [w]
    else this.cleanWaiters.push(w)
  }

  /** It reached STOPPED: answer every stop waiter, in order, each with its own result. */
  answerStopped(): void {
    const first = this.stopWaiter
    const more = this.moreStopWaiters
    this.stopWaiter = null
    this.moreStopWaiters = null
    if (first !== null) first(this.waitResult())
    if (more !== null) for (let i = 0; i < more.length; i++) more[i](this.waitResult())
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
      cores: this.coreList(RUNNING),
      resourceCores: this.coreList(RESOURCES),
      numSpawndsRunning: this.coreCount(RUNNING),
      numSpawndsResources: this.coreCount(RESOURCES),
      ready: this.ready,
      lastBeatAgoMs: Date.now() - EPOCH - this.beatAt,
      exitCode: this.exitCode,
      reason: this.reason,
      error: this.error,
    }
  }
}
