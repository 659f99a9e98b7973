/**
 * A core's gauges: a small SharedArrayBuffer the spawnd writes and the supervisor
 * reads, with no message and no help from the worker's event loop (a core in a
 * synchronous loop cannot answer anything; its last figures and their age still
 * can be read).
 *
 *     word  field         written by the spawnd
 *     [0]   HEAP_KB       V8 used_heap_size of its isolate, KiB          every 50 ms
 *     [1]   EXTERNAL_KB   process.memoryUsage().arrayBuffers, KiB         every 50 ms
 *                         (ArrayBuffers, Buffers, SharedArrayBuffers, touched or not)
 *     [2]   STAMP         Date.now() mod 2^30 of the last memory report     every 50 ms
 *     [3]   MODULES       distinct program URLs it has imported (never freed: ESM)
 *     [4]   IDLE          1 when it hosts nothing (no dispatcher, no load, no call)
 *     [5]   HANDLED       requests handled (int32, wrapping), written after IDLE
 *     [6]   HEAP_LIMIT_KB V8 heap_size_limit (the real hard limit), at boot
 *     [7]   -             reserved
 *
 * IDLE and HANDLED are one snapshot: the spawnd stores IDLE, then HANDLED (both
 * seq-cst). When HANDLED equals the number of requests the process manager sent
 * it, every request was handled before IDLE was stored, and no dispatcher can
 * start without a request, so IDLE = 1 then means "hosts nothing, and will not
 * until asked": the condition for retiring the core without losing anyone.
 */
import { AtomicsLoad, AtomicsStore, DateNow } from '../intrinsics.js'

export const GAUGE_WORDS = 8
export const GAUGE_BYTES = GAUGE_WORDS * 4

export const G_HEAP_KB = 0
export const G_EXTERNAL_KB = 1
export const G_STAMP = 2
export const G_MODULES = 3
export const G_IDLE = 4
export const G_HANDLED = 5
export const G_HEAP_LIMIT_KB = 6

const STAMP_MOD = 2 ** 30

/** A fresh gauge block (the link side makes it; the spawnd attaches to it). */
export function gaugeBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(GAUGE_BYTES)
}

/** The stamp for now: milliseconds mod 2^30 (fits an int32), never 0 (0: no report yet). */
export function stampNow(): number {
  return DateNow() % STAMP_MOD || 1
}

/** True once the spawnd has reported at all (a booting one has not: it is not judged). */
export function hasReported(g: Int32Array): boolean {
  return AtomicsLoad(g, G_STAMP) !== 0
}

/** Milliseconds since the block's last memory report. */
export function stampAge(g: Int32Array): number {
  return (stampNow() - AtomicsLoad(g, G_STAMP) + STAMP_MOD) % STAMP_MOD
}

export function gauge(g: Int32Array, word: number): number {
  return AtomicsLoad(g, word)
}

export function setGauge(g: Int32Array, word: number, value: number): void {
  AtomicsStore(g, word, value | 0)
}

/**
 * True when the spawnd hosts nothing and has handled every one of the `sent`
 * requests: read HANDLED on both sides of IDLE so the pair is one snapshot.
 */
export function idleAfter(g: Int32Array, sent: number): boolean {
  const h1 = AtomicsLoad(g, G_HANDLED)
  const idle = AtomicsLoad(g, G_IDLE)
  const h2 = AtomicsLoad(g, G_HANDLED)
  return h1 === h2 && h1 === (sent | 0) && idle === 1
}
