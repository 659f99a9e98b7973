/**
 * The memory watcher: every core's memory, read from the gauges its spawnd
 * writes every 50 ms (protocol/core_gauges.ts), judged against the core's soft
 * limits; a core past them is ended like any other failed core (every domain on it
 * ends 'core-failed' with a CoreOutOfMemory error, the core restarts, the process
 * lives). Measurements behind the rules: /work/notes/memory.md (Node 20).
 *
 *  1. heap:     the core's V8 used_heap_size over `heapMb`.
 *  2. external: its ArrayBuffers/Buffers/SharedArrayBuffers over `externalMb`. V8's
 *     resourceLimits never count them; only this rule bounds them.
 *  3. silent:   a core whose report is stale (its loop does not turn) and whose event
 *     loop is busy (ELU near 1: a synchronous loop) while process RSS has grown
 *     past what the cores reported by more than min(heapMb, externalMb): that
 *     growth is its; every such core is ended (they cannot be told apart).
 *  4. process:  process RSS over `processRssMb` and no rule above matched: the core
 *     with the largest report is ended, the last resort before the OS's OOM killer.
 *
 * The hard limit (the worker's resourceLimits, heapMb + 1536 MiB) sits above the
 * largest single V8 allocation (~1 GiB), so a core ended here at its soft limit
 * never makes V8 abort the whole process; reaching the hard limit anyway is
 * Node's ERR_WORKER_OUT_OF_MEMORY, the same fault (spawnd_start.ts's workerErrorWhy names it so).
 */
import { freemem, totalmem } from 'node:os'
import type { EventLoopUtilization } from 'node:perf_hooks'
import type { Worker } from 'node:worker_threads'
import { OUT_OF_MEMORY } from '../protocol/core_fault.js'
import { G_EXTERNAL_KB, G_HEAP_KB, gauge, hasReported, stampAge } from '../protocol/core_gauges.js'
import type { SupervisorHost } from './host.js'

/** Each core's memory budget (boot's `coreMemory`). */
export interface CoreMemoryOptions {
  /** V8 heap in use per core, MiB. Default clamp(totalmem / (4 x cores), 256, 1024). */
  heapMb?: number
  /** ArrayBuffers, Buffers and SharedArrayBuffers per core, MiB. Default: as heapMb. */
  externalMb?: number
  /** Process RSS past which the biggest core is ended, MiB. Default 75% of RAM. */
  processRssMb?: number
  /** How often the watcher reads the gauges, ms. Default 50. */
  pollMs?: number
}

export type CoreMemoryLimits = Required<CoreMemoryOptions>

/** Headroom of the hard V8 limit over the soft one: above any single V8 allocation. */
export const HARD_HEAP_HEADROOM_MB = 1536

const MB = 1024 * 1024

function positive(name: string, v: unknown, dflt: number, min = 1): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new RangeError(`coreMemory.${name} must be an integer >= ${min}, got ${String(v)}`)
  }
  return v
}

/** The limits for `cores` cores, defaults filled in and checked. */
export function coreMemoryLimits(cores: number, o: CoreMemoryOptions = {}): CoreMemoryLimits {
  const dflt = Math.min(1024, Math.max(256, Math.floor(totalmem() / MB / (4 * cores))))
  // Node kills a worker born with a tiny heap (memory.md g): at least 16 MiB.
  const heapMb = positive('heapMb', o.heapMb, dflt, 16)
  return {
    heapMb,
    externalMb: positive('externalMb', o.externalMb, heapMb, 1),
    processRssMb: positive('processRssMb', o.processRssMb, Math.floor((0.75 * totalmem()) / MB)),
    pollMs: positive('pollMs', o.pollMs, 50),
  }
}

interface Watch {
  worker: Worker | null
  elu: EventLoopUtilization | null
}

export class MemoryWatcher {
  private readonly tick: NodeJS.Timeout
  private readonly watches: Watch[] = []
  /** Process RSS with every core idle, re-taken when a core restarts. */
  private baselineMb: number
  private stopped = false
  private readonly onRestart: () => void

  constructor(
    private readonly rt: SupervisorHost,
    private readonly limits: CoreMemoryLimits,
  ) {
    for (let c = 0; c < rt.cores; c++) this.watches.push({ worker: null, elu: null })
    this.baselineMb = this.rssMb()
    this.onRestart = () => {
      this.baselineMb = this.rssMb()
    }
    rt.events.on('core-restarted', this.onRestart)
    this.tick = setInterval(() => this.check(), limits.pollMs)
    this.tick.unref()
  }

  private rssMb(): number {
    return process.memoryUsage.rss() / MB
  }

  private check(): void {
    if (this.stopped || this.rt.isShutdown) return
    const { heapMb, externalMb, processRssMb, pollMs } = this.limits
    const rss = this.rssMb()
    let reported = 0
    let biggest = -1
    let biggestMb = -1
    const silentBusy: number[] = []
    for (let core = 0; core < this.rt.cores; core++) {
      const link = this.rt.coreLink(core)
      // A booting spawnd has not reported yet (its loading looks busy and silent).
      if (link === null || !hasReported(link.gauges)) continue
      const heap = gauge(link.gauges, G_HEAP_KB) / 1024
      const external = gauge(link.gauges, G_EXTERNAL_KB) / 1024
      reported += heap + external
      if (heap > heapMb) {
        this.end(core, `heap ${Math.round(heap)} MiB over the core's ${heapMb} MiB limit`)
        continue
      }
      if (external > externalMb) {
        this.end(
          core,
          `array buffers ${Math.round(external)} MiB over the core's ${externalMb} MiB limit`,
        )
        continue
      }
      if (heap + external > biggestMb) {
        biggest = core
        biggestMb = heap + external
      }
      if (stampAge(link.gauges) > 3 * pollMs && this.busy(core, link.worker)) {
        silentBusy.push(core)
      }
    }
    const unexplained = rss - this.baselineMb - reported
    if (silentBusy.length > 0 && unexplained > Math.min(heapMb, externalMb)) {
      for (const core of silentBusy) {
        this.end(
          core,
          `process memory grew ${Math.round(unexplained)} MiB past its cores' reports while this core ran without yielding`,
        )
      }
    } else if (rss > processRssMb && biggest >= 0) {
      this.end(
        biggest,
        `process RSS ${Math.round(rss)} MiB over ${processRssMb} MiB (${Math.round(freemem() / MB)} MiB free); this core reported the most`,
      )
    }
  }

  /** Event-loop utilization since the last poll, near 1 when a loop never yields. */
  private busy(core: number, worker: Worker): boolean {
    const w = this.watches[core]
    if (w.worker !== worker) {
      w.worker = worker
      w.elu = worker.performance.eventLoopUtilization()
      return false
    }
    const now = worker.performance.eventLoopUtilization()
    const since = worker.performance.eventLoopUtilization(now, w.elu ?? undefined)
    w.elu = now
    return since.utilization > 0.9
  }

  private end(core: number, what: string): void {
    this.rt.events.publish({ type: 'core-out-of-memory', core, why: what })
    void this.rt.failCore(core, `${OUT_OF_MEMORY}: ${what}`)
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.tick)
    this.rt.events.off('core-restarted', this.onRestart)
  }
}
