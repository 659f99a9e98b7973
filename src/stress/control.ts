/**
 * The control block a stress run shares between the main thread and its workers,
 * beside the MPMC ring (which lives in a SharedArrayBuffer of its own).
 *
 * Memory layout, 64-byte lines (indices are Int32Array words):
 *
 *     line 0  +0    [0] start      0 until the main thread lets every worker go
 *             +4    [1] stop       set by the main thread when the duration is over
 *             +8    [2] done       producers that finished (consumers stop at P, ring empty)
 *             +12   [3] snapped    1 once the first finished producer took the fairness snapshot
 *     line 1  +64   notEmpty doorbell: consumers sleep here, producers ring after commit
 *     line 2  +128  notFull doorbell: producers sleep here, consumers ring after release
 *     line 3  +192  [48] a private word for timed "yield" waits of the spin strategy
 *     line 4.. +256 one line per producer: [0] frames sent so far (progress, fairness)
 *     then          one line per consumer: [0] frames received so far (progress)
 *     then          P words: every producer's sent count when the first producer finished
 *
 * Progress counters sit on lines of their own so that a thread's own counter never
 * shares a cache line with another thread's (no false sharing on the hot path).
 */
import { DOORBELL_BYTES } from '../ring/index.js'

export const LINE = 64
const W = LINE >> 2
export const START = 0
export const STOP = 1
export const DONE = 2
export const SNAPPED = 3
export const NOT_EMPTY_OFFSET = LINE
export const NOT_FULL_OFFSET = 2 * LINE
export const YIELD_WORD = 3 * W
const FIRST_COUNTER_LINE = 4

export interface ControlShape {
  producers: number
  consumers: number
}

export function controlBytes(s: ControlShape): number {
  return (FIRST_COUNTER_LINE + s.producers + s.consumers) * LINE + s.producers * 4
}

/** Word index of producer `p`'s sent counter. */
export function producerCounter(p: number): number {
  return (FIRST_COUNTER_LINE + p) * W
}

/** Word index of consumer `c`'s received counter. */
export function consumerCounter(s: ControlShape, c: number): number {
  return (FIRST_COUNTER_LINE + s.producers + c) * W
}

/** Word index of producer `p`'s count in the fairness snapshot. */
export function snapshotWord(s: ControlShape, p: number): number {
  return (FIRST_COUNTER_LINE + s.producers + s.consumers) * W + p
}

// The doorbells must fit their lines.
if (DOORBELL_BYTES > LINE) throw new Error('a doorbell no longer fits one control line')
