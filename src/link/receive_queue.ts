/**
 * ReceiveQueue: the process manager's pending clients of one spawnd, matched to
 * that spawnd's replies by tag (the spawnd may answer out of order: module loading
 * is async). Barrelfish keeps a FIFO and matches in order; tags are the fix for a
 * server that completes out of order.
 *
 * A tag is a slot index into parallel arrays, recycled through a free list, so a
 * request costs no allocation here beyond what the caller's promise already is. A
 * reply whose tag names a free slot is counted and dropped (the original's send
 * handler read a freed queue element; this one checks first).
 */
export type ReplyFn = (err: number, value: number, text: string | null) => void

/**
 * A client that is its own pending record (a spawning domain entry): answered
 * through its method, so a request needs no closure of its own.
 */
export interface ReplyTarget {
  onReply(err: number, value: number, text: string | null): void
}

export type ReplyHandler = ReplyFn | ReplyTarget

/** Answer one client, whichever kind it is. */
export function deliver(h: ReplyHandler, err: number, value: number, text: string | null): void {
  if (typeof h === 'function') h(err, value, text)
  else h.onReply(err, value, text)
}

/**
 * Answer a request for a core that is not up, asynchronously like any reply, so
 * callers never re-enter: SHUTDOWN for a core stopped at shutdown, CORE_FAILED
 * otherwise (the codes are link.ts's; passed in, so this file imports nothing).
 */
export function refuseLater(h: ReplyHandler, code: number): void {
  queueMicrotask(() => deliver(h, code, 0, null))
}

export class ReceiveQueue {
  private handlers: (ReplyHandler | null)[] = [null]
  private readonly free: number[] = []
  private inUse = 0
  /** Replies that named no pending client. */
  strayReplies = 0

  /** Pending clients now. */
  get size(): number {
    return this.inUse
  }

  /** Park `handler` and return its tag (never 0: tag 0 marks notifications). */
  add(handler: ReplyHandler): number {
    let tag = this.free.pop()
    if (tag === undefined) {
      tag = this.handlers.length
      this.handlers.push(handler)
    } else {
      this.handlers[tag] = handler
    }
    this.inUse++
    return tag
  }

  /** Take the client parked under `tag`, or null when none is. */
  take(tag: number): ReplyHandler | null {
    const h = tag > 0 && tag < this.handlers.length ? this.handlers[tag] : null
    if (h === null) {
      this.strayReplies++
      return null
    }
    this.handlers[tag] = null
    this.free.push(tag)
    this.inUse--
    return h
  }

  /** Withdraw the client just parked under `tag`: its request was refused before it left. */
  cancel(tag: number): void {
    if (this.handlers[tag] === null) return
    this.handlers[tag] = null
    this.free.push(tag)
    this.inUse--
  }

  /** Remove and return every pending client (core failure, shutdown). */
  takeAll(): ReplyHandler[] {
    const out: ReplyHandler[] = []
    for (let t = 1; t < this.handlers.length; t++) {
      const h = this.handlers[t]
      if (h !== null) {
        out.push(h)
        this.handlers[t] = null
        this.free.push(t)
      }
    }
    this.inUse = 0
    return out
  }
}
