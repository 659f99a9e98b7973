/**
 * The domain table (Barrelfish's domain_table in proc_mgmt): the entries
 * (domain_entry.ts) that a spawnd confirmed, by domain id.
 *
 * Ids are handed out in order at request time and never reused (a freed
 * domain's capability must stay stale). The table is an open-addressing hash of
 * entries keyed by id (linear probing, Fibonacci hashing, backward-shift
 * deletion: no tombstones) beside a list in insertion order for iteration; both
 * are arrays that only grow, so adding and freeing an entry allocates nothing
 * (a Map keyed by id rehashed as short-lived domains came and went).
 *
 *   slots:  [ e | null ] x 2^bits    entry with id k at (k * 0x9e3779b1) >>> (32 - bits), or after
 *   order:  [ e | null ] x orderLen  entries as added; e.tableAt is its index, null once deleted
 */
import type { DomainEntry } from './domain_entry.js'

export type {
  DomainOwner,
  DomainState,
  DomainStatus,
  ExitReason,
  StopWaiter,
  TreeState,
  WaitResult,
} from './domain_entry.js'
export { DomainEntry } from './domain_entry.js'

const MIN_BITS = 6

export class DomainTable {
  private nextId = 1
  private bits = MIN_BITS
  private slots: (DomainEntry | null)[] = new Array<DomainEntry | null>(1 << MIN_BITS).fill(null)
  private count = 0
  /** Entries in insertion order, with holes (null) where deleted ones were; used up to orderLen. */
  private readonly order: (DomainEntry | null)[] = []
  private orderLen = 0

  /** Ids are handed out at request time; the entry appears on confirmation. */
  allocateId(): number {
    return this.nextId++
  }

  add(e: DomainEntry): void {
    if ((this.count + 1) * 2 > this.slots.length) this.grow()
    this.place(e)
    this.count++
    if (this.orderLen > 2 * this.count + 32) this.compact()
    e.tableAt = this.orderLen
    this.order[this.orderLen++] = e
  }

  get(id: number): DomainEntry | undefined {
    const slots = this.slots
    const mask = slots.length - 1
    for (let i = this.home(id); ; i = (i + 1) & mask) {
      const e = slots[i]
      if (e === null) return undefined
      if (e.id === id) return e
    }
  }

  delete(id: number): void {
    const slots = this.slots
    const mask = slots.length - 1
    let i = this.home(id)
    for (;;) {
      const e = slots[i]
      if (e === null) return
      if (e.id === id) break
      i = (i + 1) & mask
    }
    const gone = slots[i]!
    this.order[gone.tableAt] = null
    this.count--
    // Backward-shift: pull later entries of the probe run into the hole.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const e = slots[j]
      if (e === null) break
      const h = this.home(e.id)
      // e may move to i unless its home lies cyclically in (i, j].
      if (i <= j ? h <= i || h > j : h <= i && h > j) {
        slots[i] = e
        i = j
      }
    }
    slots[i] = null
  }

  /** Every entry, in insertion order: a snapshot, so the table may change meanwhile. */
  values(): DomainEntry[] {
    const out: DomainEntry[] = []
    const order = this.order
    for (let i = 0; i < this.orderLen; i++) {
      const e = order[i]
      if (e !== null) out.push(e)
    }
    return out
  }

  get size(): number {
    return this.count
  }

  private home(id: number): number {
    return Math.imul(id, 0x9e3779b1) >>> (32 - this.bits)
  }

  private place(e: DomainEntry): void {
    const slots = this.slots
    const mask = slots.length - 1
    let i = this.home(e.id)
    while (slots[i] !== null) i = (i + 1) & mask
    slots[i] = e
  }

  private grow(): void {
    const old = this.slots
    this.bits++
    this.slots = new Array<DomainEntry | null>(1 << this.bits).fill(null)
    for (const e of old) if (e !== null) this.place(e)
  }

  /** Drop the holes from the insertion-order list, in place (its array never shrinks). */
  private compact(): void {
    const order = this.order
    let n = 0
    for (let i = 0; i < this.orderLen; i++) {
      const e = order[i]
      if (e === null) continue
      order[n] = e
      e.tableAt = n++
    }
    for (let i = n; i < this.orderLen; i++) order[i] = null
    this.orderLen = n
  }
}
