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
import type { LinkHandlers } from '../link/link.js'
import { AllCores } from '../remote/all_cores.js'
import { remoteConfig, type RemoteOptions } from '../remote/options.js'
import { RemoteLinks } from '../remote/remote_links.js'
import { withTimeout } from '../link/timers.js'
import { DEFAULT_EVENT_BUFFER } from '../kernel/event_iterator.js'
import { intOption, msOption, numberOption, optionsObject } from '../kernel/options.js'
import { Calls } from '../kernel/calls.js'
import { Kernel } from '../kernel/kernel.js'
import { ProcessManager } from '../kernel/process_manager.js'
import {
  checkSupervisorOptions,
  coreMemoryLimits,
  DEFAULT_CORE_RULES,
  HARD_HEAP_HEADROOM_MB,
  Supervisor,
  type CoreMemoryOptions,
  type SupervisorHost,
  type SupervisorOptions,
} from '../supervisor/index.js'
import { execArgvOption } from './exec_argv.js'
import { ServiceRegistry } from '../kernel/service_registry.js'
import { DEFAULT_ANSWER_MS, SessionTable } from '../kernel/sessions.js'
import { SessionCalls } from '../kernel/session_calls.js'
import { SessionUpdates } from '../kernel/session_update.js'
import { RootSessions } from '../kernel/session_root.js'
import { DEFAULT_ROOT_QUOTA, quotaArg } from '../session/quota.js'
import type { Route } from '../session/route.js'
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
  /** Events each `for await` over rt.events keeps for its reader (the oldest dropped). Default 1024. */
  eventBuffer?: number
  /**
   * Node flags of the spawnd workers. Default: the parent's, without the flags of
   * its main script (-e, --input-type, --test, --inspect, ...; see exec_argv.ts).
   */
  execArgv?: string[]
  /**
   * Each core's memory budget, enforced by the supervisor's memory watcher (a core
   * past it fails: its domains end 'core-failed' with a CoreOutOfMemory error, and
   * it restarts); the worker's hard V8 limit is heapMb + 1536 MiB. `false`: neither
   * (Node's default heap limit, which is per process abort-prone). Default: heapMb
   * and externalMb clamp(RAM / (4 x cores), 256, 1024) MiB each.
   */
  coreMemory?: CoreMemoryOptions | false
  /**
   * The runtime's quota (the root account every domain's and session's quota comes
   * from): ring-memory bytes and handles. Default 256 MiB and 65536.
   */
  quota?: { bytes?: number; handles?: number }
  /**
   * How long a server's open, close and upgrade handlers, and a parent's or child's
   * quota handlers, may take to answer: past it an open or a quota request fails
   * (SERVICE_DENIED / TIMEOUT) and a close goes on without it. Default 10 s.
   */
  sessionAnswerMs?: number
  /** Session routes (rt.route adds more later): by service and client label to a server label. */
  routes?: Route[]
  /**
   * Distinct program modules one core may import (each stays in its ESM cache for
   * good) before it is retired and replaced once it hosts nothing. Default 1000.
   */
  maxCoreModules?: number
  /** Remote cores on other hosts, numbered after the local ones (README "Remote cores"). */
  remote?: RemoteOptions
}

/** The options boot reads: any other key is refused (a typo would do nothing). */
const BOOT_OPTIONS = [
  'cores',
  'ringCapacity',
  'replyRingCapacity',
  'maxDispatchers',
  'spin',
  'hotSpinMicros',
  'maxArgBytes',
  'maxChildren',
  'retainCleaned',
  'maxDepth',
  'maxHandles',
  'bootTimeoutMs',
  'shutdownTimeoutMs',
  'supervisor',
  'eventBuffer',
  'execArgv',
  'coreMemory',
  'maxCoreModules',
  'quota',
  'routes',
  'sessionAnswerMs',
  'remote',
] as const

/**
 * Least bytes of a ring: a frame is a 24-byte header and the ring's 8-byte framing,
 * and a request or reply carries text (a program's URL, an error's description);
 * 256 holds a header and a 200-byte text. Below it a spawn of an ordinary path
 * could never be sent.
 */
export const MIN_RING_CAPACITY = 256
/** Most cores (spawnd workers) one runtime starts. */
export const MAX_CORES = 1024
/** Most bytes of a ring (the ring layer's limit). */
export const MAX_RING_CAPACITY = 2 ** 30

function ringCapacity(name: string, v: unknown, dflt: number): number {
  const c = intOption(name, v, dflt, MIN_RING_CAPACITY, MAX_RING_CAPACITY)
  if ((c & (c - 1)) !== 0) throw new RangeError(`${name} must be a power of two, got ${c}`)
  return c
}

/**
 * Start a runtime: one spawnd worker per core, each answering a first ping, the
 * process manager on this thread, and the reincarnation server watching the cores.
 */
