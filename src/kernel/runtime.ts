/**
 * The runtime: the public face of the kernel. It owns the process manager and
 * the pump (pump.ts: the main thread's side of the hot path), checks arguments
 * where requests enter, and runs shutdown. boot.ts starts it; the supervisor
 * attaches to it.
 */
import type { Worker } from 'node:worker_threads'
import { KernelError } from '../errors.js'
import type { Doorbell } from '../ring/doorbell.js'
import type { PsEntry } from '../protocol/messages.js'
import type { DomainCap } from './cap.js'
import type { DomainStatus, WaitResult } from './domain_table.js'
import type { TreeNode } from './process_tree.js'
import { ProcessManager } from './process_manager.js'
import { BOOT_KEY } from './spawnd_links.js'
import type { SpawndState, SpawndHealth } from './spawnd_state.js'
import type { RuntimeEvents } from './events.js'
import { Pump } from './pump.js'
import { noop, programUrl, sleep, withTimeout } from './util.js'
export { programUrl } from './util.js'

export interface BootOptions {
  /** Number of cores (spawnd workers). Default: os.availableParallelism(). */
  cores?: number
  /** Bytes of each request ring (process manager -> spawnd), a power of two. Default 65536. */
  ringCapacity?: number
  /** Bytes of each reply ring (spawnd -> process manager), a power of two. Default 1 MiB. */
  replyRingCapacity?: number
  /** Dispatcher table size of each spawnd (its ps table). Default 1024. */
  maxDispatchers?: number
  /** Doorbell spin iterations before sleeping, on both sides. Default DEFAULT_SPIN. */
  spin?: number
  /** How long the main thread polls for replies after publishing requests. Default 20 us. */
  hotSpinMicros?: number
  /** Bytes allowed for argv, and separately for env, at spawn (Barrelfish: 2048). */
  maxArgBytes?: number
  /** Children one domain may have (living or reapable). Default 256. */
  maxChildren?: number
  /**
   * Dead domains the runtime spawned and nobody reaped, kept for later waits.
   * Past this many the oldest is reaped (its capability goes stale). Default 10000.
   */
  retainCleaned?: number
  /** Depth of the process tree. Default 16. */
  maxDepth?: number
  /** Handle-table size of each domain. Default 64. */
  maxHandles?: number
  /** How long boot waits for every spawnd to answer its first ping. Default 10 s. */
  bootTimeoutMs?: number
  /** How long shutdown waits for domains and spawnds before terminating workers. Default 5 s. */
  shutdownTimeoutMs?: number
}

export interface SpawnOptions {
  /** Core to run on. Default: round-robin over the cores. */
  core?: number
  argv?: string[]
  env?: Record<string, string>
}

export interface WaitOptions {
  /** Answer at once with { status: 'running' } if the domain has not stopped. */
  nohang?: boolean
  /** Free the entry once it is cleaned (its capability goes stale). Ignored with nohang while running. */
  reap?: boolean
}

export interface KillOptions {
  /** Stop every descendant too, deepest first (filicide). */
  subtree?: boolean
}

/** Per-core counters, for dashboards and benchmarks. */
export interface CoreStats {
  core: number
  health: SpawndHealth
  /** Requests waiting for ring room (the send queue). */
  sendQueue: number
  /** Clients waiting for replies (the receive queue). */
  receiveQueue: number
  requests: number
  replies: number
  notifications: number
  /** Bytes published and not yet consumed in the request ring (PM -> spawnd). */
  requestRingBytes: number
  /** Bytes published and not yet consumed in the reply ring (spawnd -> PM). */
  replyRingBytes: number
  /** Milliseconds since the core last answered anything. */
  lastSeenAgoMs: number
}

export class Runtime {
  /** Number of cores (spawnds). */
  readonly cores: number
  private readonly pm: ProcessManager
  private readonly pump: Pump
  private readonly shutdownTimeoutMs: number
  private closing = false
  private closed = false
  private shutdownPromise: Promise<void> | null = null
  private readonly shutdownHooks: (() => Promise<void>)[] = []
  private startSpawnd: ((core: number) => SpawndState) | null = null

  /** @internal use boot() */
  constructor(opts: Required<Omit<BootOptions, 'bootTimeoutMs'>>, mainBell: Doorbell) {
    this.cores = opts.cores
    this.shutdownTimeoutMs = opts.shutdownTimeoutMs
    this.pm = new ProcessManager(() => this.pump.schedule(), {
      maxChildren: opts.maxChildren,
      retainCleaned: opts.retainCleaned,
      maxDepth: opts.maxDepth,
      maxHandles: opts.maxHandles,
      maxArgBytes: opts.maxArgBytes,
    })
    this.pump = new Pump(this.pm.links, mainBell, opts.hotSpinMicros / 1000)
  }

  /** @internal boot path: start the pump once every spawnd is registered. */
  start(): void {
    this.pump.start()
  }

