/**
 * The boot path: the one place that assembles the runtime. It makes the links to
 * the cores (link/), the process manager above them (kernel/), wires the link's
 * EXIT, CALL and core-down to their handlers, starts the spawnds, and hands the
 * supervisor its narrow interface.
 *
 *   Runtime (public) -> Kernel (checks, shutdown) -> ProcessManager, Calls
 *                                                  -> SpawndLinks -> SpawndLink x cores
 *   Supervisor -> SupervisorHost (built here, from the kernel and the links)
 */
import { availableParallelism } from 'node:os'
import { KernelError } from '../errors.js'
import { DEFAULT_SPIN } from '../ring/doorbell.js'
import { SpawndLinks } from '../link/links.js'
import { withTimeout } from '../link/timers.js'
import { positiveInt } from '../kernel/args.js'
import { Calls } from '../kernel/calls.js'
import { Kernel } from '../kernel/kernel.js'
import { ProcessManager } from '../kernel/process_manager.js'
import {
  DEFAULT_CORE_RULES,
  HARD_HEAP_HEADROOM_MB,
  Supervisor,
  coreMemoryLimits,
  type CoreMemoryOptions,
  type SupervisorHost,
  type SupervisorOptions,
} from '../supervisor/index.js'
import { RuntimeEvents } from './events.js'
import { Runtime } from './runtime.js'

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
  /** Supervision (heartbeats, restarts). */
  supervisor?: SupervisorOptions
  /**
   * Each core's memory budget, enforced by the supervisor's memory watcher (a core
   * past it fails: its domains end 'core-failed' with a CoreOutOfMemory error, and
   * it restarts); the worker's hard V8 limit is heapMb + 1536 MiB. `false`: neither
   * (Node's default heap limit, which is per process abort-prone). Default: heapMb
   * and externalMb clamp(RAM / (4 x cores), 256, 1024) MiB each.
   */
  coreMemory?: CoreMemoryOptions | false
  /**
   * Distinct program modules one core may import (each stays in its ESM cache for
   * good) before it is retired and replaced once it hosts nothing. Default 1000.
   */
  maxCoreModules?: number
}

/**
 * Start a runtime: one spawnd worker per core, each answering a first ping, the
 * process manager on this thread, and the reincarnation server watching the cores.
 */
export async function boot(opts: BootOptions = {}): Promise<Runtime> {
  const cores = positiveInt('cores', opts.cores, availableParallelism())
  const spin = opts.spin ?? DEFAULT_SPIN
  const hotSpinMicros = opts.hotSpinMicros ?? 20
  if (spin < 0 || !Number.isInteger(spin))
    throw new RangeError('spin must be a non-negative integer')
  if (hotSpinMicros < 0) throw new RangeError('hotSpinMicros must be non-negative')
  const memory = opts.coreMemory === false ? null : coreMemoryLimits(cores, opts.coreMemory)
  const maxCoreModules = positiveInt(
    'maxCoreModules',
    opts.maxCoreModules,
    DEFAULT_CORE_RULES.maxCoreModules,
  )
  const links = new SpawndLinks({
    ringCapacity: positiveInt('ringCapacity', opts.ringCapacity, 65536),
    replyRingCapacity: positiveInt('replyRingCapacity', opts.replyRingCapacity, 1 << 20),
    maxDispatchers: positiveInt('maxDispatchers', opts.maxDispatchers, 1024),
    spin,
    hotSpinMicros,
    heapLimitMb: memory === null ? undefined : memory.heapMb + HARD_HEAP_HEADROOM_MB,
  })
  const events = new RuntimeEvents()
  const pm = new ProcessManager(links, events, {
    maxArgBytes: positiveInt('maxArgBytes', opts.maxArgBytes, 2048),
    maxChildren: positiveInt('maxChildren', opts.maxChildren, 256),
    retainCleaned: positiveInt('retainCleaned', opts.retainCleaned, 10_000),
    maxDepth: positiveInt('maxDepth', opts.maxDepth, 16),
    maxHandles: positiveInt('maxHandles', opts.maxHandles, 64),
  })
  const shutdownTimeoutMs = positiveInt('shutdownTimeoutMs', opts.shutdownTimeoutMs, 5000)
  const bootTimeoutMs = positiveInt('bootTimeoutMs', opts.bootTimeoutMs, 10_000)
  const calls = new Calls(pm, links)
  links.attach({
    exit: (core, domainId, how, code, text) => pm.onExit(core, domainId, how, code, text),
    call: (core, tag, callerId, op, text) => calls.answer(core, tag, callerId, op, text),
    coreDown: (core, health, why) => pm.onCoreDown(core, health, why),
  })
  const kernel = new Kernel(pm, links, shutdownTimeoutMs)
  const up = await withTimeout(
    links.start(cores).then(
      () => 'up' as const,
      (err: unknown) => err,
    ),
    bootTimeoutMs,
  )
  if (up !== 'up') {
    await kernel.shutdown()
    events.end()
    if (up === 'timeout')
      throw new KernelError('TIMEOUT', `spawnds did not answer within ${bootTimeoutMs} ms`)
    throw KernelError.push(up, 'INVALID_SPAWND', 'a spawnd failed to boot')
  }
  const host: SupervisorHost = {
    cores,
    events,
    get isShutdown() {
      return kernel.isShutdown
    },
    spawn: (program, o) => kernel.spawn(program, o),
    kill: (d) => kernel.kill(d),
    wait: (d, o) => kernel.wait(d, o),
    status: (d) => kernel.status(d),
    terminate: (d, graceMs) => kernel.terminate(d, graceMs),
    ping: (core) => kernel.ping(core),
    stats: () => kernel.stats(),
    coreHealth: () => kernel.coreHealth(),
    pollReplies: () => void links.pump.drainAll(),
    failCore: (core, why) => links.terminate(core, why),
    restartCore: (core) => links.restart(core),
    coreLink: (core) => {
      const s = links.spawnds[core]
      return s === undefined || s.health !== 'up' ? null : s
    },
    retireCore: (core) => links.retire(core),
  }
  let supervisor: Supervisor
  try {
    supervisor = new Supervisor(host, opts.supervisor, memory, {
      ...DEFAULT_CORE_RULES,
      maxCoreModules,
    })
  } catch (err) {
    await kernel.shutdown()
    events.end()
    throw err
  }
  return new Runtime(kernel, events, supervisor)
}
