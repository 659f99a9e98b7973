/**
 * Runtime: the public face of multikernel, exactly the members the README
 * documents ("The runtime API"). Each forwards to the kernel (kernel/kernel.ts),
 * which checks arguments where requests enter; `services` is the supervisor's
 * table. boot.ts assembles it.
 */
import type { Worker } from 'node:worker_threads'
import { KernelError } from '../errors.js'
import { boolOption, msOption, optionsObject } from '../kernel/options.js'
import type { Kernel, KillOptions, SpawnOptions, WaitOptions } from '../kernel/kernel.js'
import type { DomainCap } from '../kernel/cap.js'
import type { DomainStatus, WaitResult } from '../kernel/domain_table.js'
import type { TreeNode } from '../kernel/process_tree.js'
import type { CoreStats, NodeInfo } from '../link/link.js'
import type { SpawndHealth } from '../link/spawnd_link.js'
import type { PsEntry } from '../protocol/messages.js'
import type { Services, Supervisor } from '../supervisor/index.js'
import type { RuntimeEvents } from './events.js'
import type {
  QuotaTotals,
  RootResourceRequest,
  RootServeOptions,
  RootSessionOptions,
  RootSessions,
} from '../kernel/session_root.js'
import type { SessionInfo } from '../kernel/sessions.js'
import type { Quota } from '../session/quota.js'
import type { Route } from '../session/route.js'
import type { ServeHandlers } from '../session/serve.js'
import type { Session } from '../session/session.js'

/** Run an API body, turning a synchronous refusal into a rejection. */
function checked<T>(body: () => Promise<T>): Promise<T> {
  try {
    return body()
  } catch (err) {
    return Promise.reject(err)
  }
}

/**
 * rt.spawn's options, checked: known keys only; core an integer when given (null
 * is no core: INVALID_SPAWND, as any other non-core); argv and env arrays and
 * objects of strings when given (null is refused, not read as "none").
 */
function spawnOptions(opts: SpawnOptions | undefined): SpawnOptions {
  const o = optionsObject('spawn options', opts, ['core', 'argv', 'env', 'label', 'quota'])
  if ('core' in o && o.core === null)
    throw new KernelError('INVALID_SPAWND', 'core must be an integer, got null')
  if ('argv' in o && o.argv === null)
    throw new TypeError('argv must be an array of strings, got null')
  if ('env' in o && o.env === null)
    throw new TypeError('env must be an object of strings, got null')
  return o
}

export class Runtime {
  /** Number of cores (spawnds): the local ones, then every remote node's as it joins. */
  get cores(): number {
    return this.#kernel.cores
  }
  /** Lifecycle events (EventEmitter and async iterator). */
  readonly events: RuntimeEvents
  /** The reincarnation server's table of labelled, supervised services. */
  readonly services: Services
  readonly #kernel: Kernel
  readonly #supervisor: Supervisor
  readonly #root: RootSessions
  readonly #closeSessions: () => Promise<void>
  #shutdown: Promise<void> | null = null

  /** @internal use boot() */
  constructor(
    kernel: Kernel,
    events: RuntimeEvents,
    supervisor: Supervisor,
    root: RootSessions,
    closeSessions: () => Promise<void>,
  ) {
    this.#kernel = kernel
    this.#supervisor = supervisor
    this.#root = root
    this.#closeSessions = closeSessions
    this.events = events
    this.services = supervisor.services
  }

