/**
 * Lifecycle events for the embedding server: an EventEmitter (one event name per
 * type, plus 'event' for all of them) and an async iterator of every event,
 * which ends when the runtime shuts down. Each event carries a timestamp.
 *
 * The kernel emits what it sees (spawned, exited, killed, cleaned, ready,
 * core-failed); the supervisor adds its own (core-hung, core-restarted,
 * restart-scheduled, restarted, gave-up, service-up, service-down).
 */
import { EventEmitter } from 'node:events'
import type { ErrorText } from '../protocol/messages.js'

interface Base {
  /** Date.now() when it happened. */
  time: number
}

export type RuntimeEvent =
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
  | (Base & { type: 'core-hung'; core: number; silentMs: number })
  | (Base & { type: 'core-restarted'; core: number; attempt: number })
  | (Base & { type: 'domain-hung'; domainId: number; label: string; skippedBeats: number })
  | (Base & {
      type: 'restart-scheduled'
      label: string
      delayMs: number
      attempt: number
      why: string
    })
  | (Base & { type: 'restarted'; label: string; domainId: number; attempt: number })
  | (Base & { type: 'gave-up'; label: string; restarts: number; withinMs: number })
  | (Base & { type: 'service-up'; label: string; domainId: number })
  | (Base & { type: 'service-down'; label: string })

export type RuntimeEventType = RuntimeEvent['type']

/** Omit that distributes over a union. */
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never

export type EventInput = DistributiveOmit<RuntimeEvent, 'time'>

export class RuntimeEvents extends EventEmitter {
  private readonly iterators = new Set<EventQueue>()
  private ended = false

  /** True when someone would see an event of `type` (callers skip building it otherwise). */
  wants(type: RuntimeEventType): boolean {
    return (
      this.iterators.size > 0 || this.listenerCount(type) > 0 || this.listenerCount('event') > 0
    )
  }

  /** @internal emit a lifecycle event with its timestamp. */
  publish(input: EventInput): void {
    if (!this.wants(input.type)) return
    const ev = { ...input, time: Date.now() } as RuntimeEvent
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
  [Symbol.asyncIterator](): AsyncIterableIterator<RuntimeEvent> {
    const q = new EventQueue(() => this.iterators.delete(q))
    if (this.ended) q.finish()
    else this.iterators.add(q)
    return q
  }
}

/** An unbounded queue of events read by one async iterator. */
class EventQueue implements AsyncIterableIterator<RuntimeEvent> {
  private readonly items: RuntimeEvent[] = []
  private waiting: ((r: IteratorResult<RuntimeEvent>) => void) | null = null
  private done = false

  constructor(private readonly detach: () => void) {}

  push(ev: RuntimeEvent): void {
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

  next(): Promise<IteratorResult<RuntimeEvent>> {
    const ev = this.items.shift()
    if (ev !== undefined) return Promise.resolve({ value: ev, done: false })
    if (this.done) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve) => {
      this.waiting = resolve
    })
  }

  return(): Promise<IteratorResult<RuntimeEvent>> {
    this.finish()
    this.detach()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<RuntimeEvent> {
    return this
  }
}
