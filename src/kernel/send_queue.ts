/**
 * SendQueue: requests for one spawnd that wait for room in its request ring.
 * The ring being full is Barrelfish's TX_BUSY: the request stays at the front, in
 * order, and goes when room frees. Entries exist only on that slow path; a request
 * that finds room is encoded straight into the ring.
 */
export interface QueuedRequest {
  op: number
  tag: number
  domainId: number
  arg: number
  text: string | null
}

export class SendQueue {
  private items: QueuedRequest[] = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(r: QueuedRequest): void {
    this.items.push(r)
  }

  /** The front request, or undefined. */
  peek(): QueuedRequest | undefined {
    return this.items[this.head]
  }

  /** Drop the front request (after it was written into the ring). */
  shift(): void {
    this.head++
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
  }

  /** Remove and return everything still queued (core failure, shutdown). */
  drainAll(): QueuedRequest[] {
    const out = this.items.slice(this.head)
    this.items = []
    this.head = 0
    return out
  }
}
