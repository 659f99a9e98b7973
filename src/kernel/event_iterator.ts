/**
 * One reader's queue of lifecycle events, read with `for await`: bounded, so a
 * reader that stops reading (or never starts) costs at most `maxBuffered` events,
 * not the runtime's whole history. When full, the oldest event is dropped and
 * counted in `dropped`; the reader sees the newest `maxBuffered` and can tell how
 * many it missed.
 */
import { Fifo } from '../fifo.js'

/** Events an iterator keeps for its reader by default (rt.events; boot's eventBuffer). */
export const DEFAULT_EVENT_BUFFER = 1024

export interface EventIteratorOptions {
  /** Events kept for a reader that has not read them yet. Default: the bus's (1024). */
  maxBuffered?: number
}

export class EventIterator<E> implements AsyncIterableIterator<E> {
  private readonly items = new Fifo<E>()
  private waiting: ((r: IteratorResult<E>) => void) | null = null
  private done = false
  #dropped = 0

  /** @internal made by EventBus.iterate() */
  constructor(
    private readonly maxBuffered: number,
    private readonly detach: () => void,
  ) {}

  /** Events dropped so far because this reader's buffer was full (the oldest went first). */
  get dropped(): number {
    return this.#dropped
  }

  /** @internal a published event: handed to a waiting reader, else buffered. */
  push(ev: E): void {
    if (this.done) return
    if (this.waiting !== null) {
      const w = this.waiting
      this.waiting = null
      w({ value: ev, done: false })
      return
    }
    if (this.items.length >= this.maxBuffered) {
      this.items.shift()
      this.#dropped++
    }
    this.items.push(ev)
  }

  /** @internal the bus ended: a waiting reader is told, buffered events are still read. */
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
    this.items.clear()
    this.detach()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<E> {
    return this
  }
}
