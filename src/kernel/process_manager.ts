/**
 * The process manager (Barrelfish's proc_mgmt): owns the domain table and the
 * process tree, above the links to the cores (link/). It turns spawn / span /
 * kill / wait into requests to the spawnds, and their replies and exit
 * notifications into domain state transitions:
 *
 *   spawn:  request SPAWN; the entry is created (RUNNING) only when it succeeds.
 *   span:   request SPAN; the core counts as running from the request on, so the
 *           domain cannot reach STOPPED before the span is answered; on success
 *           the core is recorded once (the original answered twice and forgot it).
 *   kill / exit: exit status set, STOP_PEND, KILL to every running core; at the
 *           last answer STOPPED, killers and waiters answered, CLEANUP to every core
 *           holding resources; at the last cleanup answer CLEANED, entry kept.
 *   wait:   at once when STOPPED or CLEANED (also after cleanup: the original hung),
 *           at once with 'running' under nohang, else when STOPPED.
 *
 * Every request has exactly one answer, including when its core fails or the
 * runtime shuts down, so no client is left waiting.
 */
import { KernelError } from '../errors.js'
import type { CoreLinks } from '../link/link.js'
import { coreFaultText } from '../protocol/core_fault.js'
import { ERR_OK } from '../protocol/errcodes.js'
import { parseErrorText } from '../protocol/error_text.js'
import type { ChildExit } from '../protocol/messages.js'
import {
  CORE_FAILED_EXIT_CODE,
  EXIT_RELEASED,
  ExitHow,
  KILLED_EXIT_CODE,
  Op,
} from '../protocol/opcodes.js'
import { asCap, looksLikeCap, mintCap, type DomainCap } from './cap.js'
import { DomainEntry, DomainTable, type DomainStatus, type WaitResult } from './domain_table.js'
import type { KernelEvent, EventSink } from './events.js'
import type { HandleTable } from './handles.js'
import { ProcessTree, type TreeLimits, type TreeNode } from './process_tree.js'

export interface KernelLimits extends TreeLimits {
  /** Handle-table size of each domain. */
  maxHandles: number
  /** Bytes allowed for argv, and separately for env, at spawn. */
  maxArgBytes: number
}

/** How a domain spawns a child (the root passes none). */
export interface SpawnOpts {
  noreap?: boolean
  handles?: HandleTable
  /** Called as the child is linked, before anything (its exit, its cleanup) can free it. */
  onLink?: (e: DomainEntry) => void
}

const NO_OPTS: SpawnOpts = Object.freeze({})
const RESOLVED = Promise.resolve()

type Settle = (v: unknown) => void

export class ProcessManager {
  private readonly table = new DomainTable()
  /** Entries the root asked to reap, reaped in one microtask (see wait). */
  private toReap: DomainEntry[] = []
  /** The resolvers of the promise being made (filled by `capture`, read at once). */
  private resolveNext: Settle | null = null
  private rejectNext: Settle | null = null
  /** One executor for every promise made here, instead of a closure per promise. */
  private readonly capture = (resolve: Settle, reject: Settle): void => {
    this.resolveNext = resolve
    this.rejectNext = reject
  }
  private readonly tree: ProcessTree
  /** Spawn and span requests not yet answered (shutdown waits for them). */
  pendingSpawns = 0
  readonly limits: KernelLimits

  constructor(
    private readonly links: CoreLinks,
    private readonly events: EventSink<KernelEvent>,
    limits: KernelLimits,
  ) {
    this.tree = new ProcessTree(this.table, limits)
    this.limits = limits
  }

  // ------------------------------------------------------------ lookups

  /** The entry a capability names; refuses made-up caps and unknown domains. */
  lookup(cap: unknown): DomainEntry {
    if (!looksLikeCap(cap)) {
      throw new KernelError('DOMAIN_CAP_INVALID', 'not a domain capability')
    }
    const e = this.table.get(cap.id)
    if (e === undefined) throw new KernelError('DOMAIN_NOTFOUND', `no domain ${cap.id}`)
    // Word for word, all 128 bits (a cap given as text or plain data is rebuilt first).
    if (!e.cap.sameToken(asCap(cap))) {
      throw new KernelError(
        'DOMAIN_CAP_INVALID',
        `capability for domain ${cap.id} is forged or stale`,
      )
    }
    return e
  }

  /** The entry of domain `id`, or undefined once it is freed (or never was). */
  entry(id: number): DomainEntry | undefined {
    return this.table.get(id)
  }

