/**
 * Handle tables (Camellia): each domain holds the capabilities it may use in a
 * fixed-size table, and names them by index, the way a process names files by
 * descriptor. A domain can act only on what its own table names, so there is
 * nothing to forge: a number outside the table, or a closed slot, is BAD_HANDLE.
 *
 * A table may be shared by a parent and a child (Camellia's FORK_SHAREHANDLE):
 * then both see every dup and close of the other. Copied handles (Barrelfish's
 * spawn_with_caps) are new slots in the child's own table, independent of the
 * parent's.
 *
 * A slot names a domain (its id, > 0) or a session (minus its id): a session is a
 * capability too (Genode's session cap), held, passed and closed the same way.
 */
import { KernelError } from '../errors.js'

export class HandleTable {
  readonly max: number
  private readonly slots: (number | null)[] = []

  constructor(max: number) {
    this.max = max
  }

  /** Put a capability to `domainId` in the lowest free slot. */
  add(domainId: number): number {
    let h = this.slots.indexOf(null)
    if (h < 0) {
      if (this.slots.length >= this.max) {
        throw new KernelError('HANDLE_TABLE_FULL', `handle table full (${this.max} handles)`)
      }
      h = this.slots.length
      this.slots.push(domainId)
    } else {
      this.slots[h] = domainId
    }
    return h
  }

  /** What a handle names: a domain id (> 0) or minus a session id. */
  private slot(h: number): number {
    const id = Number.isInteger(h) && h >= 0 && h < this.slots.length ? this.slots[h] : null
    if (id === null || id === undefined)
      throw new KernelError('BAD_HANDLE', `no handle ${h} in this table`)
    return id
  }

  /** The domain a handle names. */
  get(h: number): number {
    const id = this.slot(h)
    if (id < 0) throw new KernelError('BAD_HANDLE', `handle ${h} names a session, not a domain`)
    return id
  }

  /** The session a handle names. */
  getSession(h: number): number {
    const id = this.slot(h)
    if (id > 0) throw new KernelError('BAD_HANDLE', `handle ${h} names a domain, not a session`)
    return -id
  }

  /** Put a session capability in the lowest free slot. */
  addSession(sessionId: number): number {
    return this.add(-sessionId)
  }

  /** The first handle naming session `sessionId`, or null. */
  findSession(sessionId: number): number | null {
    return this.find(-sessionId)
  }

  /** The raw slot (domain id, or minus a session id), for copying into another table. */
  raw(h: number): number {
    return this.slot(h)
  }

  dup(h: number): number {
    return this.add(this.slot(h))
  }

  close(h: number): void {
    this.slot(h)
    this.slots[h] = null
  }

  /** Drop every handle naming `domainId` (its entry was freed). */
  closeAll(domainId: number): void {
    for (let h = 0; h < this.slots.length; h++) if (this.slots[h] === domainId) this.slots[h] = null
  }

  /** The first handle naming `domainId`, or null. */
  find(domainId: number): number | null {
    const h = this.slots.indexOf(domainId)
    return h < 0 ? null : h
  }

  /** Every slot in use: a domain's as { handle, domainId }, a session's as { handle, sessionId }. */
  list(): ({ handle: number; domainId: number } | { handle: number; sessionId: number })[] {
    const out: ({ handle: number; domainId: number } | { handle: number; sessionId: number })[] = []
    this.slots.forEach((id, handle) => {
      if (id === null) return
      out.push(id > 0 ? { handle, domainId: id } : { handle, sessionId: -id })
    })
    return out
  }
}
