/**
 * The process tree (Camellia): domains spawned by a domain are its children.
 *
 *  - A dead child stays reapable (a zombie) until its parent waits for it; the
 *    wait frees it (once its cleanup is done).
 *  - A child spawned `noreap` is detached: never waited for, never blocks its
 *    parent (wait ignores it, and answers ECHILD when only such children are
 *    left), freed as soon as it is cleaned.
 *  - A dead parent whose children still live stays as a tombstone, keeping the
 *    tree's shape, until the last of them is gone.
 *  - Orphans (children of a dead parent) are reaped by the runtime: they run on,
 *    and when they end nobody is left to wait, so they are freed once cleaned.
 *    Documented policy, tested.
 *  - Killing a subtree (filicide) stops every descendant, deepest first.
 *
 * Domains the runtime (the root) spawned have parent 0. The root never dies while
 * the runtime is open; rt.wait(d, { reap: true }) reaps one, and until then its
 * entry is kept for later waits (the Barrelfish behaviour of issue 3).
 */
import { KernelError } from '../errors.js'
import { Fifo } from '../fifo.js'
import type { ChildExit, DomainState } from '../protocol/messages.js'
import type { DomainEntry, DomainTable, TreeState } from './domain_table.js'

const RESOLVED = Promise.resolve()

export interface TreeLimits {
  /** Children (living or reapable) one domain may have. */
  maxChildren: number
  /** Dead, unreaped children of the root kept for later waits; the oldest go past it. */
  retainCleaned: number
  /** Depth of the tree below the root. */
  maxDepth: number
}

/** A node of rt.tree(). */
export interface TreeNode {
  id: number
  program: string
  state: DomainState
  tree: TreeState
  exitCode: number | null
  children: TreeNode[]
}

export class ProcessTree {
  private readonly table: DomainTable
  readonly limits: TreeLimits
  /** Entries freed so far (for leak checks). */
  freed = 0
  /** Ids of the root's cleaned, unreaped children, oldest first (see retain). */
  private readonly retained = new Fifo<number>()
  /** Spawns each domain asked for and not yet answered: they count toward maxChildren. */
  private readonly spawning = new Map<number, number>()
  /** Clients waiting for a domain's spawns in flight to be answered (filicide). */
  private readonly spawnWaiters = new Map<number, (() => void)[]>()
  /** Entries the root asked to reap, reaped in one microtask (reapSoon): the first toReapLen. */
  private readonly toReap: (DomainEntry | null)[] = []
  private toReapLen = 0
  /** Domains whose subtree is being killed: they may spawn no more. */
  private readonly doomed = new Set<number>()

  constructor(
    table: DomainTable,
    limits: TreeLimits,
    /** Called as an entry leaves the table: its quota goes back (accounts.ts). */
    private readonly onFree: (e: DomainEntry) => void = () => {},
  ) {
    this.table = table
    this.limits = limits
  }

  /** Refuse a spawn that would break the limits (a spawn bomb stops here). */
  checkSpawn(parent: DomainEntry | null): void {
    if (parent === null) return
    if (!parent.alive || this.doomed.has(parent.id)) {
      const why = parent.alive ? 'being killed with its subtree' : parent.state
      throw new KernelError('DOMAIN_NOT_RUNNING', `domain ${parent.id} is ${why}`)
    }
    // Spawns still in flight count: a burst of calls must not pass the check together.
    const n = parent.children.size + this.spawnsInFlight(parent)
    if (n >= this.limits.maxChildren) {
      throw new KernelError(
        'SPAWN_LIMIT',
        `domain ${parent.id} already has ${n} children (limit ${this.limits.maxChildren})`,
      )
    }
    if (parent.depth + 1 > this.limits.maxDepth) {
      throw new KernelError('SPAWN_LIMIT', `tree depth limit ${this.limits.maxDepth} reached`)
    }
  }

  /**
   * A spawn asked by domain `parentId` (0: the root, not counted) was sent; it is
   * answered exactly once: spawnAnswered. By id: the parent may be freed meanwhile.
   */
  spawnSent(parentId: number): void {
    if (parentId !== 0) this.spawning.set(parentId, (this.spawning.get(parentId) ?? 0) + 1)
  }

  /** Called first thing in the spawn's answer, before the child (if any) is linked. */
  spawnAnswered(parentId: number): void {
    if (parentId === 0) return
    const n = (this.spawning.get(parentId) ?? 0) - 1
    if (n > 0) return void this.spawning.set(parentId, n)
    this.spawning.delete(parentId)
    const waiters = this.spawnWaiters.get(parentId)
    this.spawnWaiters.delete(parentId)
    for (const w of waiters ?? []) w()
  }

  spawnsInFlight(parent: DomainEntry): number {
    return this.spawning.get(parent.id) ?? 0
  }

