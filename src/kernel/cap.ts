/**
 * Capabilities: unforgeable handles that name a domain. Holding one is the
 * permission to act on it. A cap is an id plus a 128-bit random token that only
 * the process manager's table knows; a made-up or copied-with-a-wrong-token cap
 * is refused (DOMAIN_CAP_INVALID), one whose domain is gone is stale
 * (DOMAIN_NOTFOUND). Caps are plain frozen data, so they can cross threads.
 */
import { randomFillSync } from 'node:crypto'

export class DomainCap {
  readonly kind = 'domain'
  readonly id: number
  readonly token: string

  constructor(id: number, token: string) {
    this.id = id
    this.token = token
    Object.freeze(this)
  }

  toString(): string {
    return `domain#${this.id}`
  }
}

// Tokens come from a pool of CSPRNG bytes, refilled 256 tokens at a time: one
// system call per 256 spawns instead of one per spawn.
const POOL = Buffer.alloc(16 * 256)
let poolAt = POOL.length

export function mintToken(): string {
  if (poolAt === POOL.length) {
    randomFillSync(POOL)
    poolAt = 0
  }
  const t = POOL.toString('hex', poolAt, poolAt + 16)
  poolAt += 16
  return t
}

/** Shape check only (the process manager checks the token against its table). */
export function looksLikeCap(x: unknown): x is { id: number; token: string } {
  if (typeof x !== 'object' || x === null) return false
  const c = x as { id?: unknown; token?: unknown }
  return typeof c.id === 'number' && Number.isInteger(c.id) && typeof c.token === 'string'
}
