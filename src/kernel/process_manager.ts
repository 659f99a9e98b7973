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
 *   kill / exit: the stop sequence (domain_lifecycle.ts): STOP_PEND, KILL to every
 *           running core, STOPPED, CLEANUP to every core holding resources, CLEANED.
 *   wait:   at once when STOPPED or CLEANED (also after cleanup: the original hung),
 *           at once with 'running' under nohang, else when STOPPED.
 *
 * Every request has exactly one answer, including when its core fails or the
 * runtime shuts down, so no client is left waiting.
 */
import { KernelError } from '../errors.js'
import type { CoreLinks } from '../link/link.js'
import { ERR_OK } from '../protocol/errcodes.js'
import type { ChildExit } from '../protocol/messages.js'
import { KILLED_EXIT_CODE, Op } from '../protocol/opcodes.js'
import { asCap, looksLikeCap, mintCap, type DomainCap } from './cap.js'
import { RESOURCES, RUNNING, SPANNING } from './core_set.js'
import { DomainLifecycle } from './domain_lifecycle.js'
import type { DomainOwner } from './domain_entry.js'
import { DomainEntry, DomainTable, type DomainStatus, type WaitResult } from './domain_table.js'
import type { KernelEvent, EventSink } from './events.js'
import type { HandleTable } from './handles.js'
import type { Quota } from '../session/quota.js'
import { Accounts } from './accounts.js'
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
  /** Its label (Genode's child name); '' names it by its program. */
  label?: string
  /** Its quota, donated by the parent; absent: the default share. */
  quota?: Quota | null
}

const NO_OPTS: SpawnOpts = Object.freeze({})

type Settle = (v: unknown) => void

export class ProcessManager implements DomainOwner {
  private readonly table = new DomainTable()
  /** The resolvers of the promise being made (filled by `capture`, read at once). */
  private resolveNext: Settle | null = null
  private rejectNext: Settle | null = null
  /** One executor for every promise made here, instead of a closure per promise. */
  private readonly capture = (resolve: Settle, reject: Settle): void => {
    this.resolveNext = resolve
    this.rejectNext = reject
  }
  private readonly tree: ProcessTree
  private readonly life: DomainLifecycle
  /** Spawn and span requests not yet answered (shutdown waits for them). */
  pendingSpawns = 0
  readonly limits: KernelLimits
  /** The quota accounts: the root's and every domain's (accounts.ts). */
  readonly accounts: Accounts

  constructor(
    private readonly links: CoreLinks,
    private readonly events: EventSink<KernelEvent>,
    limits: KernelLimits,
    rootQuota: Quota,
  ) {
    this.accounts = new Accounts(rootQuota)
    this.tree = new ProcessTree(this.table, limits, (e) =>
      this.accounts.returnAll(e, e.parentId === 0 ? null : this.table.get(e.parentId)),
    )
    this.life = new DomainLifecycle(this.table, this.tree, links, events, (e) =>
      this.stoppedHook?.(e),
    )
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

  /** Called as a domain reaches STOPPED (its sessions end): the boot path sets it. */
  stoppedHook: ((e: DomainEntry) => void) | null = null

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
    opts: SpawnOpts = NO_OPTS,
  ): Promise<DomainCap> {
    return this.spawnAs(core, url, argv, env, null, opts, true) as Promise<DomainCap>
  }

  /**
   * The entry is made now, as the spawn's pending record (the receive queue answers
   * it: spawnAnswered), and enters the table only if the spawnd confirms.
   */
  private spawnAs(
    core: number,
    url: string,
    argv: readonly string[],
    env: Readonly<Record<string, string>>,
    parent: DomainEntry | null,
    opts: SpawnOpts,
    answerCap: boolean,
  ): Promise<DomainEntry | DomainCap> {
    this.links.check(core)
    this.tree.checkSpawn(parent)
    const id = this.table.allocateId()
    const e = new DomainEntry(
      this,
      id,
      mintCap(id),
      core,
      url,
      argv,
      env,
      parent === null ? 0 : parent.id,
      parent === null ? 1 : parent.depth + 1,
      opts.noreap === true,
      opts.handles ?? null,
    )
    const p = this.promise<DomainEntry | DomainCap>()
    e.spawnResolve = this.resolveNext
    e.spawnReject = this.rejectNext
    e.onLink = opts.onLink ?? null
    e.answerCap = answerCap
    if (opts.label !== undefined) e.label = opts.label
    // The child's share leaves the parent now and comes back if the spawn fails.
    this.accounts.donate(parent, opts.quota ?? null, e)
    try {
      this.links.requestSpawn(core, Op.SPAWN, id, url, argv, env, e)
    } catch (err) {
      this.accounts.returnAll(e, parent)
      throw err
    }
    // Counted only once sent: a refused request (FRAME_TOO_LARGE) has no answer to wait for.
    this.pendingSpawns++
    this.tree.spawnSent(e.parentId)
    return p
  }

