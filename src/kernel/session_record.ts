/**
 * A session as the process manager keeps it (SessionRecord), what rt.sessions()
 * shows of it (SessionInfo), and the small rules both the table and the calls use:
 * a channel's capacity, a domain's own label.
 */
import type { Channel } from '../ring/channel.js'
import type { SessionEndReason } from '../session/end_reason.js'
import type { Quota } from '../session/quota.js'
import type { SessionState } from '../session/state.js'
import type { DomainEntry } from './domain_entry.js'
import type { ServerEnd } from './service_registry.js'

/** Bytes of each of a session channel's rings, when the client asks for none. */
export const DEFAULT_SESSION_CAPACITY = 65536

/** What rt.sessions() shows of one session. */
export interface SessionInfo {
  id: number
  service: string
  label: string
  state: SessionState
  /** The client domain's id; null for the main thread. */
  client: number | null
  /** The server domain's id; null for the main thread. */
  server: number | null
  /** The quota the client moved into it. */
  quota: Quota
  /** Bytes of its channel (paid from the quota). */
  channelBytes: number
  /** Bytes ever written client -> server and server -> client (mod 2^32). */
  bytesToServer: number
  bytesToClient: number
}

/** One session, as the process manager keeps it. */
export interface SessionRecord {
  id: number
  service: string
  label: string
  state: SessionState
  escrow: Quota
  channelBytes: number
  client: DomainEntry | null
  /** The client end's core; -1 the main thread. */
  clientCore: number
  server: ServerEnd
  chan: Channel
  handle: number | null
  methods: string[]
  args: unknown
  why: SessionEndReason | null
  /** Settled when the session reaches an end state. */
  ended: Promise<void>
  settleEnded: () => void
}

/** What an open asks: checked here, where it enters. */
export interface OpenArgs {
  service: unknown
  label?: unknown
  quota?: unknown
  args?: unknown
  capacity?: unknown
}

export function capacityArg(v: unknown): number {
  if (v === undefined) return DEFAULT_SESSION_CAPACITY
  if (
    typeof v !== 'number' ||
    !Number.isInteger(v) ||
    v < 1024 ||
    v > 1 << 26 ||
    (v & (v - 1)) !== 0
  ) {
    throw new RangeError(`capacity must be a power of two from 1024 to 2^26, got ${String(v)}`)
  }
  return v
}

/**
 * A domain's own label: given at spawn (or its service label), else its program's
 * file name without extension. Its identity in session labels and routes.
 */
export function domainLabel(e: DomainEntry): string {
  if (e.label !== '') return e.label
  const file = e.program.slice(e.program.lastIndexOf('/') + 1)
  const dot = file.indexOf('.')
  return dot > 0 ? file.slice(0, dot) : file
}

/** What the main thread's ends ask of the session table (session_main.ts). */
export interface SessionTableControl {
  close(r: SessionRecord, why: SessionEndReason): Promise<void>
  upgrade(r: SessionRecord, q: unknown): Promise<void>
}