  /** @internal boot path: register a spawnd (a fresh one may replace a failed core). */
  register(s: SpawndState): void {
    this.pm.links.addSpawnd(s, BOOT_KEY)
    // A replaced worker's late events must not touch its successor: check identity.
    const failed = (why: string): void => {
      if (this.pm.links.spawnds[s.core] === s && !this.closed) {
        this.pm.coreFailed(s.core, this.closing ? 'down' : 'failed', why)
      }
    }
    s.worker.on('error', (err: Error) => failed(`worker error: ${err.message}`))
    s.worker.on('exit', (code: number) => failed(`worker exited with code ${code}`))
  }

  /** Lifecycle events (EventEmitter and async iterator). */
  get events(): RuntimeEvents {
    return this.pm.events
  }

  /** The worker running `core`'s spawnd: for diagnostics and fault injection. */
  worker(core: number): Worker {
    return this.pm.links.spawnd(core).worker
  }

  /** Health of every core. */
  coreHealth(): SpawndHealth[] {
    return this.pm.links.spawnds.map((s) => s.health)
  }

  /** Run `hook` at the start of shutdown, before domains are killed (newest first). */
  onShutdown(hook: () => Promise<void>): void {
    this.shutdownHooks.unshift(hook)
  }

  /**
   * Declare a core failed (hung: it stopped answering): its worker is ended, every
   * caller waiting on it answered CORE_FAILED, its domains stopped ('core-failed').
   */
  async failCore(core: number, why: string): Promise<void> {
    const s = this.pm.links.spawnd(core)
    this.pm.coreFailed(core, 'failed', why)
    s.chan.close()
    await s.worker.terminate()
  }

  /**
   * Start a fresh spawnd on a failed core's number (the reincarnation path).
   * Resolves once it answered a ping.
   */
  async restartCore(core: number): Promise<void> {
    this.checkOpen('restartCore')
    const old = this.pm.links.spawnd(core)
    if (old.health !== 'failed') {
      throw new KernelError('SPAWND_EXISTS', `core ${core} is ${old.health}, not failed`)
    }
    if (this.startSpawnd === null) throw new KernelError('SHUTDOWN', 'no boot path')
    this.register(this.startSpawnd(core))
    await this.pm.links.ping(core)
  }

  /** @internal the boot path's spawnd factory (for restartCore). */
  setSpawndFactory(f: (core: number) => SpawndState): void {
    this.startSpawnd = f
  }

  /**
   * Stop a domain gracefully: its stopSignal fires on every core; if it has not
   * ended within `graceMs`, it is killed. Resolves once it has stopped.
   */
  async terminate(d: DomainCap, graceMs: number): Promise<WaitResult> {
    const e = this.pm.lookup(d)
    if (e.state === 'RUNNING') {
      await this.pm.term(e)
      const r = await withTimeout(this.pm.wait(e, false), graceMs)
      if (r === 'timeout' && e.state === 'RUNNING') await this.pm.kill(e)
    }
    return this.pm.wait(e, false)
  }

  /** Drain every reply ring now (the supervisor does before judging silence). */
  pollReplies(): void {
    this.pump.drainAll()
  }

  // ------------------------------------------------------------------ API

  private checkOpen(what: string): void {
    if (this.closing) throw new KernelError('SHUTDOWN', `${what}: the runtime is shut down`)
  }

