/**
 * The init-ready handshake (MINIX RS): waiting for an incarnation's ctx.ready(),
 * bounded, and ended early when the incarnation ends. One 'ready' listener serves
 * every wait (a map by domain id), not one per incarnation.
 */
import type { DomainCap } from '../kernel/cap.js'
import type { WaitResult } from '../kernel/domain_table.js'
import type { KernelEvent } from '../kernel/events.js'
import type { SupervisorHost } from './host.js'

export type ReadyOutcome = 'ready' | 'ended' | 'timeout'

export class ReadyWaits {
  private readonly waiters = new Map<number, () => void>()
  private readonly onReady = (ev: KernelEvent): void => {
    if (ev.type === 'ready') this.waiters.get(ev.domainId)?.()
  }

  constructor(private readonly rt: SupervisorHost) {
    rt.events.on('ready', this.onReady)
  }

  stop(): void {
    this.rt.events.off('ready', this.onReady)
  }

  /** Resolves 'ready' when `d` calls ctx.ready(), 'ended' if it ends first, or 'timeout'. */
  wait(d: DomainCap, ms: number, ended: Promise<WaitResult>): Promise<ReadyOutcome> {
    return new Promise((resolve) => {
      let done = false
      const finish = (v: ReadyOutcome): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        this.waiters.delete(d.id)
        resolve(v)
      }
      const timer = setTimeout(() => finish('timeout'), ms)
      this.waiters.set(d.id, () => finish('ready'))
      // It may have been ready before we listened.
      try {
        if (this.rt.status(d).ready) finish('ready')
      } catch {
        finish('ended')
      }
      ended.then(
        () => finish('ended'),
        () => finish('ended'),
      )
    })
  }
}
