/**
 * The quota accounts (session/quota.ts): the root's, kept here, and every domain's,
 * kept as two numbers on its entry. Every move is all or nothing: a debit that
 * does not fit changes nothing and throws OUT_OF_QUOTA.
 *
 * Conservation: root + every domain's account + every session's escrow = total,
 * after every step (the property test checks it through rt.quotaTotals()).
 */
import { KernelError } from '../errors.js'
import { DEFAULT_CHILD_SHARE, covers, showQuota, type Quota } from '../session/quota.js'
import type { DomainEntry } from './domain_entry.js'

/** Whose account: a domain's entry, or null for the root (the runtime itself). */
export type AccountOwner = DomainEntry | null

export class Accounts {
  readonly total: Readonly<Quota>
  private rootBytes: number
  private rootHandles: number

  constructor(total: Quota) {
    this.total = Object.freeze({ bytes: total.bytes, handles: total.handles })
    this.rootBytes = total.bytes
    this.rootHandles = total.handles
  }

  /** The balance of an account (a fresh object). */
  balance(owner: AccountOwner): Quota {
    return owner === null
      ? { bytes: this.rootBytes, handles: this.rootHandles }
      : { bytes: owner.quotaBytes, handles: owner.quotaHandles }
  }

  /** Take `q` from `owner`'s account, all or nothing (OUT_OF_QUOTA, saying who and how much). */
  take(owner: AccountOwner, q: Readonly<Quota>, why: string): void {
    const have = this.balance(owner)
    if (!covers(have, q)) {
      const who = owner === null ? 'the runtime' : `domain ${owner.id}`
      throw new KernelError(
        'OUT_OF_QUOTA',
        `${why}: ${who} has ${showQuota(have)}, ${showQuota(q)} needed`,
      )
    }
    this.add(owner, -q.bytes, -q.handles)
  }

  /** Put `q` into `owner`'s account (a freed domain's share goes to the root). */
  give(owner: AccountOwner | undefined, q: Readonly<Quota>): void {
    this.add(owner ?? null, q.bytes, q.handles)
  }

  private add(owner: AccountOwner, bytes: number, handles: number): void {
    if (owner === null) {
      this.rootBytes += bytes
      this.rootHandles += handles
    } else {
      owner.quotaBytes += bytes
      owner.quotaHandles += handles
    }
  }

  /**
   * A child's share at spawn, taken from its parent now: `q` as asked (OUT_OF_QUOTA
   * when the parent is short), or with none asked the default share, cut to what
   * the parent has (a default share never fails a spawn). No allocation for the
   * default: the spawn path stays lean.
   */
  donate(parent: AccountOwner, q: Readonly<Quota> | null, child: DomainEntry): void {
    if (q !== null) {
      this.take(parent, q, 'spawn')
      child.quotaBytes = q.bytes
      child.quotaHandles = q.handles
      return
    }
    const pb = parent === null ? this.rootBytes : parent.quotaBytes
    const ph = parent === null ? this.rootHandles : parent.quotaHandles
    const b = pb < DEFAULT_CHILD_SHARE.bytes ? pb : DEFAULT_CHILD_SHARE.bytes
    const h = ph < DEFAULT_CHILD_SHARE.handles ? ph : DEFAULT_CHILD_SHARE.handles
    this.add(parent, -b, -h)
    child.quotaBytes = b
    child.quotaHandles = h
  }

  /** A child's whole account goes back to `heir` (its parent, or the root): spawn failed, or freed. */
  returnAll(child: DomainEntry, heir: AccountOwner | undefined): void {
    this.add(heir ?? null, child.quotaBytes, child.quotaHandles)
    child.quotaBytes = 0
    child.quotaHandles = 0
  }
}
