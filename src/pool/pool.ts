/**
 * Pool: piscina 5's API over sessions to long-lived, supervised worker domains.
 *
 * A task waits in the pool's queue (on this thread) until a worker has room
 * (fewer than concurrentTasksPerWorker of its tasks in flight), then travels as
 * one call on that worker's session and its result comes back on the same ring
 * channel. What piscina does differently, and why this does not:
 * - abort of a running task: piscina ends the worker thread; here the task's
 *   signal fires in the worker and run() rejects at once, the worker lives on;
 * - a worker that dies fails only the tasks it had in flight (WORKER_FAILED); the
 *   reincarnation server restarts it and the pool reopens its session;
 * - 'needsDrain' and 'drain' follow the queue: needsDrain when a task has to wait,
 *   drain when none waits any more;
 * - a full queue rejects QUEUE_FULL at once.
 */
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import { KernelError } from '../errors.js'
import { Fifo } from '../fifo.js'
import { boot } from '../runtime/boot.js'
import type { Runtime } from '../runtime/runtime.js'
import type { SessionEndReason } from '../session/end_reason.js'
import { AbortError, type AbortSignalLike } from './abort.js'
import { Timing, type PoolHistogram } from './histogram.js'
import { bootOptionsFor, fillOptions, type FilledPoolOptions, type PoolOptions } from './options.js'
import type { PoolWorker, PoolWorkerHost, PoolWorkerState } from './pool_worker.js'
import { WorkerSet } from './worker_set.js'
import { Task, QUEUED, RUNNING, DONE } from './task.js'
import {
  checkClose,
  DEFAULT_RUN,
  parseRun,
  type CloseOptions,
  type ParsedRun,
  type RunOptions,
} from './run_options.js'

export type { RunOptions, CloseOptions }

/** A worker as `pool.threads` shows it. */
export interface PoolThread {
  label: string
  core: number
  state: PoolWorkerState
  inFlight: number
  restarts: number
}

let pools = 0
const TERMINATING = 'Terminating worker thread'

export class Pool<T = unknown, R = unknown> extends EventEmitter implements PoolWorkerHost {
  readonly options: Readonly<FilledPoolOptions>
  /** Resolves once minThreads workers are up (rejects if the pool could not start). */
  readonly ready: Promise<void>
  #rt: Runtime | null = null
  readonly #ownsRuntime: boolean
  #set: WorkerSet | null = null
  readonly #queue = new Fifo<Task>()
  #queued = 0
  #nextId = 1
  #completed = 0
  #needsDrain = false
  #closing = false
  #destroyed = false
  #startError: unknown = null
  readonly #t0 = performance.now()
  readonly #timing: Timing | null
  readonly #label: string
  readonly #cores: number

