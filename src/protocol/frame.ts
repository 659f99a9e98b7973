/**
 * The frame codec: every process-manager <-> spawnd message is one ring frame whose
 * payload starts with six int32 words, optionally followed by UTF-8 text.
 *
 *     word  request (PM -> spawnd)        reply / notification (spawnd -> PM)
 *     [0]   op                            op (REPLY or EXIT)
 *     [1]   tag (matches the reply)       tag of the request answered (0 for EXIT)
 *     [2]   process-manager token         error code (0 = OK) / how main ended (EXIT)
 *     [3]   domain id                     domain id
 *     [4]   argument (core, ...)          value (dispatcher id, exit code, count)
 *     [5]   text length in bytes          text length in bytes
 *     +24   text: UTF-8 (program URL and JSON argv/env, an error, a table...)
 *
 * Pure functions over a ring's typed views: a frame without text is encoded and
 * decoded with no allocation at all (the ping path). Text goes through one
 * module-level scratch buffer with TextEncoder.encodeInto, then one copy.
 */
import type { SpscRing } from '../ring/spsc.js'

export const HEADER_WORDS = 6
export const HEADER_BYTES = HEADER_WORDS * 4
export const W_OP = 0
export const W_TAG = 1
export const W_AUX = 2
export const W_DOMAIN = 3
export const W_VALUE = 4
export const W_TEXTLEN = 5

const encoder = new TextEncoder()
const decoder = new TextDecoder()
let scratch = new Uint8Array(4096)

/** UTF-8 bytes of `text` (in the shared scratch buffer, valid until the next call). */
export function encodeText(text: string): number {
  // encodeInto writes at most 3 bytes per UTF-16 unit.
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3 + 1024)
  return encoder.encodeInto(text, scratch).written
}

/** Byte length of `text` as UTF-8, without keeping it. */
export function utf8Length(text: string): number {
  return encodeText(text)
}

/**
 * Reserve and fill one frame in `ring` (not yet published). `textBytes` is the
 * length returned by the last encodeText() call, or 0 for no text. Returns false
 * when the ring has no room now (the caller queues it: Barrelfish's TX_BUSY).
 */
export function writeFrame(
  ring: SpscRing,
  op: number,
  tag: number,
  aux: number,
  domainId: number,
  value: number,
  textBytes: number,
): boolean {
  const at = ring.reserve(HEADER_BYTES + textBytes)
  if (at < 0) return false
  const w = at >> 2
  const i32 = ring.i32
  i32[w + W_OP] = op
  i32[w + W_TAG] = tag
  i32[w + W_AUX] = aux
  i32[w + W_DOMAIN] = domainId
  i32[w + W_VALUE] = value
  i32[w + W_TEXTLEN] = textBytes
  if (textBytes > 0) ring.bytes.set(scratch.subarray(0, textBytes), at + HEADER_BYTES)
  return true
}

/** The frame's header word `k` (W_OP...) at payload offset `at`. */
export function word(ring: SpscRing, at: number, k: number): number {
  return ring.i32[(at >> 2) + k]
}

/** The frame's text (allocates a string; cold paths only). */
export function readText(ring: SpscRing, at: number): string {
  const n = ring.i32[(at >> 2) + W_TEXTLEN]
  if (n <= 0) return ''
  return decoder.decode(ring.bytes.subarray(at + HEADER_BYTES, at + HEADER_BYTES + n))
}

/** True when the polled frame is long enough to hold its header and declared text. */
export function wellFormed(ring: SpscRing, at: number): boolean {
  const len = ring.frameLength
  if (len < HEADER_BYTES) return false
  const n = ring.i32[(at >> 2) + W_TEXTLEN]
  return n >= 0 && HEADER_BYTES + n <= len
}
