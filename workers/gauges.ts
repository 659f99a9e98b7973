/**
 * The spawnd's side of its core's gauges (src/protocol/core_gauges.ts): its memory
 * every 50 ms from a timer of its own, what it hosts after every batch. Every
 * function it calls is taken here, at load, before any domain runs.
 */
import { getHeapStatistics } from 'node:v8'
import {
  G_EXTERNAL_KB,
  G_HANDLED,
  G_HEAP_KB,
  G_HEAP_LIMIT_KB,
  G_IDLE,
  G_MODULES,
  G_STAMP,
  gaugeBuffer,
  setGauge,
  stampNow,
} from '../src/protocol/core_gauges.js'
import { SafeClearInterval, SafeMap, SafeSetInterval } from '../src/intrinsics.js'

const heapStats = getHeapStatistics
const memoryUsage = process.memoryUsage.bind(process)
const REPORT_MS = 50

export class GaugeWriter {
  private readonly g: Int32Array
  private timer: NodeJS.Timeout | null = null
  /** Every URL ever imported (ESM keeps each module for good): the gauge the retire rule reads. */
  private readonly urls = new SafeMap<string, true>()

  /** Without a block (a spawnd started by hand, as in tests): its own, read by no one. */
  constructor(buffer: SharedArrayBuffer | undefined) {
    this.g = new Int32Array(buffer ?? gaugeBuffer())
    setGauge(this.g, G_HEAP_LIMIT_KB, heapStats().heap_size_limit / 1024)
    this.report()
  }

  /** Report memory every 50 ms (unref'd: the spawnd holds its own handle). */
  start(): void {
    this.timer = SafeSetInterval(() => this.report(), REPORT_MS)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer !== null) SafeClearInterval(this.timer)
  }

  report(): void {
    const g = this.g
    setGauge(g, G_HEAP_KB, heapStats().used_heap_size / 1024)
    setGauge(g, G_EXTERNAL_KB, memoryUsage().arrayBuffers / 1024)
    setGauge(g, G_STAMP, stampNow())
  }

  /** Count a distinct program URL: its module stays in this worker's ESM cache for good. */
  imported(url: string): void {
    if (this.urls.has(url)) return
    this.urls.set(url, true)
    setGauge(this.g, G_MODULES, this.urls.size)
  }

  /** One snapshot: IDLE first, then HANDLED (the reader's order argument needs it). */
  hosting(idle: boolean, handled: number): void {
    setGauge(this.g, G_IDLE, idle ? 1 : 0)
    setGauge(this.g, G_HANDLED, handled)
  }
}
