/**
 * Garbage seen by a thread: a PerformanceObserver counting 'gc' entries (every
 * scavenge and mark-compact), and a forced full GC for the allocation probe.
 */
import { PerformanceObserver } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

export class GcCounter {
  count = 0
  private readonly obs: PerformanceObserver
  constructor() {
    this.obs = new PerformanceObserver((list) => {
      this.count += list.getEntries().length
    })
    this.obs.observe({ entryTypes: ['gc'] })
  }
  /** Entries arrive a little after the collection: let them land before reading. */
  async settled(): Promise<number> {
    await new Promise((r) => setTimeout(r, 20))
    return this.count
  }
}

export function forceGc(): () => void {
  setFlagsFromString('--expose-gc')
  const gc: unknown = runInNewContext('gc')
  if (typeof gc !== 'function') throw new Error('could not expose gc')
  return gc as () => void
}