  /** The capability of any domain in the table (the root's authority). */
  capOf(id: number): DomainCap {
    const e = this.table.get(id)
    if (e === undefined) throw new KernelError('DOMAIN_NOTFOUND', `no domain ${id}`)
    return e.cap
  }

  /** A snapshot of one entry (rt.status). */
  snapshot(e: DomainEntry): DomainStatus {
    return e.snapshot(this.tree.treeState(e))
  }

  /** Snapshots of every entry (rt.domains). */
  snapshots(): DomainStatus[] {
    const out: DomainStatus[] = []
    for (const e of this.table.values()) out.push(e.snapshot(this.tree.treeState(e)))
    return out
  }

  /** The process tree below the root, for display. */
  treeView(): TreeNode[] {
    return this.tree.tree()
  }

  /** Entries freed from the table so far (reaped domains). */
  get freed(): number {
    return this.tree.freed
  }

  /** The root reaps one of its own children (rt.wait with reap). */
  reapByRoot(e: DomainEntry): void {
    this.tree.reapByRoot(e)
  }

  /** ctx.wait: for one child or any child of `parent`. */
  waitChild(
    parent: DomainEntry,
    child: DomainEntry | null,
    nohang: boolean,
  ): Promise<ChildExit | null> {
    return this.tree.waitChild(parent, child, nohang)
  }

  /** The domain called ctx.ready() (the init-ready handshake), once. */
  markReady(e: DomainEntry): void {
    if (e.ready) return
    e.ready = true
    this.events.publish({ type: 'ready', domainId: e.id })
  }

  /** A promise with no executor closure of its own: its resolvers are left in resolveNext / rejectNext. */
  private promise<T>(): Promise<T> {
    return new Promise<T>(this.capture as (resolve: (v: T) => void, reject: Settle) => void)
  }

  /**
   * Spawn a domain as a child of `parent` (null: the root). `handles` is the
   * child's table, already filled with the caps it inherits. The entry is created,
   * linked into the tree, only when the spawnd confirms.
   */
  spawn(
    core: number,
    url: string,
    argv: readonly string[],
    env: Readonly<Record<string, string>>,
    parent: DomainEntry | null = null,
    opts: SpawnOpts = NO_OPTS,
  ): Promise<DomainEntry> {
    return this.spawnAs(core, url, argv, env, parent, opts, false) as Promise<DomainEntry>
  }

  /** The root spawns: resolves with the new domain's capability (one promise per spawn). */
  spawnCap(
    core: number,
    url: string,
    argv: readonly string[],
    env: Readonly<Record<string, string>>,
  ): Promise<DomainCap> {
    return this.spawnAs(core, url, argv, env, null, NO_OPTS, true) as Promise<DomainCap>
  }

  private spawnAs(
    core: number,
    url: string,
    argv: readonly string[],
    env: Readonly<Record<string, string>>,
    parent: DomainEntry | null,
    opts: SpawnOpts,
    asCap: boolean,
  ): Promise<DomainEntry | DomainCap> {
    this.links.check(core)
    this.tree.checkSpawn(parent)
    const id = this.table.allocateId()
    const p = this.promise<DomainEntry | DomainCap>()
    const resolve = this.resolveNext!
    const reject = this.rejectNext!
    this.links.requestSpawn(core, Op.SPAWN, id, url, argv, env, (err, _v, t) => {
      this.pendingSpawns--
      this.tree.spawnAnswered(parent)
      if (err !== ERR_OK)
        return reject(this.links.replyError(err, t, `spawn ${url} on core ${core}`, core))
      const e = new DomainEntry({
        id,
        cap: mintCap(id),
        core,
        program: url,
        argv,
        env,
        parentId: parent === null ? 0 : parent.id,
        depth: parent === null ? 1 : parent.depth + 1,
        noreap: opts.noreap === true,
        handles: opts.handles ?? null,
        maxHandles: this.limits.maxHandles,
      })
      this.table.add(e)
      this.tree.link(e)
      opts.onLink?.(e)
      // Built only when someone listens: every spawn would otherwise make three events.
      if (this.events.wants('spawned')) {
        this.events.publish({
          type: 'spawned',
          domainId: id,
          core,
          program: url,
          parent: parent === null ? null : parent.id,
        })
      }
      // Its parent is being killed with its subtree (filicide): so is it, at once.
      if (parent !== null && this.tree.isDoomed(parent)) void this.kill(e)
      resolve(asCap ? e.cap : e)
    })
    // Counted only once sent: a refused request (FRAME_TOO_LARGE) has no answer to wait for.
    this.pendingSpawns++
    this.tree.spawnSent(parent)
    return p
  }

