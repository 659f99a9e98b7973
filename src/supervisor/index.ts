/**
 * The reincarnation server, attached to a booted kernel runtime: core heartbeats
 * and restarts (core_monitor.ts) and the labelled services table (services.ts).
 * It sits above the kernel: the kernel knows nothing of it; this module adds
 * `rt.services` to the Runtime type by module augmentation.
 */
import type { Runtime } from '../kernel/runtime.js'
import type { RestartLimits } from './backoff.js'
import { CoreMonitor } from './core_monitor.js'
import { Services } from './services.js'

export interface SupervisorOptions {
  /** The supervision period (heartbeat pings, backoff unit). Default 500 ms. */
  periodMs?: number
  /** Restart limits for cores (backoff in periods, intensity). */
  coreRestart?: RestartLimits
  /** Set false to run without core supervision (no pings, no restarts). */
  superviseCores?: boolean
}

declare module '../kernel/runtime.js' {
  interface Runtime {
    /** The reincarnation server's table of labelled, supervised services. */
    readonly services: Services
  }
}

export function attachSupervisor(rt: Runtime, opts: SupervisorOptions = {}): void {
  const periodMs = opts.periodMs ?? 500
  if (!(typeof periodMs === 'number' && periodMs > 0))
    throw new RangeError('periodMs must be positive')
  const services = new Services(rt, periodMs)
  const monitor =
    opts.superviseCores === false ? null : new CoreMonitor(rt, periodMs, opts.coreRestart ?? {})
  Object.defineProperty(rt, 'services', { value: services, enumerable: true })
  // OTP's shutdown order: services first (reverse start order), then the monitor.
  rt.onShutdown(async () => {
    monitor?.stop()
    await services.stopAll()
  })
}

export {
  Services,
  type ServiceOptions,
  type ServiceInfo,
  type RestartPolicy,
  type ServiceState,
} from './services.js'
export { MINIX_BACKOFF, RestartPacer, type RestartLimits } from './backoff.js'
