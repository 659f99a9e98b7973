/**
 * Fifo: a first-in first-out queue over a ring-buffer array, for the queues that
 * wait on something (a send queue waiting for ring room, events waiting for their
 * reader, restarts waiting to leave the intensity window). Push and shift are O(1)
 * and move nothing: no Array.shift, no splice, no compaction pass.
 *
 *     slots: [ . . c d e f . . ]     head = 2, length = 4, capacity 8 (a power of two)
 *                  ^head    ^head+length-1 (masked)
 *
 * It grows by doubling when full (unrolling the ring into the new array) and never
 * shrinks: a queue that once held N entries keeps room for N. Shifted slots are
 * cleared, so a queue holds no reference to what it handed out. It imports nothing,
 * so every layer may use it, as errors.ts.
 */
export class Fifo<T> {
  private slots: (T | undefined)[]
  private mask: number
  private head = 0
  private count = 0

  constructor(initialCapacity = 16) {
    let cap = 4
    while (cap < initialCapacity) cap <<= 1
    this.slots = holes<T>(cap)
    this.mask = cap - 1
  }

  get length(): number {
    return this.count
  }

  push(item: T): void {
    if (this.count === this.slots.length) this.grow()
    this.slots[(this.head + this.count) & this.mask] = item
    this.count++
  }

  /** The oldest entry, or undefined when empty. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.slots[this.head]
  }

  /** Remove and return the oldest entry, or undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined
    const item = this.slots[this.head]
    this.slots[this.head] = undefined
    this.head = (this.head + 1) & this.mask
    this.count--
    return item
  }

  /** Remove and return every entry, oldest first. */
  drain(): T[] {
    const out: T[] = []
    while (this.count > 0) out[out.length] = this.shift() as T
    return out
  }

  /** Drop every entry. */
  clear(): void {
    this.slots.fill(undefined)
    this.head = 0
    this.count = 0
  }

  private grow(): void {
    const old = this.slots
    const next = holes<T>(old.length * 2)
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & this.mask]
    this.slots = next
    this.mask = next.length - 1
    this.head = 0
  }
}

/**
 * An array of `n` empty slots. A literal, not `new Array(n)`: a spawnd's queues grow
 * while domains run, and a domain may have replaced the global Array.
 */
function holes<T>(n: number): (T | undefined)[] {
  const a: (T | undefined)[] = []
  a.length = n
  return a
}
