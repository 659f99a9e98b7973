/**
 * What the reincarnation server may do to the runtime: handed to it at boot, and
 * narrower than the public Runtime on one side (no shutdown, no tree) and wider on
 * the other (ending and restarting cores, reading replies before judging silence).
 */
import type { CoreLinkView, CoreStats, SpawndHealth } from '../link/link.js'
import type { DomainCap } from '../kernel/cap.js'
import type { DomainStatus, WaitResult } from '../kernel/domain_table.js'
import type { EventBus, KernelEvent } from '../kernel/events.js'
import type { SpawnOptions, WaitOptions } from '../kernel/kernel.js'
import type { SupervisorEvent } from './events.js'

export interface SupervisorHost {
  readonly cores: number
  /** The runtime's event bus: the kernel's events to watch, the supervisor's to publish. */
  readonly events: EventBus<KernelEvent | SupervisorEvent>
  /** True once shutdown began. */
  readonly isShutdown: boolean
  spawn(program: string | URL, opts?: SpawnOptions): Promise<DomainCap>
  kill(d: DomainCap): Promise<void>
  wait(d: DomainCap, opts?: WaitOptions): Promise<WaitResult>
  status(d: DomainCap): DomainStatus
  /** Stop gracefully (stopSignal), killed after `graceMs`. */
  terminate(d: DomainCap, graceMs: number): Promise<WaitResult>
  ping(core: number): Promise<void>
  stats(): CoreStats[]
  coreHealth(): SpawndHealth[]
  /** Drain every reply ring now (before judging a core silent). */
  pollReplies(): void
  /**
   * Declare a core failed (hung): its worker is ended, every caller waiting on it
   * answered CORE_FAILED, its domains stopped ('core-failed').
   */
  failCore(core: number, why: string): Promise<void>
  /** Start a fresh spawnd on a failed core's number; resolves once it answered a ping. */
  restartCore(core: number): Promise<void>
  /** What the watchers read of a core that is up (its gauges, worker, requests sent); else null. */
  coreLink(core: number): CoreLinkView | null
  /**
   * Replace a core that hosts nothing with a fresh spawnd at once (requests made
   * meanwhile wait in the fresh one's ring); resolves once it answered a ping.
   */
  retireCore(core: number): Promise<void>
  /** A live update's steps on sessions (kernel/session_update.ts). */
  readonly update: {
    prepare(old: DomainCap, timeoutMs: number): Promise<void>
    adopt(old: DomainCap, neu: DomainCap): Promise<void>
    commit(old: DomainCap, neu: DomainCap): Promise<void>
    rollback(old: DomainCap, neu: DomainCap | null): Promise<void>
    end(label: string): void
  }
}

export type { CoreLinkView } from '../link/link.js'
