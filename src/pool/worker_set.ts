/**
 * The pool's workers as a set: starting one (a service and its session), picking
 * the least busy one with room, growing toward maxThreads, stopping idle ones
 * above minThreads, and following the reincarnation server's events (a restarted
 * worker's service is up again: reopen its session; it gave up: it failed).
 */
import type { Runtime } from '../runtime/runtime.js'
import type { RuntimeEvent } from '../runtime/events.js'
import type { FilledPoolOptions } from './options.js'
import { PoolWorker, type PoolWorkerHost } from './pool_worker.js'

export class WorkerSet {
  readonly list: PoolWorker[] = []
  #started = 0
  readonly #onEvent = (ev: RuntimeEvent): void => this.#event(ev)

  constructor(
    readonly rt: Runtime,
    private readonly options: Readonly<FilledPoolOptions>,
    private readonly label: string,
    private readonly host: PoolWorkerHost,
  ) {
    rt.events.on('service-up', this.#onEvent)
    rt.events.on('gave-up', this.#onEvent)
  }

  /** Start one more worker; resolves once it takes tasks. */
  add(): Promise<void> {
    const i = this.#started++
    const w = new PoolWorker(
      this.rt,
      {
        label: `${this.label}.${i}`,
        core: i % this.rt.cores,
        filename: this.options.filename,
        name: this.options.name,
        capacity: this.options.capacity,
      },
      this.host,
    )
    this.list.push(w)
    return w.start().catch((err: unknown) => {
      this.#remove(w)
      void w.stop()
      throw err
    })
  }

  /** The least busy worker with room, or null. */
  pick(): PoolWorker | null {
    let best: PoolWorker | null = null
    const max = this.options.concurrentTasksPerWorker
    const ws = this.list
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i]
      if (w.state !== 'up' || w.inFlight >= max) continue
      if (best === null || w.inFlight < best.inFlight) {
        best = w
        if (w.inFlight === 0) break
      }
    }
    return best
  }

  starting(): number {
    let n = 0
    for (const w of this.list) if (w.state === 'starting') n++
    return n
  }

  /** Room for one more worker, and none starting already. */
  mayGrow(): boolean {
    return this.list.length < this.options.maxThreads && this.starting() === 0
  }

  /** Stop `w` after idleTimeout if it is still idle then and the set is above minThreads. */
  idle(w: PoolWorker): void {
    const ms = this.options.idleTimeout
    if (ms === Infinity || this.list.length <= this.options.minThreads || w.idleTimer !== null)
      return
    w.idleTimer = setTimeout(() => {
      w.idleTimer = null
      if (w.inFlight !== 0 || this.list.length <= this.options.minThreads) return
      this.#remove(w)
      void w.stop()
    }, ms)
    w.idleTimer.unref()
  }

  allFailed(): boolean {
    return this.list.every((w) => w.state === 'failed')
  }

  allIdle(): boolean {
    return this.list.every((w) => w.inFlight === 0)
  }

  /** Stop every worker (their calls in flight reject SESSION_CLOSED) and stop listening. */
  async stopAll(): Promise<void> {
    this.rt.events.off('service-up', this.#onEvent)
    this.rt.events.off('gave-up', this.#onEvent)
    const ws = this.list.splice(0)
    await Promise.all(ws.map((w) => w.stop()))
  }

  #remove(w: PoolWorker): void {
    const i = this.list.indexOf(w)
    if (i >= 0) this.list.splice(i, 1)
  }

  #event(ev: RuntimeEvent): void {
    if (ev.type !== 'service-up' && ev.type !== 'gave-up') return
    for (const w of this.list) {
      if (w.label !== ev.label) continue
      if (ev.type === 'service-up') w.reopen()
      else w.gaveUp()
    }
  }
}
