/**
 * Core supervision: every spawnd is pinged once a period; a core with a ping
 * outstanding that has not answered anything for more than two periods is hung
 * (MINIX RS: dead when now - lastAlive > 2 x period with a ping pending). A
 * domain stuck in a synchronous loop freezes its whole worker, so this is how it
 * shows. A hung core's worker is ended; a dead one (uncaught error, process.exit
 * inside a domain, terminate() from outside) is the same fault. Either way a fresh
 * spawnd is started on the same core number, paced by the backoff and intensity
 * limits, and the core is given up on past them.
 *
 * Two more rules, read each period:
 *  - protocol health: a core that answers pings but whose last `protocolFailures`
 *    replies in a row were PROTOCOL (or malformed frames) cannot serve anyone (a
 *    domain broke something its spawnd relies on): it is failed and restarted too;
 *  - the module bound: every distinct program URL stays in its worker's ESM cache
 *    for good, so a core that has imported more than `maxCoreModules` of them is
 *    retired and replaced by a fresh spawnd as soon as it hosts nothing (not a
 *    fault: no domain ends, no backoff).
 */
import type { KernelEvent } from '../kernel/events.js'
import { G_MODULES, gauge, idleAfter } from '../protocol/core_gauges.js'
import { RestartPacer, type RestartLimits } from './backoff.js'
import type { SupervisorHost } from './host.js'

interface CoreWatch {
  pinging: boolean
  pacer: RestartPacer
  upSince: number
  timer: NodeJS.Timeout | null
  /** A fresh spawnd is starting and has not answered its first ping: not judged yet. */
  booting: boolean
  gaveUp: boolean
}

/** The health rules' bounds (boot options). */
export interface CoreRules {
  /** PROTOCOL replies in a row that make a core unhealthy. Default 3. */
  protocolFailures: number
  /** Distinct program modules a core may import before it is retired. Default 1000. */
  maxCoreModules: number
}

export const DEFAULT_CORE_RULES: CoreRules = { protocolFailures: 3, maxCoreModules: 1000 }

export class CoreMonitor {
  private readonly watches: CoreWatch[] = []
  private readonly tick: NodeJS.Timeout
  private stopped = false
  private readonly onFailed: (ev: KernelEvent) => void

  constructor(
    private readonly rt: SupervisorHost,
    private readonly periodMs: number,
    private readonly limits: RestartLimits,
    private readonly rules: CoreRules = DEFAULT_CORE_RULES,
  ) {
    this.onFailed = (ev) => {
      if (ev.type === 'core-failed') this.scheduleRestart(ev.core)
    }
    rt.events.on('core-failed', this.onFailed)
    this.tick = setInterval(() => this.check(), periodMs)
    // The runtime's own handle keeps the process alive; this timer need not.
    this.tick.unref()
  }

  /** A core's watch, made when first needed: remote nodes add cores as they join. */
  private watch(core: number): CoreWatch {
    let w = this.watches[core]
    if (w === undefined) {
      w = {
        pinging: false,
        pacer: new RestartPacer(this.periodMs, this.limits),
        upSince: Date.now(),
        timer: null,
        booting: false,
        gaveUp: false,
      }
      this.watches[core] = w
    }
    return w
  }

  private check(): void {
    if (this.stopped || this.rt.isShutdown) return
    // Read what has arrived first: a busy main thread must not mistake its own
    // lateness for a silent core.
    this.rt.pollReplies()
    const stats = this.rt.stats()
    for (const s of stats) {
      const w = this.watch(s.core)
      // A booting worker is silent until it has loaded (slow on a loaded box): its
      // first ping, from restartCore, is its judge; it fails if the worker dies.
      if (s.health !== 'up' || w.booting) continue
      if (s.protocolFailures >= this.rules.protocolFailures) {
        this.rt.events.publish({
          type: 'core-unhealthy',
          core: s.core,
          protocolFailures: s.protocolFailures,
        })
        void this.rt.failCore(s.core, `unhealthy: ${s.protocolFailures} PROTOCOL replies in a row`)
        continue
      }
      if (this.retireIfDue(s.core, w)) continue
      if (w.pinging && s.lastSeenAgoMs > 2 * this.periodMs) {
        this.rt.events.publish({ type: 'core-hung', core: s.core, silentMs: s.lastSeenAgoMs })
        void this.rt.failCore(s.core, `hung: silent for ${s.lastSeenAgoMs} ms`)
        continue
      }
      if (!w.pinging) {
        w.pinging = true
        this.rt.ping(s.core).then(
          () => {
            w.pinging = false
          },
          () => {
            w.pinging = false
          },
        )
      }
    }
  }

  /** Retire a core past the module bound that hosts nothing (see the header). */
  private retireIfDue(core: number, w: CoreWatch): boolean {
    const link = this.rt.coreLink(core)
    if (link === null) return false
    const modules = gauge(link.gauges, G_MODULES)
    if (modules <= this.rules.maxCoreModules || !idleAfter(link.gauges, link.requests)) {
      return false
    }
    w.booting = true
    w.pinging = false
    this.rt.events.publish({ type: 'core-retired', core, modules })
    this.rt.retireCore(core).then(
      () => {
        w.booting = false
      },
      () => {
        w.booting = false
      },
    )
    return true
  }

  private scheduleRestart(core: number): void {
    const w = this.watch(core)
    if (this.stopped || this.rt.isShutdown || w.gaveUp || w.timer !== null) return
    w.pinging = false
    const now = Date.now()
    const v = w.pacer.failed(now, now - w.upSince)
    if (v.giveUp) {
      w.gaveUp = true
      this.rt.events.publish({
        type: 'gave-up',
        label: `core:${core}`,
        restarts: v.restarts,
        withinMs: w.pacer.withinMs,
      })
      return
    }
    this.rt.events.publish({
      type: 'restart-scheduled',
      label: `core:${core}`,
      delayMs: v.delayMs,
      attempt: v.attempt,
      why: 'core failed',
    })
    w.timer = setTimeout(() => {
      w.timer = null
      if (this.stopped || this.rt.isShutdown) return
      w.booting = true
      this.rt.restartCore(core).then(
        () => {
          w.booting = false
          w.upSince = Date.now()
          this.rt.events.publish({ type: 'core-restarted', core, attempt: v.attempt })
        },
        () => {
          w.booting = false
          // The fresh spawnd failed too: that is another failure of the core.
          if (this.rt.coreHealth()[core] === 'failed') this.scheduleRestart(core)
        },
      )
    }, v.delayMs)
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.tick)
    this.rt.events.off('core-failed', this.onFailed)
    for (const w of this.watches) if (w !== undefined && w.timer !== null) clearTimeout(w.timer)
  }
}
