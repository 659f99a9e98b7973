/**
 * Kernel: the checked entry to the domain side and the cores. Arguments are
 * checked here, where requests enter (domains' calls are checked in calls.ts with
 * the same helpers), and shutdown is sequenced here: stop what runs, clean it up,
 * then close the links. The public Runtime (runtime/) forwards to it; the
 * supervisor reaches it through its own narrow interface.
 */
import type { Worker } from 'node:worker_threads'
import { KernelError } from '../errors.js'
import type { CoreStats, KernelLinks, NodeInfo } from '../link/link.js'
import type { SpawndHealth } from '../link/spawnd_link.js'
import { noop, sleep, withTimeout } from '../link/timers.js'
import type { PsEntry } from '../protocol/messages.js'
import { NO_ARGV, NO_ENV } from '../protocol/spawn_frame.js'
import { programUrl, spawnArgs } from './args.js'
import type { DomainCap } from './cap.js'
import type { DomainStatus, WaitResult } from './domain_table.js'
import type { ProcessManager } from './process_manager.js'
import type { TreeNode } from './process_tree.js'
import { quotaArg, type Quota } from '../session/quota.js'

export interface SpawnOptions {
  /** Core to run on. Default: round-robin over the cores. */
  core?: number
  argv?: string[]
  env?: Record<string, string>
  /** Its label: its identity in session labels and routes (default: its program's name). */
  label?: string
  /** Quota donated from the runtime's account (default: 1 MiB and 64 handles, or what is left). */
  quota?: Partial<Quota>
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

const NO_WAIT_OPTIONS: WaitOptions = Object.freeze({})
const NO_SPAWN_OPTIONS: SpawnOptions = Object.freeze({})
/** A spawn given no argv and no env: both shared and frozen, never copied. */
const NO_ARGS = { argv: NO_ARGV, env: NO_ENV }

export class Kernel {
  private closing = false
  private shutdownPromise: Promise<void> | null = null

  constructor(
    private readonly pm: ProcessManager,
    private readonly links: KernelLinks,
    private readonly shutdownTimeoutMs: number,
  ) {}

  get cores(): number {
    return this.links.cores
  }

  get isShutdown(): boolean {
    return this.closing
  }

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

  spawn(program: string | URL, opts: SpawnOptions = NO_SPAWN_OPTIONS): Promise<DomainCap> {
    // The hot path of a spawn: no closure, no copy of empty argv and env, one promise.
    try {
      this.checkOpen('spawn')
      const url = programUrl(program)
      const plain = opts.argv === undefined && opts.env === undefined
      const { argv, env } = plain
        ? NO_ARGS
        : spawnArgs(opts.argv ?? [], opts.env ?? {}, this.pm.limits.maxArgBytes)
      const core = opts.core ?? this.links.pickCore()
      if (opts.label === undefined && opts.quota === undefined) {
        return this.pm.spawnCap(core, url, argv, env)
      }
      if (opts.label !== undefined && typeof opts.label !== 'string') {
        throw new TypeError('label must be a string')
      }
      const quota = opts.quota === undefined ? null : quotaArg(opts.quota, { bytes: 0, handles: 0 })
      return this.pm.spawnCap(core, url, argv, env, { label: opts.label, quota })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  span(d: DomainCap, core: number): Promise<void> {
    return this.guard('span', () => this.pm.span(this.pm.lookup(d), core))
  }

  kill(d: DomainCap, opts: KillOptions = {}): Promise<void> {
    return this.guard('kill', () => {
      const e = this.pm.lookup(d)
      return opts.subtree === true ? this.pm.killTree(e) : this.pm.kill(e)
    })
  }

  async terminate(d: DomainCap, graceMs: number): Promise<WaitResult> {
    const e = this.pm.lookup(d)
    if (e.state === 'RUNNING') {
      await this.pm.term(e)
      const r = await withTimeout(this.pm.wait(e, false), graceMs)
      if (r === 'timeout' && e.state === 'RUNNING') await this.pm.kill(e)
    }
    return this.pm.wait(e, false)
  }

  wait(d: DomainCap, opts: WaitOptions = NO_WAIT_OPTIONS): Promise<WaitResult> {
    // Waits stay possible after shutdown: every domain is stopped by then.
    try {
      return this.pm.wait(this.pm.lookup(d), opts.nohang === true, opts.reap === true)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  status(d: DomainCap): DomainStatus {
    return this.pm.snapshot(this.pm.lookup(d))
  }

  domains(): DomainStatus[] {
    return this.pm.snapshots()
  }

  tree(): TreeNode[] {
    return this.pm.treeView()
  }

  capOf(id: number): DomainCap {
    return this.pm.capOf(id)
  }

  get freedDomains(): number {
    return this.pm.freed
  }

  ping(core: number): Promise<void> {
    return this.guard('ping', () => this.links.ping(core).then(noop))
  }

  pingMany(core: number, count: number, window = 1024): Promise<void> {
    return this.guard('ping', () => {
      if (!Number.isInteger(count) || count < 0) {
        throw new RangeError('count must be a non-negative integer')
      }
      if (!Number.isInteger(window) || window <= 0) {
        throw new RangeError('window must be a positive integer')
      }
      return this.links.pingMany(core, count, window)
    })
  }

  ps(core: number): Promise<PsEntry[]> {
    return this.guard('ps', () => this.links.ps(core))
  }

  stats(): CoreStats[] {
    return this.links.stats()
  }

  nodes(): NodeInfo[] {
    return this.links.nodes()
  }

  coreHealth(): SpawndHealth[] {
    return this.links.health()
  }

  worker(core: number): Worker {
    return this.links.worker(core)
  }

  /**
   * Run `first` (the supervisor's stop), kill what runs, clean it up, stop the
   * spawnds and end their workers, all within shutdownTimeoutMs. Every pending
   * promise is settled. Idempotent.
   */
  shutdown(first: () => Promise<void> = () => Promise.resolve()): Promise<void> {
    this.shutdownPromise ??= this.doShutdown(first)
    return this.shutdownPromise
  }

  private async doShutdown(first: () => Promise<void>): Promise<void> {
    this.closing = true
    this.links.beginClose()
    const deadline = Date.now() + this.shutdownTimeoutMs
    const left = (): number => Math.max(0, deadline - Date.now())
    await withTimeout(
      first().catch(() => undefined),
      left(),
    )
    // Spawns already sent will be answered; a domain they create must be stopped too.
    while (this.pm.pendingSpawns > 0 && left() > 0) await sleep(1)
    await withTimeout(this.pm.stopAll(), left())
    await this.links.close(Math.max(left(), 100))
  }
}
