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
  /** Its label ('' when none was given: its program's name stands for it). */
  label: string
  /** Its quota account. */
  quota: { bytes: number; handles: number }
}

/** Called when a domain reaches STOPPED, with what a wait() for it answers. */
export type StopWaiter = (r: WaitResult) => void

/** The process manager, as an entry sees it: it answers the entry's spawn, and sets its limits. */
export interface DomainOwner {
  spawnAnswered(e: DomainEntry, err: number, text: string | null): void
  readonly limits: { readonly maxHandles: number }
}

/** The children of a domain that never had any (most): read-only, shared. */
const NO_CHILDREN: ReadonlySet<number> = new Set<number>()

/**
 * lastBeat is kept in ms from this module's load: a small integer, stored in the
 * entry as is, for the first 24 days (then a heap number, still exact), where a
 * Date.now() kept as it is would be a heap number per entry.
 */
const EPOCH = Date.now()

function msFromEpoch(): number {
  const t = Date.now() - EPOCH
  return t < 0x80000000 ? t | 0 : t
}

// The entry's flags (one small-integer field instead of five booleans).
const NOREAP = 1
const REAPED = 2
const REAP_WHEN_STOPPED = 4
const READY = 8
const ANSWER_CAP = 16

/** What most domains never use, made on first use: one field in the entry instead of six. */
class DomainExtras {
  /** Its handle table (possibly shared with its parent). */
  handleTable: HandleTable | null = null
  /** Ids of children still in the table. */
  childSet: Set<number> | null = null
  /** This domain's pending ctx.wait() for any child, answered in order. */
  childWaiters: ((child: DomainEntry) => void)[] | null = null
  /** Stop waiters after the first, in order. */
  moreStopWaiters: StopWaiter[] | null = null
  /** Clients answered when the domain is CLEANED (shutdown waits on these). */
  cleanWaiters: (() => void)[] | null = null
  /** While its spawn is in flight: called as the child is linked (ctx.spawn). */
  onLink: ((e: DomainEntry) => void) | null = null
  /** Its argv and env, when it has some (most have neither). */
  argv: readonly string[] = NO_ARGV
  env: Readonly<Record<string, string>> = NO_ENV
}

const NO_ARGV: readonly string[] = Object.freeze([])
const NO_ENV: Readonly<Record<string, string>> = Object.freeze({})

function hasKeys(o: object): boolean {
  for (const _ in o) return true
  return false
}

/** The states, by their index in the flags (STATE_SHIFT up). */
const STATES: readonly DomainState[] = ['RUNNING', 'STOP_PEND', 'STOPPED', 'CLEANED']
const STATE_SHIFT = 5

function stateIndex(s: DomainState): number {
  switch (s) {
    case 'RUNNING':
      return 0
    case 'STOP_PEND':
      return 1
    case 'STOPPED':
      return 2
    default:
      return 3
  }
}

export class DomainEntry extends DomainCores implements ReplyTarget {
  readonly id: number
  readonly cap: DomainCap
  readonly program: string
  /** Parent domain id; 0 is the runtime itself (the root). */
  readonly parentId: number
  /** Depth in the tree: 1 for a child of the root. */
  readonly depth: number
  exitCode: number | null = null
  reason: ExitReason | null = null
  /** Its own label (given at spawn, or its service label); '' names it by its program. */
  label = ''
  /** Its quota account (session/quota.ts): two numbers, no object per domain. */
  quotaBytes = 0
  quotaHandles = 0
  error: ErrorText | null = null
  /** Its index in the domain table's insertion-order list (the table's own field). */
  tableAt = -1
  /** While its spawn is in flight: the spawn's client (cleared once answered). */
  spawnResolve: ((v: unknown) => void) | null = null
  spawnReject: ((err: unknown) => void) | null = null
  private readonly owner: DomainOwner
  private flags: number
  /** Its last ctx.heartbeat() (or its start), in ms from EPOCH. */
  private beatAt = msFromEpoch()
  /** The first client of kill() and wait() answered when it is STOPPED (the rest: extras). */
  private stopWaiter: StopWaiter | null = null
  private extras: DomainExtras | null = null

  /**
   * An entry for a spawn about to be sent to `core` (positional: an options
   * object here would be one more allocation per spawn).
   */
  constructor(
    owner: DomainOwner,
    id: number,
    cap: DomainCap,
    core: number,
    program: string,
    argv: readonly string[],
    env: Readonly<Record<string, string>>,
    parentId: number,
    depth: number,
    noreap: boolean,
    handles: HandleTable | null,
  ) {
    super()
    this.owner = owner
    this.id = id
    this.cap = cap
    this.program = program
    if (argv.length > 0 || hasKeys(env)) {
      const x = this.more()
      x.argv = argv
      x.env = env
    }
    this.parentId = parentId
    this.depth = depth
    this.flags = noreap ? NOREAP : 0
    if (handles !== null) this.more().handleTable = handles
    this.addCore(RUNNING, core)
    this.addCore(RESOURCES, core)
  }

