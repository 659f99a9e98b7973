/**
 * The SPAWN / SPAN request in binary: what to run travels as a small number, and
 * text only when there is something to say. Program URLs are interned per core:
 * the first request for a URL on a core carries it and names its index; later ones
 * carry the index alone. A trivial spawn (a known program, no argv, no env) is a
 * frame of six words with no text, encoded and decoded with no JSON at all.
 *
 * The value word of the frame header (frame.ts):
 *
 *     bits 0..23  program index on this core (1..MAX_PROGRAMS); 0: not interned
 *     bit  24     HAS_URL   the text carries the URL (and defines the index if != 0)
 *     bit  25     HAS_ARGS  the text carries argv and env
 *
 * The text, by flags:
 *
 *     HAS_URL               the URL as is
 *     HAS_ARGS              JSON [argv, env]
 *     HAS_URL | HAS_ARGS    JSON [url, argv, env]
 *     neither               none
 *
 * Ring order makes interning safe: a spawnd handles its requests in the order they
 * were sent, so the request that defines an index is decoded before any that uses
 * it; the decoder records an index before any other check can refuse the spawn. An
 * index is committed on the sending side only once its frame was accepted (sent or
 * queued), and a restarted core gets a fresh link, so both tables start empty
 * together. The table is bounded: past MAX_PROGRAMS URLs travel inline, uninterned.
 */
import { KernelError } from '../errors.js'
import { JSONParse } from '../intrinsics.js'
import type { SpawnText } from './messages.js'

export const MAX_PROGRAMS = 4096
const INDEX_MASK = 0xffffff
const HAS_URL = 1 << 24
const HAS_ARGS = 1 << 25

/** Shared, frozen: the argv and env of every spawn that has none (most). */
export const NO_ARGV: readonly string[] = Object.freeze([])
export const NO_ENV: Readonly<Record<string, string>> = Object.freeze({})

function hasKeys(o: object): boolean {
  for (const _ in o) return true
  return false
}

/** The process manager's side, one per core link. */
export class SpawnEncoder {
  private readonly index = new Map<string, number>()
  /** The index the last encode() assigned, not yet committed (0: none). */
  private pending = 0
  private pendingUrl = ''
  /** The text of the last encode() (null: the frame has none). */
  text: string | null = null

  /** The value word for a spawn of `url` with `argv` and `env`; its text is in `text`. */
  encode(url: string, argv: readonly string[], env: Readonly<Record<string, string>>): number {
    const args = argv.length > 0 || hasKeys(env)
    let idx = this.index.get(url)
    let value: number
    if (idx !== undefined) {
      this.pending = 0
      value = idx
      this.text = args ? JSON.stringify([argv, env]) : null
    } else {
      idx = this.index.size < MAX_PROGRAMS ? this.index.size + 1 : 0
      this.pending = idx
      this.pendingUrl = url
      value = idx | HAS_URL
      this.text = args ? JSON.stringify([url, argv, env]) : url
    }
    return args ? value | HAS_ARGS : value
  }

  /** The frame of the last encode() was accepted: its new index (if any) holds from now on. */
  commit(): void {
    if (this.pending !== 0) this.index.set(this.pendingUrl, this.pending)
    this.pending = 0
  }
}

function protocol(why: string): KernelError {
  return new KernelError('PROTOCOL', `malformed spawn request: ${why}`)
}

function strings(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((a) => typeof a === 'string')
}

function stringRecord(x: unknown): x is Record<string, string> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false
  for (const v of Object.values(x)) if (typeof v !== 'string') return false
  return true
}

/** The spawnd's side: the URLs its process manager interned. */
export class SpawnDecoder {
  private readonly urls: string[] = []

  /** What a SPAWN / SPAN asks to run; PROTOCOL (a KernelError) when it makes no sense. */
  decode(value: number, text: string | null): SpawnText {
    const idx = value & INDEX_MASK
    if ((value & HAS_URL) === 0) {
      const url = idx === 0 ? undefined : this.urls[idx]
      if (url === undefined) throw protocol(`program ${idx} was never named on this core`)
      if ((value & HAS_ARGS) === 0) return { url, argv: NO_ARGV as string[], env: NO_ENV }
      const [argv, env] = this.parse(text, 2)
      return this.checked(url, argv, env)
    }
    if (text === null) throw protocol('no program URL')
    if ((value & HAS_ARGS) === 0) {
      this.define(idx, text)
      return { url: text, argv: NO_ARGV as string[], env: NO_ENV }
    }
    const [url, argv, env] = this.parse(text, 3)
    if (typeof url !== 'string') throw protocol('the program URL is not a string')
    this.define(idx, url)
    return this.checked(url, argv, env)
  }

  private define(idx: number, url: string): void {
    if (idx > MAX_PROGRAMS) throw protocol(`program index ${idx} out of range`)
    if (idx !== 0) this.urls[idx] = url
  }

  private parse(text: string | null, n: number): unknown[] {
    let v: unknown
    try {
      v = JSONParse(text ?? '')
    } catch (err) {
      throw KernelError.push(err, 'PROTOCOL', 'malformed spawn request: bad JSON')
    }
    if (!Array.isArray(v) || v.length !== n) throw protocol(`expected ${n} parts`)
    return v
  }

  private checked(url: string, argv: unknown, env: unknown): SpawnText {
    if (!strings(argv)) throw protocol('argv is not an array of strings')
    if (!stringRecord(env)) throw protocol('env is not an object of strings')
    return { url, argv, env }
  }
}
