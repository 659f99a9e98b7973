/**
 * What the main thread and the peers' worker (peer-worker.ts) agree on: the modes,
 * and the atomics mode's words. Int32 indexes, a cache line apart:
 *
 *     [0]   PING  the main thread stores a sequence number
 *     [16]  PONG  the worker stores the same number back
 */
export type PeerMode = 'echo' | 'comlink' | 'poll' | 'atomics'

export const PING_WORD = 0
export const PONG_WORD = 16
export const ATOMICS_BYTES = 128