  /** The spawn's reply (ReplyTarget): handed to the process manager. */
  onReply(err: number, _value: number, text: string | null): void {
    this.owner.spawnAnswered(this, err, text)
  }

  private more(): DomainExtras {
    return (this.extras ??= new DomainExtras())
  }

  private flag(bit: number, on: boolean): void {
    this.flags = on ? this.flags | bit : this.flags & ~bit
  }

  /** RUNNING, STOP_PEND, STOPPED or CLEANED (kept in the flags). */
  get state(): DomainState {
    return STATES[this.flags >>> STATE_SHIFT]
  }

  set state(s: DomainState) {
    this.flags = (this.flags & ((1 << STATE_SHIFT) - 1)) | (stateIndex(s) << STATE_SHIFT)
  }

  /** Its arguments (empty for most domains). */
  get argv(): readonly string[] {
    return this.extras?.argv ?? NO_ARGV
  }

  /** Its environment (empty for most domains). */
  get env(): Readonly<Record<string, string>> {
    return this.extras?.env ?? NO_ENV
  }

  /** Detached child: never waited for, freed once cleaned. */
  get noreap(): boolean {
    return (this.flags & NOREAP) !== 0
  }

  /** Its parent (or the root) has collected its exit status. */
  get reaped(): boolean {
    return (this.flags & REAPED) !== 0
  }

  set reaped(on: boolean) {
    this.flag(REAPED, on)
  }

  /** The root asked to reap it once it stops (rt.wait with reap, while it ran). */
  get reapWhenStopped(): boolean {
    return (this.flags & REAP_WHEN_STOPPED) !== 0
  }

  set reapWhenStopped(on: boolean) {
    this.flag(REAP_WHEN_STOPPED, on)
  }

  /** It called ctx.ready() (the init-ready handshake). */
  get ready(): boolean {
    return (this.flags & READY) !== 0
  }

  set ready(on: boolean) {
    this.flag(READY, on)
  }

  /** Its spawn's client wants the capability (the root), not the entry. */
  get answerCap(): boolean {
    return (this.flags & ANSWER_CAP) !== 0
  }

  set answerCap(on: boolean) {
    this.flag(ANSWER_CAP, on)
  }

  /** While its spawn is in flight: called as the child is linked (ctx.spawn). */
  get onLink(): ((e: DomainEntry) => void) | null {
    return this.extras?.onLink ?? null
  }

  set onLink(f: ((e: DomainEntry) => void) | null) {
    if (f !== null || this.extras !== null) this.more().onLink = f
  }

  /** This domain's pending ctx.wait() for any child, answered in order (made on first use). */
  get childWaiters(): ((child: DomainEntry) => void)[] | null {
    return this.extras?.childWaiters ?? null
  }

  set childWaiters(ws: ((child: DomainEntry) => void)[] | null) {
    if (ws !== null || this.extras !== null) this.more().childWaiters = ws
  }

  /** Ids of its children still in the table (read-only: addChild, removeChild change it). */
  get children(): ReadonlySet<number> {
    return this.extras?.childSet ?? NO_CHILDREN
  }

  addChild(id: number): void {
    ;(this.more().childSet ??= new Set()).add(id)
  }

  removeChild(id: number): void {
    this.extras?.childSet?.delete(id)
  }

  /** It called ctx.heartbeat(). */
  beat(): void {
    this.beatAt = msFromEpoch()
  }

  /** Answer `w` when the domain reaches STOPPED. */
  whenStopped(w: StopWaiter): void {
    if (this.stopWaiter === null && this.extras?.moreStopWaiters == null) this.stopWaiter = w
    else (this.more().moreStopWaiters ??= []).push(w)
  }

  /** Answer `w` when the domain reaches CLEANED. */
  whenCleaned(w: () => void): void {
    ;(this.more().cleanWaiters ??= []).push(w)
  }

  /** It reached STOPPED: answer every stop waiter, in order, each with its own result. */
  answerStopped(): void {
    const first = this.stopWaiter
    const more = this.extras?.moreStopWaiters ?? null
    this.stopWaiter = null
    if (more !== null) this.extras!.moreStopWaiters = null
    if (first !== null) first(this.waitResult())
    if (more !== null) for (let i = 0; i < more.length; i++) more[i](this.waitResult())
  }

  /** It reached CLEANED: answer every clean waiter, in order. */
  answerCleaned(): void {
    const ws = this.extras?.cleanWaiters ?? null
    if (ws === null) return
    this.extras!.cleanWaiters = null
    for (let i = 0; i < ws.length; i++) ws[i]()
  }

  /** The capabilities this domain holds (possibly shared with its parent). */
  get handles(): HandleTable {
    return (this.more().handleTable ??= new HandleTable(this.owner.limits.maxHandles))
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
      lastBeatAgoMs: msFromEpoch() - this.beatAt,
      exitCode: this.exitCode,
      reason: this.reason,
      error: this.error,
      label: this.label,
      quota: { bytes: this.quotaBytes, handles: this.quotaHandles },
    }
  }
}
