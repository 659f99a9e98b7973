/**
 * One service of the reincarnation server's table: its configuration, the
 * current incarnation, and its restart pacing. The table (services.ts) drives it.
 */
import type { DomainCap } from '../kernel/cap.js'
import type { WaitResult } from '../kernel/domain_table.js'
import { RestartPacer, type RestartLimits } from './backoff.js'

export type RestartPolicy = 'permanent' | 'transient' | 'temporary'

export type ServiceState = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed'

export interface ServiceOptions extends RestartLimits {
  /** Preferred core; another core that is up is used while it is down. */
  core?: number
  argv?: string[]
  env?: Record<string, string>
  /** Default 'permanent'. */
  restart?: RestartPolicy
  /** When set, the domain must call ctx.ready() within this many ms of starting. */
  initTimeoutMs?: number
  /** When set, the domain must call ctx.heartbeat() this often. */
  heartbeatMs?: number
  /** Beats it may skip before it is judged hung. Default 3. */
  maxSkippedBeats?: number
  /** Grace between the stop request and the kill, on down/restart/shutdown. Default 2000 ms. */
  stopTimeoutMs?: number
}

export interface ServiceInfo {
  label: string
  program: string
  state: ServiceState
  policy: RestartPolicy
  /** The current incarnation, or null between incarnations. */
  domain: DomainCap | null
  /** Restarts so far (by policy, not by restart()/refresh()). */
  restarts: number
  /** How the last incarnation ended. */
  lastExit: WaitResult | null
}

export class Service {
  state: ServiceState = 'starting'
  domain: DomainCap | null = null
  restarts = 0
  lastExit: WaitResult | null = null
  timer: NodeJS.Timeout | null = null
  startedAt = 0
  /** Bumped on every incarnation; a stale incarnation's callbacks do nothing. */
  generation = 0
  /** The generation last judged hung by the heartbeat check. */
  hungJudged = -1
  /** Cache-busting suffix for refresh(): a fresh module instance. */
  version = 0
  readonly pacer: RestartPacer
  /** up()'s promise, settled at the first successful start (or on giving up). */
  firstStart: { resolve: (i: ServiceInfo) => void; reject: (e: Error) => void } | null = null
  /** The down() in progress: a second down joins it. */
  goingDown: Promise<void> | null = null

  constructor(
    readonly label: string,
    readonly url: string,
    readonly opts: ServiceOptions,
    readonly policy: RestartPolicy,
    periodMs: number,
  ) {
    this.pacer = new RestartPacer(periodMs, opts)
  }

  programUrl(): string {
    return this.version === 0 ? this.url : `${this.url}?refresh=${this.version}`
  }
}
