/**
 * Capabilities: unforgeable handles that name a domain. Holding one is the
 * permission to act on it. A cap is an id plus a 128-bit random token that only
 * the process manager's table knows; a made-up or copied-with-a-wrong-token cap
 * is refused (DOMAIN_CAP_INVALID), one whose domain is gone is stale
 * (DOMAIN_NOTFOUND). Caps are plain frozen data, so they can cross threads.
 *
 * The token is kept as four int32 words (t0..t3: small integers, no string and no
 * heap number per domain) and checked word for word; `token`, its 32-digit hex
 * text, is made only when someone reads it. A cap rebuilt from that text (new
 * DomainCap(id, token)) or carried as plain data ({ id, token }, or a structured
 * clone with its words) is checked against the same 128 bits.
 */
import { randomFillSync } from 'node:crypto'

export class DomainCap {
  readonly kind = 'domain'
  readonly id: number
  /** The token's words, most significant first; NaN in a cap made from text that is no token. */
  private readonly t0: number
  private readonly t1: number
  private readonly t2: number
  private readonly t3: number

  /** A cap from an id and its token: 32 hex digits, or the four words the kernel mints. */
  constructor(id: number, token: string | TokenWords) {
    this.id = id
    if (typeof token === 'string') token = parseToken(token)
    this.t0 = token[0]
    this.t1 = token[1]
    this.t2 = token[2]
    this.t3 = token[3]
    Object.freeze(this)
  }

  /** The 128-bit token as 32 hex digits (made on each read; the kernel compares words). */
  get token(): string {
    return hex(this.t0) + hex(this.t1) + hex(this.t2) + hex(this.t3)
  }

  /** True when `other` carries this cap's token (words compare; NaN never matches). */
  sameToken(other: DomainCap): boolean {
    return (
      this.t0 === other.t0 && this.t1 === other.t1 && this.t2 === other.t2 && this.t3 === other.t3
    )
  }

  toString(): string {
    return `domain#${this.id}`
  }
}

/** A token as four int32 words, most significant first. */
export type TokenWords = readonly [number, number, number, number]

const NOT_A_TOKEN: TokenWords = [NaN, NaN, NaN, NaN]

function hex(w: number): string {
  return (w >>> 0).toString(16).padStart(8, '0')
}

/** 32 hex digits as words; a text that is not one parses to words that match no token. */
function parseToken(s: string): TokenWords {
  if (s.length !== 32 || !/^[0-9a-f]{32}$/.test(s)) return NOT_A_TOKEN
  const w = (i: number): number => parseInt(s.slice(i * 8, i * 8 + 8), 16) | 0
  return [w(0), w(1), w(2), w(3)]
}

// Tokens come from a pool of CSPRNG words, refilled 256 tokens at a time: one
// system call per 256 spawns instead of one per spawn.
const POOL = new Int32Array(4 * 256)
let poolAt = POOL.length
/** The words of the token being minted (the constructor copies them out at once). */
const minted: [number, number, number, number] = [0, 0, 0, 0]

/** A fresh cap for domain `id`, its token 128 bits from the CSPRNG. */
export function mintCap(id: number): DomainCap {
  if (poolAt === POOL.length) {
    randomFillSync(POOL)
    poolAt = 0
  }
  minted[0] = POOL[poolAt]
  minted[1] = POOL[poolAt + 1]
  minted[2] = POOL[poolAt + 2]
  minted[3] = POOL[poolAt + 3]
  poolAt += 4
  return new DomainCap(id, minted)
}

/**
 * Shape check only (the process manager checks the token against its table): a
 * DomainCap, or plain data with an integer id and a token (its text, or its words).
 */
export function looksLikeCap(x: unknown): x is { id: number } {
  if (typeof x !== 'object' || x === null) return false
  const c = x as { id?: unknown; token?: unknown; t0?: unknown }
  if (typeof c.id !== 'number' || !Number.isInteger(c.id)) return false
  return x instanceof DomainCap || typeof c.token === 'string' || typeof c.t0 === 'number'
}

/** The cap `x` (shape-checked by looksLikeCap) as a DomainCap, to compare tokens. */
export function asCap(x: { id: number }): DomainCap {
  if (x instanceof DomainCap) return x
  const c = x as {
    id: number
    token?: unknown
    t0?: unknown
    t1?: unknown
    t2?: unknown
    t3?: unknown
  }
  if (typeof c.token === 'string') return new DomainCap(c.id, c.token)
  const word = (v: unknown): number => (typeof v === 'number' && (v | 0) === v ? v : NaN)
  return new DomainCap(c.id, [word(c.t0), word(c.t1), word(c.t2), word(c.t3)])
}
