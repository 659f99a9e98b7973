/**
 * The frame codec: every process-manager <-> spawnd message is one ring frame whose
 * payload starts with a header of six int32 words, optionally followed by UTF-8 text.
 *
 *     word  field      request (PM -> spawnd)       reply / notification (spawnd -> PM)
 *     [0]   op         op                           op (REPLY, EXIT or CALL)
 *     [1]   tag        tag (matches the reply)      tag of the request answered (0 for EXIT)
 *     [2]   aux        process-manager token        error code (0 = OK) / how main ended (EXIT)
 *     [3]   domainId   domain id                    domain id
 *     [4]   value      argument (core, ...)         value (dispatcher id, exit code, count)
 *     [5]   -          text length in bytes         text length in bytes
 *     +24   text: UTF-8 (program URL and JSON argv/env, an error, a table...)
 *
 * Pure functions over a ring's typed views: a frame without text is encoded and
 * decoded with no allocation at all (the ping path). Callers keep one FrameHeader
 * each and refill it, so a header costs no object per frame either. The text's
 * bytes come from the caller's own scratch buffer (sender.ts owns one per ring).
 */
import type { SpscRing } from '../ring/spsc.js'
import {
  SafeTextDecoder,
  TextDecoderDecode,
  TypedArraySet,
  TypedArraySubarray,
} from '../intrinsics.js'

/** The five header words a frame carries besides its text length. */
export interface FrameHeader {
  op: number
  tag: number
  aux: number
  domainId: number
  value: number
}

export const HEADER_WORDS = 6
export const HEADER_BYTES = HEADER_WORDS * 4
const W_OP = 0
const W_TAG = 1
const W_AUX = 2
const W_DOMAIN = 3
const W_VALUE = 4
const W_TEXTLEN = 5

const decoder = new SafeTextDecoder()

/** A header to refill (one per reader or writer, never one per frame). */
export function frameHeader(): FrameHeader {
  return { op: 0, tag: 0, aux: 0, domainId: 0, value: 0 }
}

/**
 * Reserve and fill one frame in `ring` (not yet published): `h`, then the first
 * `textBytes` bytes of `text`. Returns false when the ring has no room now (the
 * caller queues it: Barrelfish's TX_BUSY).
 */
export function writeFrame(
  ring: SpscRing,
  h: FrameHeader,
  text: Uint8Array,
  textBytes: number,
): boolean {
  // The text's view is made before anything is reserved: if making it throws (a
  // domain poisoned a builtin), the ring is untouched.
  const view = textBytes > 0 ? TypedArraySubarray(text, 0, textBytes) : null
  const at = ring.reserve(HEADER_BYTES + textBytes)
  if (at < 0) return false
  const w = at >> 2
  const i32 = ring.i32
  i32[w + W_OP] = h.op
  i32[w + W_TAG] = h.tag
  i32[w + W_AUX] = h.aux
  i32[w + W_DOMAIN] = h.domainId
  i32[w + W_VALUE] = h.value
  i32[w + W_TEXTLEN] = textBytes
  if (view !== null) TypedArraySet(ring.bytes, view, at + HEADER_BYTES)
  return true
}

/** Read the header of the polled frame at payload offset `at` into `h`. */
export function readHeader(ring: SpscRing, at: number, h: FrameHeader): void {
  const w = at >> 2
  const i32 = ring.i32
  h.op = i32[w + W_OP]
  h.tag = i32[w + W_TAG]
  h.aux = i32[w + W_AUX]
  h.domainId = i32[w + W_DOMAIN]
  h.value = i32[w + W_VALUE]
}

/** The frame's text, or null when it has none (allocates a string; cold paths only). */
export function readText(ring: SpscRing, at: number): string | null {
  const n = ring.i32[(at >> 2) + W_TEXTLEN]
  if (n <= 0) return null
  return TextDecoderDecode(
    decoder,
    TypedArraySubarray(ring.bytes, at + HEADER_BYTES, at + HEADER_BYTES + n),
  )
}

/** True when the polled frame is long enough to hold its header and declared text. */
export function wellFormed(ring: SpscRing, at: number): boolean {
  const len = ring.frameLength
  if (len < HEADER_BYTES) return false
  const n = ring.i32[(at >> 2) + W_TEXTLEN]
  return n >= 0 && HEADER_BYTES + n <= len
}
