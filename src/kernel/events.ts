/**
 * Lifecycle events: an EventEmitter (one event name per type, plus 'event' for all
 * of them) and an async iterator of every event, which ends when the runtime shuts
 * down. Each event carries a timestamp. The bus is generic: each layer names its
 * own events (the kernel's are below; the supervisor's are in supervisor/events.ts)
 * and publishes into the one bus the boot path made for the runtime.
 */
import { EventEmitter } from 'node:events'
import { Fifo } from '../fifo.js'
import type { ErrorText } from '../protocol/error_text.js'

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
  private readonly iterators = new Set<EventQueue<E>>()
  private ended = false

  wants(type: E['type']): boolean {
    return (
      this.iterators.size > 0 || this.listenerCount(type) > 0 || this.listenerCount('event') > 0
    )
  }

  /** @internal emit a lifecycle event with its timestamp. */
  publish(input: EventInput<E>): void {
    if (!this.wants(input.type)) return
    const ev = { ...input, time: Date.now() } as unknown as E
    for (const q of this.iterators) q.push(ev)
    // No 'error' type exists, so an unlistened event is simply dropped.
    this.emit(ev.type, ev)
    this.emit('event', ev)
  }

  /** @internal the runtime shut down: every iterator finishes. */
  end(): void {
    this.ended = true
    for (const q of this.iterators) q.finish()
    this.iterators.clear()
  }

  /** Every event from now on, until the runtime shuts down (then the loop ends). */
  [Symbol.asyncIterator](): AsyncIterableIterator<E> {
    const q = new EventQueue<E>(() => this.iterators.delete(q))
    if (this.ended) q.finish()
    else this.iterators.add(q)
    return q
  }
}

/** An unbounded queue of events read by one async iterator. */
class EventQueue<E> implements AsyncIterableIterator<E> {
  private readonly items = new Fifo<E>()
  private waiting: ((r: IteratorResult<E>) => void) | null = null
  private done = false

  constructor(private readonly detach: () => void) {}

  push(ev: E): void {
    if (this.done) return
    if (this.waiting !== null) {
      const w = this.waiting
      this.waiting = null
      w({ value: ev, done: false })
    } else {
      this.items.push(ev)
    }
  }

  finish(): void {
    this.done = true
    if (this.waiting !== null) {
      const w = this.waiting
      this.waiting = null
      w({ value: undefined, done: true })
    }
  }

  next(): Promise<IteratorResult<E>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false })
    if (this.done) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve) => {
      this.waiting = resolve
    })
  }

  return(): Promise<IteratorResult<E>> {
    this.finish()
    this.detach()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<E> {
    return this
  }
}
