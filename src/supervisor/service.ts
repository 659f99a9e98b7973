/**
 * One service of the reincarnation server's table: its configuration, the
 * current incarnation, and its restart pacing. The table (services.ts) drives it.
 */
import type { DomainCap } from '../kernel/cap.js'
import type { WaitResult } from '../kernel/domain_table.js'
import { KernelError } from '../errors.js'
import { spawnArgs } from '../kernel/args.js'
import { describe, intOption, msOption, optionsObject } from '../kernel/options.js'
import { pickRestartLimits, RESTART_LIMITS, RestartPacer, type RestartLimits } from './backoff.js'

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
  /** Live updates so far: with `program` (which an update replaces), the version that runs. */
  version: number
  /** The current incarnation, or null between incarnations. */
  domain: DomainCap | null
  /** Restarts so far (by policy, not by restart()/refresh()). */
  restarts: number
  /** How the last incarnation ended. */
  lastExit: WaitResult | null
}

/** The options a service reads: any other key is refused (a typo would do nothing). */
const SERVICE_OPTIONS = [
  'core',
  'argv',
  'env',
  'restart',
  'initTimeoutMs',
  'heartbeatMs',
  'maxSkippedBeats',
  'stopTimeoutMs',
  ...RESTART_LIMITS,
]

export function checkLabel(label: unknown): asserts label is string {
  if (typeof label !== 'string' || label.length === 0)
    throw new TypeError(`a service label is a non-empty string, got ${describe(label)}`)
}

/**
 * A service's options, checked at up() so a mistake is refused at once, naming
 * the option, rather than found by every restart: a wrong argv would otherwise
 * fail five restarts and give up.
 */
export function checkServiceOptions(
  opts: ServiceOptions | undefined,
  cores: number,
): ServiceOptions {
  const o = optionsObject('service options', opts, SERVICE_OPTIONS)
  const policy = o.restart ?? 'permanent'
  if (policy !== 'permanent' && policy !== 'transient' && policy !== 'temporary') {
    throw new TypeError(
      `restart policy must be permanent, transient or temporary, got ${describe(policy)}`,
    )
  }
  if (o.core !== undefined) checkCore(o.core, cores)
  // Their kinds now; their size (maxArgBytes) at each spawn, where a refusal gives up.
  const { argv, env } = spawnArgs(
    o.argv === undefined ? [] : o.argv,
    o.env === undefined ? {} : o.env,
    Number.MAX_SAFE_INTEGER,
  )
  const checked: ServiceOptions = {
    ...pickRestartLimits('service options', o),
    restart: policy,
    argv,
    env,
    maxSkippedBeats: intOption('maxSkippedBeats', o.maxSkippedBeats, 3, 0),
  }
  if (o.core !== undefined) checked.core = o.core
  for (const k of ['initTimeoutMs', 'heartbeatMs', 'stopTimeoutMs'] as const) {
    if (o[k] !== undefined) checked[k] = msOption(k, o[k], 0)
  }
  return checked
}

/** A service's preferred core must exist (it may be down now; then another is used). */
function checkCore(core: unknown, cores: number): void {
  if (typeof core !== 'number' || !Number.isInteger(core))
    throw new KernelError('INVALID_SPAWND', `core must be an integer, got ${describe(core)}`)
  if (core < 0 || core >= cores)
    throw new KernelError('INVALID_SPAWND', `no spawnd on core ${core} (cores 0..${cores - 1})`)
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
  /** Live updates so far. */
  updates = 0
  /** A live update is in progress (update.ts): a second one is refused. */
  updating = false
  /** The down() in progress: a second down joins it. */
  goingDown: Promise<void> | null = null

  constructor(
    readonly label: string,
    /** The program's URL (a live update replaces it). */
    public url: string,
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
