/**
 * One worker of a pool, as the main thread keeps it: a supervised service (the
 * domain program in worker.ts) and the client end of the one session to it that
 * every task to this worker travels on. The reincarnation server restarts the
 * domain when it dies; the worker then opens a session to the new incarnation.
 *
 *   starting --(service up, session open)--> up --(session ended, not by us)--> down
 *   down --(service-up event: reopened)--> up        down --(gave up)--> failed
 *   any --(stop())--> stopped
 */
import { KernelError } from '../errors.js'
import type { Runtime } from '../runtime/runtime.js'
import type { Session } from '../session/session.js'
import type { SessionEndReason } from '../session/end_reason.js'

const WORKER_PROGRAM = new URL('./worker.js', import.meta.url)

export type PoolWorkerState = 'starting' | 'up' | 'down' | 'failed' | 'stopped'

/** What a worker tells its pool. */
export interface PoolWorkerHost {
  /** It can take tasks (again). */
  workerUp(w: PoolWorker): void
  /** Its session ended under it (its in-flight calls reject on their own). */
  workerLost(w: PoolWorker, why: SessionEndReason | Error): void
}

export interface PoolWorkerConfig {
  label: string
  core: number
  filename: string | null
  name: string
  capacity: number
}

export class PoolWorker {
  state: PoolWorkerState = 'starting'
  /** The open session, while up. */
  session: Session | null = null
  /** Tasks sent and not answered. */
  inFlight = 0
  /** Restarts seen (each reopened session after a lost one). */
  restarts = 0
  idleTimer: NodeJS.Timeout | null = null
  #opening: Promise<void> | null = null

  constructor(
    readonly rt: Runtime,
    readonly config: PoolWorkerConfig,
    private readonly host: PoolWorkerHost,
  ) {}

  get label(): string {
    return this.config.label
  }

  /** Start the service and open its session; rejects if either fails. */
  async start(): Promise<void> {
    await this.rt.services.up(this.label, WORKER_PROGRAM, {
      core: this.config.core,
      argv: [this.label, this.config.filename ?? '', this.config.name],
      restart: 'permanent',
      initTimeoutMs: 30_000,
      stopTimeoutMs: 1000,
    })
    await this.open()
  }

  /** The service is up again (a new incarnation): open a session to it. */
  reopen(): void {
    if (this.state !== 'down' || this.#opening !== null) return
    this.open().catch((err: unknown) => {
      // Its new incarnation died again before we reached it: the next service-up retries.
      if (this.state === 'starting') this.state = 'down'
      void err
    })
  }

  private open(): Promise<void> {
    const p = (async () => {
      this.state = 'starting'
      const s = await this.rt.session(this.label, {
        label: 'pool',
        capacity: this.config.capacity,
      })
      if (this.state !== 'starting') {
        // Stopped while it opened.
        await s.close().catch(() => undefined)
        return
      }
      this.session = s
      this.state = 'up'
      void s.closed.then((why) => this.lost(s, why))
      this.host.workerUp(this)
    })()
    this.#opening = p
    return p.finally(() => {
      if (this.#opening === p) this.#opening = null
    })
  }

  private lost(s: Session, why: SessionEndReason): void {
    if (this.session !== s || this.state === 'stopped') return
    this.session = null
    this.state = 'down'
    this.restarts++
    this.host.workerLost(this, why)
  }

  /** The supervisor gave up on it. */
  gaveUp(): void {
    if (this.state === 'stopped') return
    this.state = 'failed'
    this.host.workerLost(this, new KernelError('GAVE_UP', `worker ${this.label} keeps failing`))
  }

  /** Stop it for good: close its session, take its service down. */
  async stop(): Promise<void> {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer)
    this.idleTimer = null
    this.state = 'stopped'
    const s = this.session
    this.session = null
    if (s !== null) await s.close().catch(() => undefined)
    await this.#opening?.catch(() => undefined)
    await this.rt.services.down(this.label).catch(() => undefined)
  }
}