  span(e: DomainEntry, core: number): Promise<void> {
    this.links.check(core)
    if (e.state !== 'RUNNING') {
      return Promise.reject(new KernelError('DOMAIN_NOT_RUNNING', `domain ${e.id} is ${e.state}`))
    }
    if (e.running.has(core) || e.resources.has(core)) {
      return Promise.reject(
        new KernelError('ALREADY_SPANNED', `domain ${e.id} already runs on core ${core}`),
      )
    }
    e.running.add(core)
    e.spanning.add(core)
    this.pendingSpawns++
    return new Promise((resolve, reject) => {
      this.links.requestSpawn(core, Op.SPAN, e.id, e.program, e.argv, e.env, (err, _v, t) => {
        this.pendingSpawns--
        e.spanning.delete(core)
        if (err !== ERR_OK) {
          e.running.delete(core)
          reject(this.links.replyError(err, t, `span domain ${e.id} to core ${core}`, core))
          this.checkStopped(e)
          return
        }
        e.resources.add(core)
        if (e.state === 'RUNNING') return resolve()
        // The domain began stopping while this span was in flight: stop it here too.
        this.stopOn(e, core)
        reject(
          new KernelError(
            'DOMAIN_NOT_RUNNING',
            `domain ${e.id} stopped while spanning to core ${core}`,
          ),
        )
      })
    })
  }

  kill(e: DomainEntry): Promise<void> {
    if (e.state === 'STOPPED' || e.state === 'CLEANED') {
      return Promise.reject(
        new KernelError('DOMAIN_NOT_RUNNING', `domain ${e.id} is already ${e.state}`),
      )
    }
    return new Promise((resolve) => {
      // A second concurrent kill joins the first and is answered with it.
      e.whenStopped(() => resolve())
      if (e.state === 'RUNNING') {
        e.exitCode = KILLED_EXIT_CODE
        e.reason = 'killed'
        this.beginStop(e)
      }
    })
  }

  /**
   * With `reap` (the root's rt.wait), the entry is reaped once stopped, before the
   * caller's continuation runs: when it stops, at once; when it already has, in a
   * microtask, so another wait made in the same turn still finds it. Ignored
   * under nohang while it runs.
   */
  wait(e: DomainEntry, nohang: boolean, reap = false): Promise<WaitResult> {
    if (e.state === 'STOPPED' || e.state === 'CLEANED' || nohang) {
      if (reap && !e.alive) this.reapSoon(e)
      return Promise.resolve(e.waitResult())
    }
    if (reap) e.reapWhenStopped = true
    const p = this.promise<WaitResult>()
    e.whenStopped(this.resolveNext!)
    return p
  }

  private reapSoon(e: DomainEntry): void {
    // (Not queueMicrotask: Node wraps each of those in an async resource.)
    if (this.toReap.push(e) === 1) void RESOLVED.then(this.reapNow)
  }

  private readonly reapNow = (): void => {
    const list = this.toReap
    this.toReap = []
    for (const e of list) this.tree.reapByRoot(e)
  }

  /**
   * Ask every dispatcher of a running domain to stop gracefully (TERM: its
   * stopSignal fires). Resolves when every core has been told; the domain ends
   * when its main returns (or when the caller kills it after a timeout).
   */
  term(e: DomainEntry): Promise<void> {
    if (e.state !== 'RUNNING') return Promise.resolve()
    const cores = [...e.running].filter((c) => !e.spanning.has(c))
    return Promise.all(
      cores.map(
        (core) =>
          new Promise<void>((resolve) =>
            this.links.request(core, Op.TERM, e.id, 0, null, () => resolve()),
          ),
      ),
    ).then(() => undefined)
  }

  /** Resolves once the domain is CLEANED. */
  cleaned(e: DomainEntry): Promise<void> {
    if (e.state === 'CLEANED') return Promise.resolve()
    return new Promise((resolve) => e.whenCleaned(resolve))
  }

  // ------------------------------------------------------------ transitions