  /** The spawnd answered the SPAWN of pending entry `e` (DomainOwner). */
  spawnAnswered(e: DomainEntry, err: number, text: string | null): void {
    const resolve = e.spawnResolve!
    const reject = e.spawnReject!
    const onLink = e.onLink
    e.spawnResolve = null
    e.spawnReject = null
    e.onLink = null
    this.pendingSpawns--
    this.tree.spawnAnswered(e.parentId)
    // Not yet in the table: it runs on the one core its spawn went to, or none.
    const core = e.firstCore(RUNNING)
    if (err !== ERR_OK) {
      this.accounts.returnAll(e, e.parentId === 0 ? null : this.table.get(e.parentId))
      return reject(this.links.replyError(err, text, `spawn ${e.program} on core ${core}`, core))
    }
    this.table.add(e)
    this.tree.link(e)
    onLink?.(e)
    // Built only when someone listens: every spawn would otherwise make three events.
    if (this.events.wants('spawned')) {
      this.events.publish({
        type: 'spawned',
        domainId: e.id,
        core,
        program: e.program,
        parent: e.parentId === 0 ? null : e.parentId,
      })
    }
    // Its parent is being killed with its subtree (filicide): so is it, at once.
    if (e.parentId !== 0 && this.tree.isDoomed(e.parentId)) void this.kill(e)
    resolve(e.answerCap ? e.cap : e)
  }

  span(e: DomainEntry, core: number): Promise<void> {
    this.links.check(core)
    if (e.state !== 'RUNNING') {
      return Promise.reject(new KernelError('DOMAIN_NOT_RUNNING', `domain ${e.id} is ${e.state}`))
    }
    if (e.hasCore(RUNNING, core) || e.hasCore(RESOURCES, core)) {
      return Promise.reject(
        new KernelError('ALREADY_SPANNED', `domain ${e.id} already runs on core ${core}`),
      )
    }
    e.addCore(RUNNING, core)
    e.addCore(SPANNING, core)
    this.pendingSpawns++
    return new Promise((resolve, reject) => {
      this.links.requestSpawn(core, Op.SPAN, e.id, e.program, e.argv, e.env, (err, _v, t) => {
        this.pendingSpawns--
        e.deleteCore(SPANNING, core)
        if (err !== ERR_OK) {
          e.deleteCore(RUNNING, core)
          reject(this.links.replyError(err, t, `span domain ${e.id} to core ${core}`, core))
          this.life.checkStopped(e)
          return
        }
        e.addCore(RESOURCES, core)
        if (e.state === 'RUNNING') return resolve()
        // The domain began stopping while this span was in flight: stop it here too.
        this.life.stopOn(e, core)
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
        this.life.beginStop(e)
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
      if (reap && !e.alive) this.tree.reapSoon(e)
      return Promise.resolve(e.waitResult())
    }
    if (reap) e.reapWhenStopped = true
    const p = this.promise<WaitResult>()
    e.whenStopped(this.resolveNext!)
    return p
  }

  /**
   * Ask every dispatcher of a running domain to stop gracefully (TERM: its
   * stopSignal fires). Resolves when every core has been told; the domain ends
   * when its main returns (or when the caller kills it after a timeout).
   */
  term(e: DomainEntry): Promise<void> {
    if (e.state !== 'RUNNING') return Promise.resolve()
    const cores = e.coreList(RUNNING).filter((c) => !e.hasCore(SPANNING, c))
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

  // ------------------------------------------------------------ transitions (domain_lifecycle.ts)

  /** EXIT: a dispatcher's main ended on `core`: the whole domain exits (Barrelfish exit). */
  onExit(core: number, domainId: number, how: number, code: number, text: string | null): void {
    this.life.onExit(core, domainId, how, code, text)
  }

  /** A core went down: stop every domain that had a dispatcher there. */
  onCoreDown(core: number, health: 'failed' | 'down', why: string): void {
    this.life.onCoreDown(core, health, why)
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