export async function boot(opts?: BootOptions): Promise<Runtime> {
  const o = optionsObject('boot options', opts, BOOT_OPTIONS)
  // Every option is checked before anything is made: a refusal leaves nothing behind.
  const cores = intOption('cores', o.cores, availableParallelism(), 1, MAX_CORES)
  const memory =
    o.coreMemory === false
      ? null
      : coreMemoryLimits(
          cores,
          optionsObject('coreMemory', o.coreMemory, [
            'heapMb',
            'externalMb',
            'processRssMb',
            'pollMs',
          ]),
        )
  const maxCoreModules = intOption(
    'maxCoreModules',
    o.maxCoreModules,
    DEFAULT_CORE_RULES.maxCoreModules,
  )
  const linkConfig = {
    ringCapacity: ringCapacity('ringCapacity', o.ringCapacity, 65536),
    replyRingCapacity: ringCapacity('replyRingCapacity', o.replyRingCapacity, 1 << 20),
    maxDispatchers: intOption('maxDispatchers', o.maxDispatchers, 1024),
    spin: intOption('spin', o.spin, DEFAULT_SPIN, 0),
    // Microseconds the main thread may spin per flush: at most a second.
    hotSpinMicros: numberOption('hotSpinMicros', o.hotSpinMicros, 20, 0, 1_000_000),
    execArgv: execArgvOption(o.execArgv),
    heapLimitMb: memory === null ? undefined : memory.heapMb + HARD_HEAP_HEADROOM_MB,
  }
  const limits = {
    maxArgBytes: intOption('maxArgBytes', o.maxArgBytes, 2048),
    maxChildren: intOption('maxChildren', o.maxChildren, 256),
    retainCleaned: intOption('retainCleaned', o.retainCleaned, 10_000),
    maxDepth: intOption('maxDepth', o.maxDepth, 16),
    maxHandles: intOption('maxHandles', o.maxHandles, 64),
  }
  const eventBuffer = intOption('eventBuffer', o.eventBuffer, DEFAULT_EVENT_BUFFER)
  const shutdownTimeoutMs = msOption('shutdownTimeoutMs', o.shutdownTimeoutMs, 5000)
  const bootTimeoutMs = msOption('bootTimeoutMs', o.bootTimeoutMs, 10_000)
  const supervisorOpts = checkSupervisorOptions(o.supervisor)
  const rootQuota = quotaArg(o.quota, DEFAULT_ROOT_QUOTA, 'quota')
  const sessionAnswerMs = msOption('sessionAnswerMs', o.sessionAnswerMs, DEFAULT_ANSWER_MS)
  const registry = new ServiceRegistry()
  if (o.routes !== undefined) {
    if (!Array.isArray(o.routes)) throw new TypeError('routes must be an array of routes')
    for (const r of o.routes as unknown[]) registry.addRoute(r)
  }
  const remoteOpts = o.remote === undefined ? null : remoteConfig(o.remote, bootTimeoutMs)
  const local = new SpawndLinks(linkConfig)
  const remote = remoteOpts === null ? null : new RemoteLinks(remoteOpts, cores)
  const links = remote === null ? local : new AllCores(local, remote)
  const events = new RuntimeEvents(eventBuffer)
  const pm = new ProcessManager(links, events, limits, rootQuota)
  const sessions = new SessionTable(links, pm.accounts, registry, (id) => pm.entry(id), events)
  sessions.answerMs = sessionAnswerMs
  pm.stoppedHook = (e) => sessions.domainStopped(e)
  const updates = new SessionUpdates(pm, links, sessions)
  sessions.updating = (label) => updates.active(label)
  const sessionCalls = new SessionCalls(pm, links, sessions, updates)
  const calls = new Calls(pm, links, sessions, sessionCalls)
  const handlers: LinkHandlers = {
    exit: (core, domainId, how, code, text) => pm.onExit(core, domainId, how, code, text),
    call: (core, tag, callerId, op, text) => calls.answer(core, tag, callerId, op, text),
    coreDown: (core, health, why) => pm.onCoreDown(core, health, why),
  }
  local.attach(handlers)
  if (remote !== null) {
    remote.handlers = handlers
    remote.onNode = (ev) => events.publish(ev)
  }
  const kernel = new Kernel(pm, links, shutdownTimeoutMs)
  const up = await withTimeout(
    // A worker Node refuses (a bad execArgv) throws at once: a refusal like any other.
    Promise.resolve()
      .then(() => local.start(cores))
      .then(() => remote?.start(bootTimeoutMs))
      .then(
        () => 'up' as const,
        (err: unknown) => err,
      ),
    // The named nodes get their own bootTimeoutMs once the local cores are up.
    remote === null ? bootTimeoutMs : 2 * bootTimeoutMs,
  )
  if (up !== 'up') {
    await kernel.shutdown()
    events.end()
    if (up === 'timeout')
      throw new KernelError('TIMEOUT', `spawnds did not answer within ${bootTimeoutMs} ms`)
    if (up instanceof KernelError && up.code === 'REMOTE_UNREACHABLE') throw up
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
    pollReplies: () => links.pollReplies(),
    failCore: (core, why) => links.terminate(core, why),
    restartCore: (core) => links.restart(core),
    coreLink: (core) => links.coreLink(core),
    retireCore: (core) => links.retire(core),
    update: {
      prepare: (old, ms) => updates.prepare(pm.lookup(old), ms),
      adopt: (old, neu) => updates.adopt(pm.lookup(old), pm.lookup(neu)),
      commit: (old, neu) => updates.commit(pm.lookup(old), pm.lookup(neu)),
      rollback: async (old, neu) => {
        const o = pm.entry(old.id)
        const n = neu === null ? null : (pm.entry(neu.id) ?? null)
        if (o !== undefined) await updates.rollback(o, n)
      },
      end: (label) => updates.end(label),
    },
  }
  let supervisor: Supervisor
  try {
    supervisor = new Supervisor(host, supervisorOpts, memory, {
      ...DEFAULT_CORE_RULES,
      maxCoreModules,
    })
  } catch (err) {
    await kernel.shutdown()
    events.end()
    throw err
  }
  const root = new RootSessions(pm, sessions, sessionCalls, () => kernel.isShutdown)
  return new Runtime(kernel, events, supervisor, root, () => sessions.closeAll())
}