  /**
   * Start a domain: `program` is a path or file URL of an ES module whose default
   * export is `main(ctx)`. Resolves with the domain's capability once the spawnd
   * confirmed the spawn (the module loaded and main was started).
   */
  spawn(program: string | URL, opts?: SpawnOptions): Promise<DomainCap> {
    // (try/catch, not checked(): a closure per call is garbage on the spawn path.)
    try {
      return this.#kernel.spawn(program, spawnOptions(opts))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** Run the domain on `core` too (another dispatcher, its main started there). */
  span(d: DomainCap, core: number): Promise<void> {
    return this.#kernel.span(d, core)
  }

  /**
   * Stop the domain on every core; resolves once every dispatcher stopped. With
   * `subtree`, every descendant is stopped first, deepest first (filicide).
   */
  kill(d: DomainCap, opts?: KillOptions): Promise<void> {
    return checked(() => {
      const o = optionsObject('kill options', opts, ['subtree'])
      return this.#kernel.kill(d, { subtree: boolOption('subtree', o.subtree, false) })
    })
  }

  /**
   * Stop a domain gracefully: its stopSignal fires on every core; if it has not
   * ended within `graceMs`, it is killed. Resolves once it has stopped.
   */
  terminate(d: DomainCap, graceMs: number): Promise<WaitResult> {
    return checked(() => {
      if (graceMs === undefined)
        throw new TypeError('graceMs must be a number of ms, got undefined')
      return this.#kernel.terminate(d, msOption('graceMs', graceMs, 0, true))
    })
  }

  /**
   * Wait for the domain to stop (or, with nohang, report whether it has). The
   * entry is kept for later waits unless `reap` is set: then, once cleaned (and
   * once its own children are gone), it is freed and its capability goes stale.
   */
  wait(d: DomainCap, opts?: WaitOptions): Promise<WaitResult> {
    // (No closure and no copy of the options: both are garbage per domain.)
    try {
      const o = optionsObject('wait options', opts, ['nohang', 'reap'])
      boolOption('nohang', o.nohang, false)
      boolOption('reap', o.reap, false)
      // Checked: each is a boolean or absent, which is what the kernel reads.
      return this.#kernel.wait(d, o)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** A snapshot of the domain's entry. Throws DOMAIN_NOTFOUND / DOMAIN_CAP_INVALID. */
  status(d: DomainCap): DomainStatus {
    return this.#kernel.status(d)
  }

  /** Snapshots of every domain in the table. */
  domains(): DomainStatus[] {
    return this.#kernel.domains()
  }

  /** The process tree below the root (the runtime), for display. */
  tree(): TreeNode[] {
    return this.#kernel.tree()
  }

  /**
   * The capability of any domain in the table, by id: the runtime holds the root
   * authority (domains spawned by domains are reachable from here too).
   */
  capOf(id: number): DomainCap {
    return this.#kernel.capOf(id)
  }

  /** A null request through process manager -> spawnd -> process manager. */
  ping(core: number): Promise<void> {
    return this.#kernel.ping(core)
  }

  /**
   * `count` pings pipelined on `core`, at most `window` in flight, resolved
   * together: the throughput path (one promise for the batch, not one per request).
   */
  pingMany(core: number, count: number, window?: number): Promise<void> {
    return this.#kernel.pingMany(core, count, window)
  }

  /** The dispatcher table of one spawnd (its `ps`). */
  ps(core: number): Promise<PsEntry[]> {
    return this.#kernel.ps(core)
  }

  /** Counters per core. */
  stats(): CoreStats[] {
    return this.#kernel.stats()
  }

  /** The remote nodes: their names, core numbers, whether joined, batches refused. */
  nodes(): NodeInfo[] {
    return this.#kernel.nodes()
  }

  /** Health of every core ('up', 'failed', 'down'). */
  coreHealth(): SpawndHealth[] {
    return this.#kernel.coreHealth()
  }

  /** The worker running `core`'s spawnd: for diagnostics and fault injection. */
  worker(core: number): Worker {
    return this.#kernel.worker(core)
  }

  /** Entries freed from the domain table so far (reaped domains). */
  get freedDomains(): number {
    return this.#kernel.freedDomains
  }

  // ------------------------------------------------------------ sessions and quota

  /** Serve sessions of `name` from the main thread (domains are its clients). */
  serve(name: string, handlers: ServeHandlers, opts?: RootServeOptions): void {
    this.#root.serve(name, handlers, opts)
  }

  /** Stop serving `name` from the main thread (open sessions stay open). */
  unserve(name: string): void {
    this.#root.unserve(name)
  }

  /** Open a session of a service as the main thread, routed by the process manager. */
  session(name: string, opts?: RootSessionOptions): Promise<Session> {
    return checked(() => this.#root.session(name, opts))
  }

  /** A snapshot of every session not yet ended. */
  sessions(): SessionInfo[] {
    return this.#root.sessions()
  }

  /** Add a session route (checked at once; earlier routes match first). */
  route(r: Route): void {
    this.#root.route(r)
  }

  /** A domain's quota account, or with no domain the runtime's own. */
  quota(d?: DomainCap): Quota {
    return this.#root.quota(d)
  }

  /** The runtime's account, every domain's and every session's: they add up to the total. */
  quotaTotals(): QuotaTotals {
    return this.#root.quotaTotals()
  }

  /** Answer the resource requests of the runtime's own children (none: all declined). */
  onResourceRequest(h: ((req: RootResourceRequest) => boolean | Promise<boolean>) | null): void {
    this.#root.onResourceRequest(h)
  }

  /** Ask one of the runtime's children to give quota back; resolves with what it gave. */
  requestYield(d: DomainCap, q: Partial<Quota>): Promise<Quota> {
    return this.#root.requestYield(d, q)
  }

  /** True once shutdown() was called. */
  get isShutdown(): boolean {
    return this.#kernel.isShutdown
  }

  /**
   * Services down in reverse start order, then kill what runs, clean it up, stop
   * the spawnds and end their workers. Every pending promise is settled. Idempotent.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#kernel
      .shutdown(() =>
        this.#closeSessions()
          .catch(() => undefined)
          .then(() => this.#supervisor.stop()),
      )
      .then(() => this.events.end())
    return this.#shutdown
  }
}