  constructor(options: PoolOptions = {}) {
    super()
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object')
    const given = options.runtime
    const bootOpts = given === undefined ? bootOptionsFor(options) : null
    this.#cores = given?.cores ?? (bootOpts?.cores as number)
    this.options = Object.freeze(fillOptions(options, this.#cores))
    this.#ownsRuntime = given === undefined
    this.#timing = this.options.recordTiming ? new Timing() : null
    this.#label = this.options.label ?? `pool${++pools}`
    this.ready = this.#start(given, bootOpts)
    // A pool nobody awaits must not crash the process when it cannot start: its
    // tasks reject with the reason, and 'error' says so to whoever listens.
    this.ready.catch(() => undefined)
  }

  async #start(
    given: Runtime | undefined,
    bootOpts: ReturnType<typeof bootOptionsFor> | null,
  ): Promise<void> {
    try {
      this.#rt = given ?? (await boot(bootOpts ?? {}))
      if (this.#destroyed) {
        if (this.#ownsRuntime) await this.#rt.shutdown()
        return
      }
      const set = new WorkerSet(this.#rt, this.options, this.#label, this)
      this.#set = set
      const starts: Promise<void>[] = []
      for (let i = 0; i < this.options.minThreads; i++) starts.push(set.add())
      await Promise.all(starts)
      this.#pump()
    } catch (err) {
      this.#startError = err
      this.#failQueued(() => err)
      if (this.listenerCount('error') > 0) this.emit('error', err)
      throw err
    }
  }

  // ------------------------------------------------------------------ run

  run(task: T, options?: RunOptions): Promise<R> {
    let o: ParsedRun
    try {
      o = options === undefined ? DEFAULT_RUN : parseRun(options)
    } catch (err) {
      return Promise.reject(err)
    }
    const { filename, name, signal } = o
    if (filename === null && this.options.filename === null)
      return Promise.reject(new Error('filename must be provided to run() or in options object'))
    if (this.#destroyed || this.#closing)
      return Promise.reject(new AbortError('queue is being terminated'))
    if (this.#startError !== null) return Promise.reject(this.#startError)
    if (signal?.aborted === true) return Promise.reject(new AbortError(signal.reason))

    return new Promise<R>((resolve, reject) => {
      const t = new Task(
        task,
        this.#nextId++,
        filename,
        name,
        resolve as (v: unknown) => void,
        reject,
      )
      if (this.#timing !== null) t.created = performance.now()
      if (signal !== null) this.#watch(t, signal)
      const w = this.#queued === 0 && this.#set !== null ? this.#set.pick() : null
      if (w !== null) {
        this.#dispatch(t, w)
        return
      }
      if (this.#queued >= this.#queueLimit()) {
        this.#unwatch(t)
        t.state = DONE
        reject(
          new KernelError(
            'QUEUE_FULL',
            `Task queue is at limit (${this.options.maxQueue} tasks waiting)`,
          ),
        )
        return
      }
      this.#queue.push(t)
      this.#queued++
      this.#queueChanged()
      this.#grow()
    })
  }

  /** maxQueue, plus room for the tasks of workers still starting (they will take them). */
  #queueLimit(): number {
    const starting = this.#set === null ? this.options.minThreads : this.#set.starting()
    return this.options.maxQueue + starting * this.options.concurrentTasksPerWorker
  }

  #dispatch(t: Task, w: PoolWorker): void {
    const s = w.session
    if (s === null) throw new KernelError('PROTOCOL', 'dispatch to a worker that is not up')
    t.state = RUNNING
    t.worker = w
    w.inFlight++
    if (w.idleTimer !== null) {
      clearTimeout(w.idleTimer)
      w.idleTimer = null
    }
    if (this.#timing !== null) {
      t.started = performance.now()
      this.#timing.recordWait(t.started - t.created)
    }
    const p =
      t.filename === null && t.name === null
        ? s.call('run', t.task, t.id)
        : s.call('runAt', t.task, t.id, t.filename, t.name)
    t.task = undefined // the ring has its copy
    p.then(
      (v) => this.#settled(t, w, v, null),
      (e: unknown) => this.#settled(t, w, undefined, e ?? new Error('task failed')),
    )
  }

  #settled(t: Task, w: PoolWorker, value: unknown, err: unknown): void {
    w.inFlight--
    this.#completed++
    if (this.#timing !== null) this.#timing.recordRun(performance.now() - t.started)
    if (t.state === RUNNING) {
      t.state = DONE
      this.#unwatch(t)
      if (err === null) t.resolve(value)
      else t.reject(this.#taskError(err))
    }
    if (this.#queued > 0) this.#pump()
    else if (w.inFlight === 0 && !this.#closing && !this.#destroyed) this.#set?.idle(w)
  }

  /** A task's own throw rejects with its error, as piscina does; a lost worker with WORKER_FAILED. */
  #taskError(err: unknown): unknown {
    if (err instanceof KernelError) {
      if (err.code === 'CALL_FAILED' && err.cause !== undefined) return err.cause
      if (err.code === 'SESSION_CLOSED') {
        if (this.#destroyed) return new Error(TERMINATING, { cause: err })
        return new KernelError(
          'WORKER_FAILED',
          `the worker running this task ended (${err.message}); the pool restarts it`,
          { cause: err },
        )
      }
    }
    return err
  }

  /** Hand queued tasks to workers with room. */
  #pump(): void {
    const set = this.#set
    while (this.#queued > 0 && set !== null) {
      const w = set.pick()
      if (w === null) break
      const t = this.#queue.shift() as Task
      if (t.state !== QUEUED) continue // aborted while it waited
      this.#queued--
      this.#dispatch(t, w)
    }
    this.#queueChanged()
    this.#grow()
  }

  /** Start another worker (up to maxThreads) when tasks wait and none is starting. */
  #grow(): void {
    const set = this.#set
    if (this.#queued === 0 || set === null || this.#closing || this.#destroyed) return
    if (!set.mayGrow()) return
    set.add().catch((err: unknown) => {
      if (this.listenerCount('error') > 0) this.emit('error', err)
    })
  }

  /** needsDrain when a task has to wait; drain when none waits any more. */
  #queueChanged(): void {
    if (this.#queued > 0 && !this.#needsDrain) {
      this.#needsDrain = true
      queueMicrotask(() => this.emit('needsDrain'))
    } else if (this.#queued === 0 && this.#needsDrain) {
      this.#needsDrain = false
      queueMicrotask(() => this.emit('drain'))
    }
  }

  // ---------------------------------------------------------------- abort

  #watch(t: Task, signal: AbortSignalLike): void {
    if (typeof signal.addEventListener !== 'function') return
    t.signal = signal
    t.onAbort = () => this.#abort(t, signal.reason)
    signal.addEventListener('abort', t.onAbort, { once: true })
  }

  #unwatch(t: Task): void {
    if (t.onAbort !== null) t.signal?.removeEventListener?.('abort', t.onAbort)
    t.onAbort = null
    t.signal = null
  }

  #abort(t: Task, reason: unknown): void {
    const was = t.state
    if (was === DONE) return
    t.state = DONE
    this.#unwatch(t)
    t.reject(new AbortError(reason))
    if (was === QUEUED) {
      this.#queued--
      this.#queueChanged()
      return
    }
    // Running: its signal fires in the worker; its slot stays taken until the
    // worker answers, so the bound on tasks in flight stays true.
    const s = t.worker?.session
    if (s == null) return
    s.call('abort', t.id, reason).catch(() =>
      s.call('abort', t.id, undefined).catch(() => undefined),
    )
  }

  // -------------------------------------------------------- worker faults

  workerUp(w: PoolWorker): void {
    void w
    if (this.#queued > 0) this.#pump()
  }

  workerLost(w: PoolWorker, why: SessionEndReason | Error): void {
    if (this.#destroyed || w.state === 'stopped') return
    const err = new KernelError('WORKER_FAILED', `worker ${w.label} ended: ${String(why)}`, {
      cause: why instanceof Error ? why : undefined,
    })
    if (this.listenerCount('error') > 0) this.emit('error', err)
    // No worker left and none coming back: queued tasks would wait forever.
    if (this.#set?.allFailed() === true) this.#failQueued(() => err)
  }

  #failQueued(why: () => unknown): void {
    while (this.#queue.length > 0) {
      const t = this.#queue.shift() as Task
      if (t.state !== QUEUED) continue
      t.state = DONE
      this.#unwatch(t)
      t.reject(why())
    }
    this.#queued = 0
    this.#queueChanged()
  }

  // ----------------------------------------------------- close, destroy

  /** Finish the queued and running tasks (force: reject the queued ones), then destroy. */
  async close(options: CloseOptions = {}): Promise<void> {
    const force = checkClose(options)
    if (this.#destroyed) return
    this.#closing = true
    if (force) this.#failQueued(() => new AbortError(undefined, 'pool is closed'))
    await this.ready.catch(() => undefined)
    const flushed = new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.#queued === 0 && (this.#set?.allIdle() ?? true)) resolve()
        else setTimeout(check, 1)
      }
      check()
    })
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.closeTimeout)
    })
    const r = await Promise.race([flushed, timeout])
    clearTimeout(timer)
    if (r === 'timeout' && this.listenerCount('error') > 0)
      this.emit('error', new Error('Close operation timed out'))
    await this.destroy()
    this.emit('close')
  }

  /** Reject every queued and running task, stop the workers (and the runtime the pool booted). */
  async destroy(): Promise<void> {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#failQueued(() => new Error(TERMINATING))
    await this.ready.catch(() => undefined)
    const rt = this.#rt
    // Closing a session rejects its calls in flight (SESSION_CLOSED -> TERMINATING).
    await this.#set?.stopAll()
    if (rt !== null && this.#ownsRuntime) await rt.shutdown()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** piscina's synchronous dispose: starts close() (its errors go to 'error' listeners). */
  [Symbol.dispose](): void {
    this.close().catch((err: unknown) => {
      if (this.listenerCount('error') > 0) this.emit('error', err)
    })
  }

  // ------------------------------------------------------------- gauges

  /** The runtime the workers run on (null while a pool that boots one is starting). */
  get runtime(): Runtime | null {
    return this.#rt
  }

  get maxThreads(): number {
    return this.options.maxThreads
  }

  get minThreads(): number {
    return this.options.minThreads
  }

  get threads(): PoolThread[] {
    return (this.#set?.list ?? []).map((w) => ({
      label: w.label,
      core: w.config.core,
      state: w.state,
      inFlight: w.inFlight,
      restarts: w.restarts,
    }))
  }

  get idleThreads(): number {
    let n = 0
    for (const w of this.#set?.list ?? []) if (w.state === 'up' && w.inFlight === 0) n++
    return n
  }

  /** Tasks waiting for a worker (not those in flight). */
  get queueSize(): number {
    return this.#queued
  }

  get completed(): number {
    return this.#completed
  }

  /** Milliseconds since the pool was made. */
  get duration(): number {
    return performance.now() - this.#t0
  }

  /** Mean run time x tasks run / (duration x maxThreads), as piscina; 0 without timing. */
  get utilization(): number {
    const t = this.#timing
    if (t === null || t.run.count === 0) return 0
    return ((t.run.mean / 1000) * t.run.count) / (this.duration * this.options.maxThreads)
  }

  get needsDrain(): boolean {
    return this.#needsDrain
  }

  get histogram(): PoolHistogram {
    return this.#timing ?? EMPTY_HISTOGRAM
  }
}

const EMPTY_HISTOGRAM: PoolHistogram = new Timing()
