/**
 * The receiving half of a session port's stream: values (and copies of bytes) wait
 * here for the reader's `for await`, at most `limit` of them. Past the limit the
 * port's reader stops draining its ring (backpressure reaches the sender); taking a
 * value wakes it again. A waiting next() is settled by the next value delivered.
 */
import { Fifo } from '../fifo.js'
import { SafePromise } from '../intrinsics.js'
import { DONE } from './port_options.js'

type Settle = (r: IteratorResult<unknown>) => void

export class PortInbox {
  private readonly values = new Fifo<unknown>()
  private readonly waiters = new Fifo<Settle>()
  /** The reader stopped at a full inbox: a next() that frees room wakes it. */
  roomWanted = false
  /** Allocated once: a waiting next() makes no closure. */
  private readonly executor = (res: Settle): void => void this.waiters.push(res)

  constructor(
    readonly limit: number,
    /** Wake the port's reader (its doorbell): room freed. */
    private readonly wakeReader: () => void,
    /** The number of waiting next() calls changed (the port's keep-alive follows it). */
    private readonly waitersChanged: () => void,
  ) {}

  get full(): boolean {
    return this.values.length >= this.limit
  }

  /** next() calls waiting for a value. */
  get waiting(): number {
    return this.waiters.length
  }

  deliver(v: unknown): void {
    const waiter = this.waiters.shift()
    if (waiter === undefined) this.values.push(v)
    else {
      waiter({ value: v, done: false })
      if (this.waiters.length === 0) this.waitersChanged()
    }
  }

  /** The iterator's next(): a value, the end (once `ended` and empty), or a wait. */
  next(ended: boolean): Promise<IteratorResult<unknown>> {
    if (this.values.length > 0) {
      const value = this.values.shift()
      if (this.roomWanted && this.values.length < this.limit) {
        this.roomWanted = false
        this.wakeReader()
      }
      return SafePromise.resolve({ value, done: false })
    }
    if (ended) return SafePromise.resolve(DONE)
    const p = new SafePromise<IteratorResult<unknown>>(this.executor)
    this.waitersChanged()
    return p
  }

  /** The port ended: drop what waits (a local close), and end every waiting next(). */
  end(drop: boolean): void {
    if (drop) this.values.clear()
    for (let w = this.waiters.shift(); w !== undefined; w = this.waiters.shift()) w(DONE)
  }
}
