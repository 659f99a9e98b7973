/**
 * The reincarnation server: core heartbeats and restarts (core_monitor.ts) and the
 * labelled services table (services.ts). It sits above the kernel and reaches it
 * only through the SupervisorHost the boot path hands it; the kernel knows
 * nothing of it.
 */
import { boolOption, msOption, optionsObject } from '../kernel/options.js'
import { checkRestartLimits, type RestartLimits } from './backoff.js'
import { CoreMonitor, DEFAULT_CORE_RULES, type CoreRules } from './core_monitor.js'
import { MemoryWatcher, type CoreMemoryLimits } from './core_memory.js'
import type { SupervisorHost } from './host.js'
import { Services } from './services.js'

export interface SupervisorOptions {
  /** The supervision period (heartbeat pings, backoff unit). Default 500 ms. */
  periodMs?: number
  /** Restart limits for cores (backoff in periods, intensity). */
  coreRestart?: RestartLimits
  /** Set false to run without core supervision (no pings, no restarts). */
  superviseCores?: boolean
}

const SUPERVISOR_OPTIONS = ['periodMs', 'coreRestart', 'superviseCores'] as const

/** boot's `supervisor` option, checked (each refusal names the option); defaults filled. */
export function checkSupervisorOptions(
  opts: SupervisorOptions | undefined,
): Required<SupervisorOptions> {
  const o = optionsObject('supervisor', opts, SUPERVISOR_OPTIONS)
  return {
    periodMs: msOption('supervisor.periodMs', o.periodMs, 500),
    coreRestart: checkRestartLimits('supervisor.coreRestart', o.coreRestart),
    superviseCores: boolOption('supervisor.superviseCores', o.superviseCores, true),
  }
}

export class Supervisor {
  /** The table of labelled, supervised services (rt.services). */
  readonly services: Services
  private readonly monitor: CoreMonitor | null
  private readonly memory: MemoryWatcher | null

  /**
   * `memory`: each core's memory budget, watched while cores are supervised (null:
   * not watched). `rules`: the protocol-health and module bounds of the core monitor.
   */
  constructor(
    host: SupervisorHost,
    opts?: SupervisorOptions,
    memory: CoreMemoryLimits | null = null,
    rules: CoreRules = DEFAULT_CORE_RULES,
  ) {
    const o = checkSupervisorOptions(opts)
    this.services = new Services(host, o.periodMs)
    this.monitor = o.superviseCores ? new CoreMonitor(host, o.periodMs, o.coreRestart, rules) : null
    this.memory = o.superviseCores && memory !== null ? new MemoryWatcher(host, memory) : null
  }

  /** Shutdown, OTP's order: the monitor stops, then services in reverse start order. */
  async stop(): Promise<void> {
    this.monitor?.stop()
    this.memory?.stop()
    await this.services.stopAll()
  }
}

export type { SupervisorHost } from './host.js'
export type { SupervisorEvent } from './events.js'
export {
  Services,
  type ServiceOptions,
  type ServiceInfo,
  type RestartPolicy,
  type ServiceState,
} from './services.js'
export {
  coreMemoryLimits,
  HARD_HEAP_HEADROOM_MB,
  type CoreMemoryOptions,
  type CoreMemoryLimits,
} from './core_memory.js'
export { DEFAULT_CORE_RULES, type CoreRules } from './core_monitor.js'
export { MINIX_BACKOFF, RestartPacer, type RestartLimits } from './backoff.js'
