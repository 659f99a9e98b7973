/**
 * CoreSet: a set of core numbers, as a bitmask for cores 0..30 (every machine
 * this runs on) and a Set only beyond. A domain entry keeps three sets of cores
 * (the cores it runs on, is being spanned to, holds resources on) as masks in
 * itself (DomainCores, below), with a CoreSet only for cores from 31 up.
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
    return popcount(this.mask) + (this.high?.size ?? 0)
  }

  /** Ascending core numbers, over a snapshot: deleting while iterating is safe. */
  *[Symbol.iterator](): Iterator<number> {
    const mask = this.mask
    for (let c = 0; c < MASK_BITS; c++) if ((mask & (1 << c)) !== 0) yield c
    if (this.high !== null) yield* [...this.high].sort((a, b) => a - b)
  }
}

/** Which of a domain's three sets of cores (DomainCores). */
export const RUNNING = 0
export const SPANNING = 1
export const RESOURCES = 2
export type CoreRole = typeof RUNNING | typeof SPANNING | typeof RESOURCES

type HighCores = [CoreSet, CoreSet, CoreSet]

/**
 * Cores from MASK_BITS up, by entry: only on a machine with that many cores (and
 * only looked up once one was ever used), so the entry spends no field on them.
 */
const HIGH = new WeakMap<DomainCores, HighCores>()
let anyHigh = false

/**
 * A domain's three sets of cores, kept in the domain entry itself (its base
 * class): three bitmask fields for cores 0..30, and CoreSets for higher cores
 * (beside it, in HIGH) only on a machine that has them. Three CoreSet objects per
 * entry were 120 bytes of garbage per short-lived domain; three small-integer
 * fields are none.
 *
 *   RUNNING    cores running a dispatcher, including ones whose span is not answered
 *   SPANNING   cores whose span is sent but not answered (no kill goes there until it is)
 *   RESOURCES  cores holding a dispatcher entry that needs a cleanup
 */
export class DomainCores {
  private runningMask = 0
  private spanningMask = 0
  private resourcesMask = 0

  addCore(role: CoreRole, core: number): void {
    if (core >= MASK_BITS) return this.highSet(role).add(core)
    const bit = 1 << core
    if (role === RUNNING) this.runningMask |= bit
    else if (role === SPANNING) this.spanningMask |= bit
    else this.resourcesMask |= bit
  }

  deleteCore(role: CoreRole, core: number): void {
    if (core >= MASK_BITS) return this.high?.[role].delete(core)
    const keep = ~(1 << core)
    if (role === RUNNING) this.runningMask &= keep
    else if (role === SPANNING) this.spanningMask &= keep
    else this.resourcesMask &= keep
  }

  hasCore(role: CoreRole, core: number): boolean {
    if (core >= MASK_BITS) return this.high?.[role].has(core) === true
    return (this.mask(role) & (1 << core)) !== 0
  }

  /** How many cores are in the set (num_spawnds_running / num_spawnds_resources). */
  coreCount(role: CoreRole): number {
    return popcount(this.mask(role)) + (this.high?.[role].size ?? 0)
  }

  /** The lowest core in the set, or -1 when it is empty. */
  firstCore(role: CoreRole): number {
    const mask = this.mask(role)
    if (mask !== 0) return 31 - Math.clz32(mask & -mask)
    if (this.high !== null) for (const c of this.high[role]) return c
    return -1
  }

  /** The set's cores, ascending: a snapshot, so changing the set while iterating is safe. */
  coreList(role: CoreRole): number[] {
    const mask = this.mask(role)
    const out: number[] = []
    for (let c = 0; c < MASK_BITS; c++) if ((mask & (1 << c)) !== 0) out.push(c)
    if (this.high !== null) for (const c of this.high[role]) out.push(c)
    return out
  }

  private mask(role: CoreRole): number {
    return role === RUNNING
      ? this.runningMask
      : role === SPANNING
        ? this.spanningMask
        : this.resourcesMask
  }

  /** The three sets' cores from MASK_BITS up, or null when it never had one. */
  private get high(): HighCores | null {
    return anyHigh ? (HIGH.get(this) ?? null) : null
  }

  private highSet(role: CoreRole): CoreSet {
    anyHigh = true
    let h = HIGH.get(this)
    if (h === undefined) HIGH.set(this, (h = [new CoreSet(), new CoreSet(), new CoreSet()]))
    return h[role]
  }
}

/** Population count of a 31-bit mask. */
function popcount(mask: number): number {
  let m = mask - ((mask >>> 1) & 0x55555555)
  m = (m & 0x33333333) + ((m >>> 2) & 0x33333333)
  return (((m + (m >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24
}
