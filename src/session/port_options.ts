/**
 * A session port's options, its statistics, and the words it says when it ends:
 * the public surface of port.ts, kept apart so that file holds the mechanism.
 */
import { ObjectFreeze } from '../intrinsics.js'
import type { SessionEndReason } from './end_reason.js'
import type { SessionMethod } from './port_server.js'

export type BytesHandler = (bytes: Uint8Array, start: number, end: number) => void

export interface SessionPortOptions {
  role: 'client' | 'server'
  /** The methods CALL frames run, by index (a server's session methods). */
  methods?: readonly SessionMethod[]
  /** `this` of every method call. */
  thisArg?: unknown
  /** Spin iterations before a wait sleeps (default: the channel's). */
  spin?: number
  /** Received values waiting for the iterator before the reader stops draining. */
  inboxLimit?: number
}

export interface SessionPortStats {
  callsOut: number
  callsIn: number
  /** Frames of every kind (calls, results, errors, values, bytes). */
  messagesOut: number
  messagesIn: number
  /** Frame payload bytes, the port's 8-byte frame header included. */
  bytesOut: number
  bytesIn: number
}

export const DEFAULT_INBOX_LIMIT = 1024
/** Method indices fit the 24 bits of a CALL frame's word. */
export const MAX_METHOD = (1 << 23) - 1
/** Reader turns without a real sleep before it yields to the event loop. */
export const YIELD_TURNS = 64
/** Smallest ring a port runs on: an error frame must always fit. */
export const MIN_PAYLOAD = 56

export const DONE: IteratorResult<unknown> = ObjectFreeze({ value: undefined, done: true })

export const WHY: Record<SessionEndReason, string> = {
  closed: 'the client closed it',
  'server-closed': 'the server closed it',
  'server-exit': 'the server domain exited, was killed or restarted',
  'client-exit': 'the client domain exited or was killed',
  'core-failed': 'the core of one end failed',
  shutdown: 'the runtime shut down',
}

export function noop(): void {}
