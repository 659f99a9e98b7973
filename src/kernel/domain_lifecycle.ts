/**
 * The stop sequence of a domain (Barrelfish's proc_mgmt kill / exit / cleanup
 * handlers): the transitions RUNNING -> STOP_PEND -> STOPPED -> CLEANED, driven
 * by the process manager's kill, the spawnds' EXIT notifications and their
 * answers, and a core going down.
 *
 *   kill / exit: exit status set, STOP_PEND, KILL to every running core; at the
 *           last answer STOPPED, killers and waiters answered, CLEANUP to every core
 *           holding resources; at the last cleanup answer CLEANED, entry kept.
 *
 * A core answers each request exactly once (or fails, which answers it), and the
 * sets of cores make a second answer from one core change nothing.
 */
import type { CoreLinks } from '../link/link.js'
import { coreFaultText } from '../protocol/core_fault.js'
import { parseErrorText } from '../protocol/error_text.js'
import { CORE_FAILED_EXIT_CODE, EXIT_RELEASED, ExitHow, Op } from '../protocol/opcodes.js'
import { RESOURCES, RUNNING, SPANNING } from './core_set.js'
import type { DomainEntry, DomainTable } from './domain_table.js'
import type { EventSink, KernelEvent } from './events.js'
import type { ProcessTree } from './process_tree.js'

export class DomainLifecycle {
  constructor(
    private readonly table: DomainTable,
    private readonly tree: ProcessTree,
    private readonly links: CoreLinks,
    private readonly events: EventSink<KernelEvent>,
    /** A domain reached STOPPED: its sessions end (kernel/sessions.ts). */
    private readonly onStopped: (e: DomainEntry) => void = () => {},
  ) {}

  /** STOP_PEND, and a KILL to every core it runs on (a pending span is killed when answered). */
  beginStop(e: DomainEntry): void {
    e.state = 'STOP_PEND'
    // (Guarded: listing the cores makes an array; a domain that exited runs nowhere.)
    if (e.coreCount(RUNNING) > 0)
      for (const core of e.coreList(RUNNING)) if (!e.hasCore(SPANNING, core)) this.stopOn(e, core)
    this.checkStopped(e)
  }

  /** KILL the dispatcher of `e` on `core`. */
  stopOn(e: DomainEntry, core: number): void {
    this.links.request(core, Op.KILL, e.id, 0, null, () => {
      // OK, already stopped, or the core failed: the dispatcher runs no more.
      e.deleteCore(RUNNING, core)
      this.checkStopped(e)
    })
  }

  /** STOPPED once stopping and no core runs it: answer, publish, clean up. */
  checkStopped(e: DomainEntry): void {
    if (e.state !== 'STOP_PEND' || e.coreCount(RUNNING) > 0) return
    e.state = 'STOPPED'
    this.onStopped(e)
    e.answerStopped()
    this.publishStopped(e)
    this.tree.onStopped(e)
    if (e.coreCount(RESOURCES) === 0) {
      this.markCleaned(e)
    } else {
      for (const core of e.coreList(RESOURCES)) {
        this.links.request(core, Op.CLEANUP, e.id, 0, null, () => {
          e.deleteCore(RESOURCES, core)
          if (e.coreCount(RESOURCES) === 0 && e.state === 'STOPPED') this.markCleaned(e)
        })
      }
    }
    // Before any waiter's continuation runs (they are microtasks): it finds it reaped.
    if (e.reapWhenStopped) this.tree.reapByRoot(e)
  }

  private publishStopped(e: DomainEntry): void {
    if (!this.events.wants(e.reason === 'killed' ? 'killed' : 'exited')) return
    const exitCode = e.exitCode ?? 0
    if (e.reason === 'killed') {
      this.events.publish({ type: 'killed', domainId: e.id, exitCode })
      return
    }
    const reason = e.reason ?? 'exited'
    if (e.error !== null) {
      this.events.publish({ type: 'exited', domainId: e.id, exitCode, reason, error: e.error })
    } else {
      this.events.publish({ type: 'exited', domainId: e.id, exitCode, reason })
    }
  }

  private markCleaned(e: DomainEntry): void {
    e.state = 'CLEANED'
    e.answerCleaned()
    if (this.events.wants('cleaned')) this.events.publish({ type: 'cleaned', domainId: e.id })
    this.tree.onCleaned(e)
  }

  /** EXIT: a dispatcher's main ended on `core`: the whole domain exits (Barrelfish exit). */
  onExit(core: number, domainId: number, how: number, code: number, text: string | null): void {
    const e = this.table.get(domainId)
    if (e === undefined) return
    e.deleteCore(RUNNING, core)
    // The spawnd freed that dispatcher itself: nothing to clean up there.
    if ((how & EXIT_RELEASED) !== 0) e.deleteCore(RESOURCES, core)
    if (e.state === 'RUNNING') {
      e.exitCode = code
      e.reason = (how & ~EXIT_RELEASED) === ExitHow.THREW ? 'error' : 'exited'
      e.error = parseErrorText(text)
      this.beginStop(e)
    } else {
      this.checkStopped(e)
    }
  }

  /**
   * A core went down (its worker died or hung, or shutdown), every request queued
   * for it already answered: stop every domain that had a dispatcher there.
   */
  onCoreDown(core: number, health: 'failed' | 'down', why: string): void {
    if (health === 'failed') this.events.publish({ type: 'core-failed', core, why })
    for (const e of this.table.values()) {
      if (!e.hasCore(RUNNING, core) && !e.hasCore(RESOURCES, core)) continue
      e.deleteCore(RUNNING, core)
      e.deleteCore(SPANNING, core)
      e.deleteCore(RESOURCES, core)
      if (e.state === 'RUNNING') {
        e.exitCode = CORE_FAILED_EXIT_CODE
        e.reason = 'core-failed'
        e.error = coreFaultText(why)
        this.beginStop(e)
      } else if (e.state === 'STOP_PEND') {
        this.checkStopped(e)
      } else if (e.state === 'STOPPED' && e.coreCount(RESOURCES) === 0) {
        this.markCleaned(e)
      }
    }
  }
}