  /** Resolves once every spawn `parent` has in flight is answered. */
  spawnsSettled(parent: DomainEntry): Promise<void> {
    if (this.spawnsInFlight(parent) === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const list = this.spawnWaiters.get(parent.id) ?? []
      list.push(resolve)
      this.spawnWaiters.set(parent.id, list)
    })
  }

  /** Filicide has reached `e`'s subtree: it may spawn no more. */
  doom(e: DomainEntry): void {
    this.doomed.add(e.id)
  }

  /** Domain `id` is being killed with its subtree. */
  isDoomed(id: number): boolean {
    return this.doomed.has(id)
  }

  /** Record a confirmed child under its parent. */
  link(child: DomainEntry): void {
    const parent = this.parentOf(child)
    if (parent !== undefined) parent.addChild(child.id)
  }

  parentOf(e: DomainEntry): DomainEntry | undefined {
    return e.parentId === 0 ? undefined : this.table.get(e.parentId)
  }

  /** Nobody will ever wait for `e`: detached, or its parent is gone or dying. */
  private orphaned(e: DomainEntry): boolean {
    if (e.noreap) return true
    if (e.parentId === 0) return false
    const p = this.table.get(e.parentId)
    return p === undefined || !p.alive
  }

  treeState(e: DomainEntry): TreeState {
    if (e.alive) return 'alive'
    if (e.children.size > 0) return 'tombstone'
    return this.orphaned(e) || e.reaped ? 'detached' : 'zombie'
  }

  /** The domain reached STOPPED: answer a parent waiting for any child; free its dead orphans. */
  onStopped(e: DomainEntry): void {
    const parent = this.parentOf(e)
    const waiters = parent?.childWaiters
    if (waiters != null && !e.noreap && !e.reaped && waiters.length > 0) waiters.shift()!(e)
    // Its children are orphans now: the dead ones can go (the living go when they end).
    if (e.children.size > 0) {
      for (const id of [...e.children]) {
        const c = this.table.get(id)
        if (c !== undefined) this.tryFree(c)
      }
    }
    // A parent waiting for any child with none left to end is answered ECHILD.
    if (parent !== undefined) this.settleChildWaiters(parent)
    this.tryFree(e)
  }

  onCleaned(e: DomainEntry): void {
    this.tryFree(e)
    if (e.parentId === 0 && this.table.get(e.id) === e) this.retain(e)
  }

  /**
   * The root's dead children wait here, oldest first, for an rt.wait that reaps
   * them. Past `retainCleaned` of them the oldest is reaped by the runtime: a
   * process table is finite (Unix's is too), and an embedding server that never
   * reaps must not grow without bound. Its capability then goes stale.
   */
  private retain(e: DomainEntry): void {
    this.retained.push(e.id)
    while (this.retained.length > this.limits.retainCleaned) {
      const old = this.table.get(this.retained.shift()!)
      if (old !== undefined && !old.alive) this.reapByRoot(old)
    }
  }

  /** Free `e` if it is dead, cleaned, childless and nobody will wait for it. */
  tryFree(e: DomainEntry): void {
    if (e.state !== 'CLEANED' || e.children.size > 0) return
    if (!e.reaped && !this.orphaned(e)) return
    if (this.table.get(e.id) !== e) return
    this.table.delete(e.id)
    this.doomed.delete(e.id)
    this.freed++
    this.onFree(e)
    const parent = this.parentOf(e)
    if (parent !== undefined) {
      parent.removeChild(e.id)
      parent.handles.closeAll(e.id)
      // A tombstone whose last child is gone goes too.
      if (!parent.alive) this.tryFree(parent)
    }
  }

  /** Collect a dead child's exit status and let it be freed. */
  private reap(parent: DomainEntry, child: DomainEntry): ChildExit {
    child.reaped = true
    const handle = parent.handles.find(child.id) ?? -1
    const r = child.waitResult()
    const out: ChildExit = {
      handle,
      domainId: child.id,
      exitCode: r.status === 'running' ? 0 : r.exitCode,
      reason: r.status === 'running' ? 'exited' : r.reason,
    }
    if (r.status !== 'running' && r.error !== undefined) out.error = r.error
    this.tryFree(child)
    return out
  }

  private reapable(parent: DomainEntry): DomainEntry | undefined {
    for (const id of parent.children) {
      const c = this.table.get(id)
      if (c !== undefined && !c.alive && !c.noreap && !c.reaped) return c
    }
    return undefined
  }

  private hasWaitableChild(parent: DomainEntry): boolean {
    for (const id of parent.children) {
      const c = this.table.get(id)
      if (c !== undefined && !c.noreap && !c.reaped) return true
    }
    return false
  }

  /** Answer ECHILD to any-child waiters that can no longer be satisfied. */
  private settleChildWaiters(parent: DomainEntry): void {
    const waiters = parent.childWaiters
    if (waiters === null || waiters.length === 0 || this.hasWaitableChild(parent)) return
    parent.childWaiters = null
    for (const w of waiters) w(parent)
  }

  /**
   * ctx.wait: for one child (`child` given) or any child. Answers at once with a
   * reapable child, ECHILD when there is nothing to wait for, null under nohang.
   */
  waitChild(
    parent: DomainEntry,
    child: DomainEntry | null,
    nohang: boolean,
  ): Promise<ChildExit | null> {
    if (child !== null) {
      if (child.parentId !== parent.id || child.noreap) {
        return Promise.reject(
          new KernelError('ECHILD', `domain ${child.id} is not a waitable child of ${parent.id}`),
        )
      }
      if (child.reaped)
        return Promise.reject(new KernelError('ECHILD', `domain ${child.id} was already reaped`))
      if (!child.alive) return Promise.resolve(this.reap(parent, child))
      if (nohang) return Promise.resolve(null)
      return new Promise((resolve, reject) =>
        child.whenStopped(() => {
          if (child.reaped)
            reject(new KernelError('ECHILD', `domain ${child.id} was reaped by another wait`))
          else resolve(this.reap(parent, child))
        }),
      )
    }
    const ready = this.reapable(parent)
    if (ready !== undefined) return Promise.resolve(this.reap(parent, ready))
    if (!this.hasWaitableChild(parent)) {
      return Promise.reject(
        new KernelError('ECHILD', `domain ${parent.id} has no child to wait for`),
      )
    }
    if (nohang) return Promise.resolve(null)
    const waiters = (parent.childWaiters ??= [])
    return new Promise((resolve, reject) =>
      waiters.push((c) => {
        if (c === parent)
          reject(new KernelError('ECHILD', `domain ${parent.id} has no child left to wait for`))
        else resolve(this.reap(parent, c))
      }),
    )
  }

  /** The root reaps one of its own children (rt.wait with reap). */
  reapByRoot(e: DomainEntry): void {
    if (e.parentId !== 0 || e.alive) return
    e.reaped = true
    this.tryFree(e)
  }

  /**
   * Reap `e` for the root in a microtask (rt.wait with reap on a domain that has
   * already stopped), so another wait made in the same turn still finds it.
   * (Not queueMicrotask: Node wraps each of those in an async resource.)
   */
  reapSoon(e: DomainEntry): void {
    this.toReap[this.toReapLen++] = e
    if (this.toReapLen === 1) void RESOLVED.then(this.reapNow)
  }

  /** (The list is reused, not replaced: an array per batch was garbage per domain at 1 in flight.) */
  private readonly reapNow = (): void => {
    const list = this.toReap
    // Reaping never asks for another reap; a wait made meanwhile lands past i and is reaped too.
    for (let i = 0; i < this.toReapLen; i++) {
      const e = list[i]!
      list[i] = null
      this.reapByRoot(e)
    }
    this.toReapLen = 0
  }

  /** Descendants of `e`, deepest first (the order filicide stops them in). */
  descendantsDeepestFirst(e: DomainEntry): DomainEntry[] {
    const out: DomainEntry[] = []
    const visit = (d: DomainEntry): void => {
      for (const id of d.children) {
        const c = this.table.get(id)
        if (c !== undefined) visit(c)
      }
      out.push(d)
    }
    for (const id of e.children) {
      const c = this.table.get(id)
      if (c !== undefined) visit(c)
    }
    return out
  }

  /** Kill `e` and every descendant, deepest first (Camellia's filicide). */
  async killSubtree(e: DomainEntry, kill: (d: DomainEntry) => Promise<void>): Promise<void> {
    // A parent still running while its children die may replace them, and spawns may
    // be in flight: so no domain of the subtree may spawn from here on, a child that
    // lands under one is killed at once (spawn), and the sweep repeats until nothing
    // of the subtree lives or is on its way.
    for (;;) {
      const order = this.descendantsDeepestFirst(e)
      const members = [e, ...order]
      for (const d of members) this.doom(d)
      const alive = order.filter((d) => d.alive)
      const spawning = members.filter((d) => this.spawnsInFlight(d) > 0)
      if (alive.length === 0 && spawning.length === 0) break
      // Level by level from the leaves: a parent is stopped only after its children.
      const byDepth = new Map<number, DomainEntry[]>()
      for (const d of alive) {
        const list = byDepth.get(d.depth) ?? []
        list.push(d)
        byDepth.set(d.depth, list)
      }
      const depths = [...byDepth.keys()].sort((a, b) => b - a)
      for (const depth of depths) {
        await Promise.all(
          byDepth
            .get(depth)!
            .filter((d) => d.alive)
            .map(kill),
        )
      }
      await Promise.all(spawning.map((d) => this.spawnsSettled(d)))
    }
    if (e.alive) await kill(e)
  }

  /** The whole tree below the root, for display. */
  tree(): TreeNode[] {
    const node = (e: DomainEntry): TreeNode => ({
      id: e.id,
      program: e.program,
      state: e.state,
      tree: this.treeState(e),
      exitCode: e.exitCode,
      children: [...e.children]
        .map((id) => this.table.get(id))
        .filter((c): c is DomainEntry => c !== undefined)
        .map(node),
    })
    const roots: TreeNode[] = []
    for (const e of this.table.values()) if (e.parentId === 0) roots.push(node(e))
    return roots
  }
}