  /** Run an async API body, turning synchronous refusals into rejections. */
  private guard<T>(what: string, body: () => Promise<T>): Promise<T> {
    try {
      this.checkOpen(what)
      return body()
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * Start a domain: `program` is a path or file URL of an ES module whose default
   * export is `main(ctx)`. Resolves with the domain's capability once the spawnd
   * confirmed the spawn (the module loaded and main was started).
   */
  spawn(program: string | URL, opts: SpawnOptions = {}): Promise<DomainCap> {
    return this.guard('spawn', () => {
      const url = programUrl(program)
      const argv = opts.argv ?? []
      const env = opts.env ?? {}
      if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
        throw new TypeError('argv must be an array of strings')
      }
      if (typeof env !== 'object' || env === null || Array.isArray(env)) {
        throw new TypeError('env must be an object of strings')
      }
      for (const [k, v] of Object.entries(env)) {
        if (typeof v !== 'string') throw new TypeError(`env.${k} must be a string`)
      }
      this.pm.checkArgs(argv, env)
      const core = opts.core ?? this.pm.links.pickCore()
      return this.pm.spawn(core, url, argv.slice(), { ...env }).then((e) => e.cap)
    })
  }

  /** Run the domain on `core` too (another dispatcher, its main started there). */
  span(d: DomainCap, core: number): Promise<void> {
    return this.guard('span', () => this.pm.span(this.pm.lookup(d), core))
  }

  /**
   * Stop the domain on every core; resolves once every dispatcher stopped. With
   * `subtree`, every descendant is stopped first, deepest first (filicide).
   */
  kill(d: DomainCap, opts: KillOptions = {}): Promise<void> {
    return this.guard('kill', () => {
      const e = this.pm.lookup(d)
      return opts.subtree === true ? this.pm.killTree(e) : this.pm.kill(e)
    })
  }

  /**
   * Wait for the domain to stop (or, with nohang, report whether it has). The
   * entry is kept for later waits unless `reap` is set: then, once cleaned (and
   * once its own children are gone), it is freed and its capability goes stale.
   */
  wait(d: DomainCap, opts: WaitOptions = {}): Promise<WaitResult> {
    // Waits stay possible after shutdown: every domain is stopped by then.
    try {
      const e = this.pm.lookup(d)
      const p = this.pm.wait(e, opts.nohang === true)
      if (opts.reap !== true) return p
      return p.then((r) => {
        this.pm.tree.reapByRoot(e)
        return r
      })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** A snapshot of the domain's entry. Throws DOMAIN_NOTFOUND / DOMAIN_CAP_INVALID. */
  status(d: DomainCap): DomainStatus {
    const e = this.pm.lookup(d)
    return e.snapshot(this.pm.tree.treeState(e))
  }

  /** Snapshots of every domain in the table. */
  domains(): DomainStatus[] {
    const out: DomainStatus[] = []
    for (const e of this.pm.table.values()) out.push(e.snapshot(this.pm.tree.treeState(e)))
    return out
  }

  /** The process tree below the root (the runtime), for display. */
  tree(): TreeNode[] {
    return this.pm.tree.tree()
  }

  /**
   * The capability of any domain in the table, by id: the runtime holds the root
   * authority (domains spawned by domains are reachable from here too).
   */
  capOf(id: number): DomainCap {
    const e = this.pm.table.get(id)
    if (e === undefined) throw new KernelError('DOMAIN_NOTFOUND', `no domain ${id}`)
    return e.cap
  }

  /** Entries freed from the domain table so far (reaped domains). */
  get freedDomains(): number {
    return this.pm.tree.freed
  }

  /** A null request through process manager -> spawnd -> process manager. */
  ping(core: number): Promise<void> {
    return this.guard('ping', () => this.pm.links.ping(core).then(noop))
  }

  /**
   * `count` pings pipelined on `core`, at most `window` in flight, resolved
   * together: the throughput path (one promise for the batch, not one per request).
   */
  pingMany(core: number, count: number, window = 1024): Promise<void> {
    return this.guard('ping', () => {
      if (!Number.isInteger(count) || count < 0) {
        throw new RangeError('count must be a non-negative integer')
      }
      if (!Number.isInteger(window) || window <= 0) {
        throw new RangeError('window must be a positive integer')
      }
      return this.pm.links.pingMany(core, count, window)
    })
  }

  /** The dispatcher table of one spawnd (its `ps`). */
  ps(core: number): Promise<PsEntry[]> {
    return this.guard('ps', () => this.pm.links.coreStatus(core))
  }

  /** Counters per core. */
  stats(): CoreStats[] {
    return this.pm.links.spawnds.map((s) => ({
      core: s.core,
      health: s.health,
      sendQueue: s.sendQueue.length,
      receiveQueue: s.receiveQueue.size,
      requests: s.requests,
      replies: s.replies,
      notifications: s.notifications,
      requestRingBytes: s.chan.tx.usedBytes(),
      replyRingBytes: s.chan.rx.usedBytes(),
      lastSeenAgoMs: Date.now() - s.lastSeen,
    }))
  }

  /** True once shutdown() was called. */
  get isShutdown(): boolean {
    return this.closing
  }

  /**
   * Kill what runs, clean it up, stop the spawnds and end their workers. Every
   * pending promise is settled. Idempotent.
   */
  shutdown(): Promise<void> {
    if (this.shutdownPromise === null) this.shutdownPromise = this.doShutdown()
    return this.shutdownPromise
  }

  private async doShutdown(): Promise<void> {
    this.closing = true
    const deadline = Date.now() + this.shutdownTimeoutMs
    const left = (): number => Math.max(0, deadline - Date.now())
    // Hooks first (the supervisor stops services in reverse start order).
    for (const hook of this.shutdownHooks) {
      await withTimeout(
        hook().catch(() => undefined),
        left(),
      )
    }
    // Spawns already sent will be answered; a domain they create must be stopped too.
    while (this.pm.pendingSpawns > 0 && left() > 0) await sleep(1)
    const stopping: Promise<void>[] = []
    for (const e of this.pm.table.values()) {
      if (e.state === 'RUNNING') this.pm.kill(e).catch(noop)
      if (e.state !== 'CLEANED') stopping.push(this.pm.cleaned(e))
    }
    await withTimeout(Promise.all(stopping), left())
    const byes = this.pm.links.spawnds.map((s) => this.pm.links.stopSpawnd(s.core))
    await withTimeout(Promise.all(byes), Math.max(left(), 100))
    for (const s of this.pm.links.spawnds) this.pm.coreFailed(s.core, 'down')
    this.closed = true
    const pumpStopped = this.pump.stop()
    await Promise.all(
      this.pm.links.spawnds.map(async (s) => {
        s.chan.close()
        await s.worker.terminate()
      }),
    )
    await pumpStopped
    this.pm.events.end()
  }
}
