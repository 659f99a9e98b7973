/**
 * Lifecycle events: an EventEmitter (one event name per type, plus 'event' for all
 * of them) and async iterators of every event (bounded, event_iterator.ts), which
 * end when the runtime shuts down. Each event carries a timestamp. Listeners are
 * user code: they never run inside the kernel (see publish), and one that throws
 * breaks nothing but its own call (see report). The bus is generic: each layer names its
 * own events (the kernel's are below; the supervisor's are in supervisor/events.ts)
 * and publishes into the one bus the boot path made for the runtime.
 */
import { EventEmitter } from 'node:events'
import { Fifo } from '../fifo.js'
import { DEFAULT_EVENT_BUFFER, EventIterator, type EventIteratorOptions } from './event_iterator.js'
import type { ErrorText } from '../protocol/error_text.js'
import type { SessionState } from '../session/state.js'

interface Base {
  /** Date.now() when it happened. */
  time: number
}

/** What the kernel sees happen to domains and cores. */
export type KernelEvent =
  | (Base & {
      type: 'spawned'
      domainId: number
      core: number
      program: string
      parent: number | null
    })
  | (Base & {
      type: 'exited'
      domainId: number
      exitCode: number
      reason: 'exited' | 'error' | 'core-failed'
      error?: ErrorText
    })
  | (Base & { type: 'killed'; domainId: number; exitCode: number })
  | (Base & { type: 'cleaned'; domainId: number })
  | (Base & { type: 'ready'; domainId: number })
  | (Base & { type: 'core-failed'; core: number; why: string })
  /** A remote node joined (its cores up: numbered on its first join, kept after). */
  | (Base & { type: 'node-joined'; node: string; cores: number[] })
  /** A remote node was lost: every core it had failed. */
  | (Base & { type: 'node-lost'; node: string; why: string })
  | (Base & {
      /** A session moved from one state to another (Genode's Session_state). */
      type: 'session'
      id: number
      service: string
      from: SessionState
      to: SessionState
    })

/** Any layer's event: a type name and a time. */
export interface TimedEvent {
  type: string
  time: number
}

/** Omit that distributes over a union. */
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never

/** An event as published: the bus adds the time. */
export type EventInput<E extends TimedEvent> = DistributiveOmit<E, 'time'>

/** What a layer publishes into. */
export interface EventSink<E extends TimedEvent> {
  /** True when someone would see an event of `type` (callers skip building it otherwise). */
  wants(type: E['type']): boolean
  publish(input: EventInput<E>): void
}

export class EventBus<E extends TimedEvent> extends EventEmitter implements EventSink<E> {
  private readonly iterators = new Set<EventIterator<E>>()
  private ended = false
  /** Events published but not yet handed to the listeners (made only when someone listens). */
  private readonly pending = new Fifo<E>()
  private deliveryScheduled = false
  private readonly maxBuffered: number

  /** `maxBuffered`: events each async iterator keeps for its reader (default 1024). */
  constructor(maxBuffered: number = DEFAULT_EVENT_BUFFER) {
    super()
    this.maxBuffered = bufferSize('eventBuffer', maxBuffered)
  }

  wants(type: E['type']): boolean {
    return (
      this.iterators.size > 0 || this.listenerCount(type) > 0 || this.listenerCount('event') > 0
    )
  }

  /**
   * @internal publish a lifecycle event with its timestamp. Called from inside the
   * kernel (often from the reply drain), so no user code runs here: iterators only
   * buffer it, and listeners are called from a microtask once the current drain has
   * returned (deliver), in publish order.
   */
  publish(input: EventInput<E>): void {
    if (!this.wants(input.type)) return
    const ev = { ...input, time: Date.now() } as unknown as E
    for (const q of this.iterators) q.push(ev)
    if (this.listenerCount(ev.type) === 0 && this.listenerCount('event') === 0) return
    this.pending.push(ev)
    if (!this.deliveryScheduled) {
      this.deliveryScheduled = true
      queueMicrotask(this.deliver)
    }
  }

  /** Hand every pending event to its listeners, outside the kernel's call stack. */
  private readonly deliver = (): void => {
    this.deliveryScheduled = false
    for (let ev = this.pending.shift(); ev !== undefined; ev = this.pending.shift()) {
      this.callEach(ev.type, ev)
      this.callEach('event', ev)
    }
  }

  /**
   * Call every listener of `name`, each on its own: one that throws neither stops
   * the others nor the events after it; its error is reported (report).
   */
  private callEach(name: string, ev: E): void {
    if (this.listenerCount(name) === 0) return
    // A copy: listeners added or removed meanwhile wait for the next event, and a
    // once-wrapper removes itself as it is called, as in EventEmitter.emit.
    for (const l of this.rawListeners(name) as ((ev: E) => void)[]) {
      try {
        l.call(this, ev)
      } catch (err) {
        this.report(err)
      }
    }
  }

  /**
   * A listener threw: as an EventEmitter user expects, an 'error' event when
   * someone listens for it; else (or when that listener throws too) the error is
   * rethrown on its own tick, outside the kernel, where the process's
   * 'uncaughtException' sees it. The runtime keeps serving either way.
   */
  private report(err: unknown): void {
    if (this.listenerCount('error') > 0) {
      try {
        this.emit('error', err)
        return
      } catch (again) {
        err = again
      }
    }
    process.nextTick(rethrow, err)
  }

  /** @internal the runtime shut down: every iterator finishes. */
  end(): void {
    this.ended = true
    for (const q of this.iterators) q.finish()
    this.iterators.clear()
  }

  /**
   * Every event from now on, until the runtime shuts down (then the loop ends),
   * buffered for this reader up to `maxBuffered` (the oldest dropped and counted
   * in the iterator's `dropped`).
   */
  iterate(opts: EventIteratorOptions = {}): EventIterator<E> {
    if (typeof opts !== 'object' || opts === null)
      throw new TypeError('iterate options must be an object')
    const max =
      opts.maxBuffered === undefined
        ? this.maxBuffered
        : bufferSize('maxBuffered', opts.maxBuffered)
    const q = new EventIterator<E>(max, () => this.iterators.delete(q))
    if (this.ended) q.finish()
    else this.iterators.add(q)
    return q
  }

  /** `for await (const ev of rt.events)`: iterate() with the default buffer. */
  [Symbol.asyncIterator](): EventIterator<E> {
    return this.iterate()
  }
}

function rethrow(err: unknown): never {
  throw err
}

function bufferSize(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
    throw new RangeError(`${name} must be a positive integer, got ${String(v)}`)
  return v
}
