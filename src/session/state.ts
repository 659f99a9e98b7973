/**
 * A session's state, as Genode's Session_state (base/session_state.h):
 *
 *   CREATE_REQUESTED -> AVAILABLE -> CAP_HANDED_OUT <-> UPGRADE_REQUESTED
 *                 \            \          \
 *                  \            \          -> CLOSE_REQUESTED -> CLOSED
 *                   -> DENIED    -> (the client died before it got the cap: CLOSED)
 *                   -> INSUFFICIENT_QUOTA
 *
 * DENIED and INSUFFICIENT_QUOTA are ends: the request failed and its quota went
 * back to the client. CLOSED is the end of a session that was open.
 */
export type SessionState =
  | 'CREATE_REQUESTED'
  | 'AVAILABLE'
  | 'CAP_HANDED_OUT'
  | 'UPGRADE_REQUESTED'
  | 'CLOSE_REQUESTED'
  | 'CLOSED'
  | 'DENIED'
  | 'INSUFFICIENT_QUOTA'

/** The transitions allowed: anything else is a bug in the process manager. */
const NEXT: Readonly<Record<SessionState, readonly SessionState[]>> = {
  CREATE_REQUESTED: ['AVAILABLE', 'DENIED', 'INSUFFICIENT_QUOTA', 'CLOSED'],
  AVAILABLE: ['CAP_HANDED_OUT', 'CLOSED'],
  CAP_HANDED_OUT: ['UPGRADE_REQUESTED', 'CLOSE_REQUESTED', 'CLOSED'],
  UPGRADE_REQUESTED: ['CAP_HANDED_OUT', 'CLOSE_REQUESTED', 'CLOSED'],
  CLOSE_REQUESTED: ['CLOSED'],
  CLOSED: [],
  DENIED: [],
  INSUFFICIENT_QUOTA: [],
}

export function canMove(from: SessionState, to: SessionState): boolean {
  return NEXT[from].includes(to)
}

/** True in the ends: nothing more happens to the session. */
export function isEnded(s: SessionState): boolean {
  return s === 'CLOSED' || s === 'DENIED' || s === 'INSUFFICIENT_QUOTA'
}
