/**
 * Services: the reincarnation server's table of labelled, supervised domains
 * (MINIX 3's RS, with Erlang/OTP's restart policies and PM2's restart rules).
 *
 *  - up(label, program, opts) starts one; with `initTimeoutMs` it must call
 *    ctx.ready() in time (RS's init-ready handshake), else the start failed.
 *  - When its domain ends, the policy decides: `permanent` always restarts,
 *    `transient` only after an abnormal end (non-zero exit, a throw, a kill it
 *    did not ask for, its core failing), `temporary` never. Restarts are paced by
 *    the MINIX backoff and bounded by the OTP intensity limit, then it gives up
 *    (state 'failed', a 'gave-up' event).
 *  - With `heartbeatMs`, a domain that skips more than `maxSkippedBeats` beats
 *    (Genode counts them) is judged hung, killed, and restarted by its policy.
 *  - down / restart / refresh / lookup, as RS's `service` command; shutdown stops
 *    services in reverse start order, each gracefully, killed after its timeout.
 *
 * Each restart is a new domain (new id, new capability): lookup(label) always
 * names the current one.
 */
import { KernelError } from '../errors.js'
import type { DomainCap } from '../kernel/cap.js'
import type { WaitResult } from '../kernel/domain_table.js'
import { programUrl } from '../kernel/args.js'
import type { SupervisorHost } from './host.js'
import { ReadyWaits } from './ready.js'
import { checkUpdateOptions, updateService, type UpdateOptions } from './update.js'
import {
  checkLabel,
  checkServiceOptions,
  Service,
  type ServiceInfo,
  type ServiceOptions,
} from './service.js'

export class Services {
  private readonly table = new Map<string, Service>()
  /** Labels in start order (shutdown walks it backwards). */
  private order: string[] = []
  /** Incarnations waiting for their ctx.ready() (ready.ts). */
  private readonly ready: ReadyWaits
  private readonly beatTimer: NodeJS.Timeout
  private stopped = false

  constructor(
    private readonly rt: SupervisorHost,
    private readonly periodMs: number,
  ) {
    this.ready = new ReadyWaits(rt)
    this.beatTimer = setInterval(() => this.checkBeats(), periodMs)
    this.beatTimer.unref()
  }