  /** STOP_PEND, and a KILL to every core it runs on (a pending span is killed when answered). */
  private beginStop(e: DomainEntry): void {
    e.state = 'STOP_PEND'
    // (Guarded: iterating a CoreSet makes an iterator; a domain that exited runs nowhere.)
    if (e.running.size > 0)
      for (const core of e.running) if (!e.spanning.has(core)) this.stopOn(e, core)
    this.checkStopped(e)
  }

  private stopOn(e: DomainEntry, core: number): void {
    this.links.request(core, Op.KILL, e.id, 0, null, () => {
      // OK, already stopped, or the core failed: the dispatcher runs no more.
      e.running.delete(core)
      this.checkStopped(e)
    })
  }

  private checkStopped(e: DomainEntry): void {
    if (e.state !== 'STOP_PEND' || e.running.size > 0) return
    e.state = 'STOPPED'
    e.answerStopped()
    this.publishStopped(e)
    this.tree.onStopped(e)
    if (e.resources.size === 0) {
      this.markCleaned(e)
    } else {
      for (const core of [...e.resources]) {
        this.links.request(core, Op.CLEANUP, e.id, 0, null, () => {
          e.resources.delete(core)
          if (e.resources.size === 0 && e.state === 'STOPPED') this.markCleaned(e)
        })
      }
    }
    // Before any waiter's continuation runs (they are microtasks): it finds it reaped.
    if (e.reapWhenStopped) this.tree.reapByRoot(e)
  }

  private publishStopped(e: DomainEntry): void {
    if (!this.events.wants(e.reason === 'killed' ? 'killed' : 'exited')) return
    const exitCode = e.exitCode ?? 0
    if (e.reason === 'killed') {
      this.events.publish({ type: 'killed', domainId: e.id, exitCode })
      return
    }
    const reason = e.reason ?? 'exited'
    if (e.error !== null) {
      this.events.publish({ type: 'exited', domainId: e.id, exitCode, reason, error: e.error })
    } else {
      this.events.publish({ type: 'exited', domainId: e.id, exitCode, reason })
    }
  }

  private markCleaned(e: DomainEntry): void {
    e.state = 'CLEANED'
    e.answerCleaned()
    if (this.events.wants('cleaned')) this.events.publish({ type: 'cleaned', domainId: e.id })
    this.tree.onCleaned(e)
  }

  /** EXIT: a dispatcher's main ended on `core`: the whole domain exits (Barrelfish exit). */
  onExit(core: number, domainId: number, how: number, code: number, text: string | null): void {
    const e = this.table.get(domainId)
    if (e === undefined) return
    e.running.delete(core)
    // The spawnd freed that dispatcher itself: nothing to clean up there.
    if ((how & EXIT_RELEASED) !== 0) e.resources.delete(core)
    if (e.state === 'RUNNING') {
      e.exitCode = code
      e.reason = (how & ~EXIT_RELEASED) === ExitHow.THREW ? 'error' : 'exited'
      e.error = parseErrorText(text)
      this.beginStop(e)
    } else {
      this.checkStopped(e)
    }
  }

  /**
   * A core went down (its worker died or hung, or shutdown), every request queued
   * for it already answered: stop every domain that had a dispatcher there.
   */
  onCoreDown(core: number, health: 'failed' | 'down', why: string): void {
    if (health === 'failed') this.events.publish({ type: 'core-failed', core, why })
    for (const e of this.table.values()) {
      if (!e.running.has(core) && !e.resources.has(core)) continue
      e.running.delete(core)
      e.spanning.delete(core)
      e.resources.delete(core)
      if (e.state === 'RUNNING') {
        e.exitCode = CORE_FAILED_EXIT_CODE
        e.reason = 'core-failed'
        e.error = coreFaultText(why)
        this.beginStop(e)
      } else if (e.state === 'STOP_PEND') {
        this.checkStopped(e)
      } else if (e.state === 'STOPPED' && e.resources.size === 0) {
        this.markCleaned(e)
      }
    }
  }

  /** Shutdown: kill what runs; resolves once every entry is CLEANED. */
  stopAll(): Promise<void> {
    const stopping: Promise<void>[] = []
    for (const e of this.table.values()) {
      if (e.state === 'RUNNING') this.kill(e).catch(() => undefined)
      if (e.state !== 'CLEANED') stopping.push(this.cleaned(e))
    }
    return Promise.all(stopping).then(() => undefined)
  }

  /** Kill `e` and every descendant, deepest first (Camellia's filicide). */
  killTree(e: DomainEntry): Promise<void> {
    return this.tree.killSubtree(e, (d) => this.kill(d))
  }
}
