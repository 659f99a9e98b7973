/**
 * CoreSet: a set of core numbers, as a bitmask for cores 0..30 (every machine
 * this runs on) and a Set only beyond. A domain entry keeps three of these (the
 * cores it runs on, is being spanned to, holds resources on); as Sets they were
 * the largest part of the garbage a short-lived domain leaves on the main thread.
 * Adding or deleting twice changes nothing, which is what makes a second answer
 * from the same core harmless (Barrelfish double-counted in an integer).
 */
const MASK_BITS = 31

export class CoreSet implements Iterable<number> {
  private mask = 0
  private high: Set<number> | null = null

  add(core: number): void {
    if (core < MASK_BITS) this.mask |= 1 << core
    else (this.high ??= new Set()).add(core)
  }

  delete(core: number): void {
    if (core < MASK_BITS) this.mask &= ~(1 << core)
    else this.high?.delete(core)
  }

  has(core: number): boolean {
    return core < MASK_BITS ? (this.mask & (1 << core)) !== 0 : this.high?.has(core) === true
  }

  get size(): number {
    // Population count of a 31-bit mask.
    let m = this.mask - ((this.mask >>> 1) & 0x55555555)
    m = (m & 0x33333333) + ((m >>> 2) & 0x33333333)
    const low = (((m + (m >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24
    return low + (this.high?.size ?? 0)
  }

  /** Ascending core numbers, over a snapshot: deleting while iterating is safe. */
  *[Symbol.iterator](): Iterator<number> {
    const mask = this.mask
    for (let c = 0; c < MASK_BITS; c++) if ((mask & (1 << c)) !== 0) yield c
    if (this.high !== null) yield* [...this.high].sort((a, b) => a - b)
  }
}
