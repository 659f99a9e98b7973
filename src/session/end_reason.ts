/**
 * Why a session ended: one small integer, stored as the channel's closed word (so
 * whoever closes the channel, an end or the process manager, tells both ends the
 * reason with the same store that closes it), and its public name.
 */
export type SessionEndReason =
  /** The client closed it. */
  | 'closed'
  /** The server ended it (its close, or a deny after open). */
  | 'server-closed'
  /** The server domain exited, was killed, or was restarted. */
  | 'server-exit'
  /** The client domain exited or was killed. */
  | 'client-exit'
  /** The core of one end failed. */
  | 'core-failed'
  /** The runtime shut down. */
  | 'shutdown'

/** Index = the word stored in the channel's closed slot (0 = open). */
const REASONS: readonly (SessionEndReason | null)[] = [
  null,
  'closed',
  'server-closed',
  'server-exit',
  'client-exit',
  'core-failed',
  'shutdown',
]

export function reasonToWord(r: SessionEndReason): number {
  return REASONS.indexOf(r)
}

/** The reason a closed word says (an unknown non-zero word reads as 'closed'). */
export function reasonFromWord(w: number): SessionEndReason | null {
  if (w === 0) return null
  return REASONS[w] ?? 'closed'
}