  /** Start a supervised service; resolves once it runs (and, with initTimeoutMs, is ready). */
  up(label: string, program: string | URL, opts?: ServiceOptions): Promise<ServiceInfo> {
    try {
      checkLabel(label)
      // Every core, remote ones too (rt.cores counts only the local ones here).
      const o = checkServiceOptions(opts, this.rt.coreHealth().length)
      const url = programUrl(program)
      if (this.stopped || this.rt.isShutdown)
        throw new KernelError('SHUTDOWN', 'the runtime is shut down')
      if (this.table.has(label))
        throw new KernelError('SERVICE_EXISTS', `service '${label}' is already up`)
      const svc = new Service(label, url, o, o.restart ?? 'permanent', this.periodMs)
      this.table.set(label, svc)
      this.order.push(label)
      return new Promise((resolve, reject) => {
        svc.firstStart = { resolve, reject }
        void this.start(svc)
      })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** Stop a service for good (gracefully, then killed after stopTimeoutMs). */
  async down(label: string): Promise<void> {
    const svc = this.get(label)
    svc.goingDown ??= this.takeDown(svc)
    return svc.goingDown
  }

  private async takeDown(svc: Service): Promise<void> {
    const label = svc.label
    svc.state = 'stopping'
    svc.generation++
    if (svc.timer !== null) clearTimeout(svc.timer)
    svc.timer = null
    await this.stopDomain(svc)
    svc.state = 'stopped'
    this.table.delete(label)
    this.order = this.order.filter((l) => l !== label)
    svc.firstStart?.reject(new KernelError('SERVICE_NOTFOUND', `service '${label}' was taken down`))
    svc.firstStart = null
    this.rt.events.publish({ type: 'service-down', label })
  }

  /** Stop the current incarnation and start a fresh one now (backoff reset). */
  async restart(label: string): Promise<ServiceInfo> {
    return this.reincarnate(this.get(label), false)
  }

  /** Like restart, but re-import the program from disk (a new module instance). */
  async refresh(label: string): Promise<ServiceInfo> {
    return this.reincarnate(this.get(label), true)
  }

  /**
   * Replace the running incarnation's code with `program`, its state and sessions
   * carried over (MINIX 3's RS_UPDATE; update.ts). Resolves once the new one serves;
   * rejects UPDATE_FAILED, with the old one serving on, when it cannot.
   */
  update(label: string, program: string | URL, opts?: UpdateOptions): Promise<ServiceInfo> {
    try {
      checkLabel(label)
      const svc = this.get(label)
      return updateService(svc, programUrl(program), checkUpdateOptions(opts, svc), {
        host: this.rt,
        awaitReady: (d, ms, ended) => this.ready.wait(d, ms, ended),
        adopt: (d, ended) => {
          // The new incarnation is the service now: the old one's watcher stands down.
          const gen = ++svc.generation
          svc.domain = d
          svc.startedAt = Date.now()
          void this.watch(svc, gen, ended)
        },
        info: () => this.info(svc),
      })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  lookup(label: string): ServiceInfo | undefined {
    checkLabel(label)
    const svc = this.table.get(label)
    return svc === undefined ? undefined : this.info(svc)
  }

  list(): ServiceInfo[] {
    return this.order.map((l) => this.info(this.table.get(l)!))
  }

  /** Shutdown: every service down, in reverse start order. */
  async stopAll(): Promise<void> {
    for (const label of [...this.order].reverse()) {
      if (this.table.has(label)) await this.down(label).catch(() => undefined)
    }
    this.stopped = true
    clearInterval(this.beatTimer)
    this.ready.stop()
  }

  // ------------------------------------------------------------------ internals

  private get(label: string): Service {
    checkLabel(label)
    const svc = this.table.get(label)
    if (svc === undefined) throw new KernelError('SERVICE_NOTFOUND', `no service '${label}'`)
    return svc
  }

  private info(svc: Service): ServiceInfo {
    return {
      label: svc.label,
      program: svc.url,
      version: svc.updates,
      state: svc.state,
      policy: svc.policy,
      domain: svc.domain,
      restarts: svc.restarts,
      lastExit: svc.lastExit,
    }
  }

  private async reincarnate(svc: Service, refresh: boolean): Promise<ServiceInfo> {
    const goneDown = (): KernelError =>
      new KernelError('SERVICE_NOTFOUND', `service '${svc.label}' is being taken down`)
    if (svc.goingDown !== null) throw goneDown()
    svc.generation++
    if (svc.timer !== null) clearTimeout(svc.timer)
    svc.timer = null
    svc.state = 'restarting'
    await this.stopDomain(svc)
    // Taken down while the old incarnation stopped: start nothing it would not stop.
    if (svc.goingDown !== null) throw goneDown()
    svc.pacer.reset()
    if (refresh) svc.version++
    return new Promise((resolve, reject) => {
      const prev = svc.firstStart
      svc.firstStart = {
        resolve: (i) => {
          prev?.resolve(i)
          resolve(i)
        },
        reject: (e) => {
          prev?.reject(e)
          reject(e)
        },
      }
      void this.start(svc)
    })
  }

  private async stopDomain(svc: Service): Promise<void> {
    const d = svc.domain
    svc.domain = null
    if (d === null) return
    try {
      svc.lastExit = await this.rt.terminate(d, svc.opts.stopTimeoutMs ?? 2000)
    } catch {
      // Already gone (its core failed, or it was reaped): nothing left to stop.
    }
  }

  private coreFor(svc: Service): number | undefined {
    const want = svc.opts.core
    if (want === undefined) return undefined
    return this.rt.coreHealth()[want] === 'up' ? want : undefined
  }

  /** One incarnation: spawn, handshake, then watch it until it ends. */
  private async start(svc: Service): Promise<void> {
    const gen = ++svc.generation
    svc.state = svc.restarts === 0 && svc.firstStart !== null ? 'starting' : 'restarting'
    let d: DomainCap
    try {
      d = await this.rt.spawn(svc.programUrl(), {
        core: this.coreFor(svc),
        argv: svc.opts.argv,
        env: svc.opts.env,
        // Its service label is its identity: routes name it, clients' sessions reach it.
        label: svc.label,
      })
    } catch (err) {
      if (gen !== svc.generation) return
      // A program that does not load will not load next time either.
      if (KernelError.is(err, 'SHUTDOWN')) return this.giveUp(svc, err as Error)
      // Nor will arguments it refused: a wrong kind of argv or env (checked at up,
      // but a service's options may be changed by its owner), or too many bytes.
      if (
        KernelError.is(err, 'LOAD') ||
        KernelError.is(err, 'ARGS_TOO_LARGE') ||
        KernelError.is(err, 'FRAME_TOO_LARGE') ||
        err instanceof TypeError ||
        err instanceof RangeError
      ) {
        this.giveUp(svc, err as Error)
        this.rt.events.publish({
          type: 'gave-up',
          label: svc.label,
          restarts: svc.restarts,
          withinMs: 0,
        })
        return
      }
      return this.failed(svc, `spawn failed: ${(err as Error).message}`)
    }
    if (gen !== svc.generation) {
      // Taken down (or restarted) while this incarnation was being spawned.
      await this.rt.kill(d).catch(() => undefined)
      return
    }
    svc.domain = d
    svc.startedAt = Date.now()
    const ended = this.rt.wait(d, { reap: true })
    if (svc.opts.initTimeoutMs !== undefined) {
      const ready = await this.ready.wait(d, svc.opts.initTimeoutMs, ended)
      if (gen !== svc.generation) return
      if (ready !== 'ready') {
        if (ready === 'timeout') await this.rt.kill(d).catch(() => undefined)
        svc.lastExit = await ended
        svc.domain = null
        return this.failed(
          svc,
          ready === 'timeout'
            ? `not ready within ${svc.opts.initTimeoutMs} ms`
            : 'ended before it was ready',
        )
      }
    }
    svc.state = 'running'
    this.rt.events.publish({ type: 'service-up', label: svc.label, domainId: d.id })
    if (svc.restarts > 0) {
      this.rt.events.publish({
        type: 'restarted',
        label: svc.label,
        domainId: d.id,
        attempt: svc.restarts,
      })
    }
    svc.firstStart?.resolve(this.info(svc))
    svc.firstStart = null
    return this.watch(svc, gen, ended)
  }

  /** Watch an incarnation until it ends, then apply the restart policy. */
  private async watch(svc: Service, gen: number, ended: Promise<WaitResult>): Promise<void> {
    const r = await ended
    if (gen !== svc.generation) return
    svc.lastExit = r
    svc.domain = null
    if (r.status === 'running') return
    const abnormal = r.reason !== 'exited' || r.exitCode !== 0
    if (svc.policy === 'temporary' || (svc.policy === 'transient' && !abnormal)) {
      svc.state = 'stopped'
      return
    }
    this.failed(svc, `ended: ${r.reason} (exit code ${r.exitCode})`)
  }

  /** A failure of the current incarnation: restart after the backoff, or give up. */
  private failed(svc: Service, why: string): void {
    if (this.stopped || this.rt.isShutdown) return
    const now = Date.now()
    const v = svc.pacer.failed(now, svc.startedAt === 0 ? 0 : now - svc.startedAt)
    if (v.giveUp) {
      // State first, then the event: a listener reading lookup() must see 'failed'.
      this.giveUp(
        svc,
        new KernelError(
          'GAVE_UP',
          `service '${svc.label}' gave up after ${v.restarts} restarts: ${why}`,
        ),
      )
      this.rt.events.publish({
        type: 'gave-up',
        label: svc.label,
        restarts: v.restarts,
        withinMs: svc.pacer.withinMs,
      })
      return
    }
    svc.state = 'restarting'
    this.rt.events.publish({
      type: 'restart-scheduled',
      label: svc.label,
      delayMs: v.delayMs,
      attempt: v.attempt,
      why,
    })
    const gen = svc.generation
    svc.timer = setTimeout(() => {
      svc.timer = null
      if (gen !== svc.generation || this.stopped || this.rt.isShutdown) return
      svc.restarts++
      void this.start(svc)
    }, v.delayMs)
  }

  private giveUp(svc: Service, err: Error): void {
    svc.state = 'failed'
    svc.domain = null
    svc.firstStart?.reject(err)
    svc.firstStart = null
  }

  /** Genode-style heartbeat accounting for services that asked for it. */
  private checkBeats(): void {
    if (this.stopped || this.rt.isShutdown) return
    for (const svc of this.table.values()) {
      const every = svc.opts.heartbeatMs
      if (every === undefined || svc.state !== 'running' || svc.domain === null) continue
      // Judged once per incarnation: its kill is on the way.
      if (svc.hungJudged === svc.generation) continue
      let ago: number
      try {
        ago = this.rt.status(svc.domain).lastBeatAgoMs
      } catch {
        continue
      }
      const skipped = Math.floor(ago / every)
      if (skipped > (svc.opts.maxSkippedBeats ?? 3)) {
        this.rt.events.publish({
          type: 'domain-hung',
          domainId: svc.domain.id,
          label: svc.label,
          skippedBeats: skipped,
        })
        svc.hungJudged = svc.generation
        // The kill ends the incarnation abnormally; start() applies the policy.
        void this.rt.kill(svc.domain).catch(() => undefined)
      }
    }
  }
}

export type { RestartPolicy, ServiceInfo, ServiceOptions, ServiceState } from './service.js'
