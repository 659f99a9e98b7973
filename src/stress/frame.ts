/**
 * The stress frame: what a producer writes into one MPMC slot and a consumer checks.
 *
 * Layout of one frame (little-endian), `frameSize` bytes, at a slot's payload offset:
 *
 *     +0   u32  producer id
 *     +4   u32  sequence number, per producer, from 0
 *     +8   f64  send time: ms since the main thread's performance.timeOrigin
 *     +16  u32  checksum: FNV-1a over bytes [0,16) and [20,frameSize)
 *     +20  fill [20,frameSize): byte i = (seq * 7 + id * 13 + i) & 0xff
 *
 * The fill varies with id and seq so that the checksum covers real content, and a
 * frame delivered to the wrong place, or torn between two writers, fails it.
 */
export const FRAME_HEADER = 20
export const MIN_FRAME = FRAME_HEADER
export const MAX_FRAME = 65_536

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

/** Write frame (id, seq, sentMs) of `size` bytes at `at`; returns nothing, allocates nothing. */
export function writeFrame(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  size: number,
  id: number,
  seq: number,
  sentMs: number,
): void {
  view.setUint32(at, id, true)
  view.setUint32(at + 4, seq, true)
  view.setFloat64(at + 8, sentMs, true)
  let h = FNV_OFFSET
  for (let i = 0; i < 16; i++) h = Math.imul(h ^ bytes[at + i], FNV_PRIME)
  const base = (seq * 7 + id * 13) | 0
  for (let i = FRAME_HEADER; i < size; i++) {
    const b = (base + i) & 0xff
    bytes[at + i] = b
    h = Math.imul(h ^ b, FNV_PRIME)
  }
  view.setUint32(at + 16, h >>> 0, true)
}

/** True when the frame at `at` of `size` bytes carries a matching checksum. */
export function checkFrame(bytes: Uint8Array, view: DataView, at: number, size: number): boolean {
  let h = FNV_OFFSET
  for (let i = 0; i < 16; i++) h = Math.imul(h ^ bytes[at + i], FNV_PRIME)
  for (let i = FRAME_HEADER; i < size; i++) h = Math.imul(h ^ bytes[at + i], FNV_PRIME)
  return view.getUint32(at + 16, true) === h >>> 0
}

/** The byte the corrupt fault flips: a fill byte when there is one, else the send time. */
export function corruptOffset(size: number): number {
  return size > FRAME_HEADER ? size - 1 : 8
}

/** Slot bytes for a frame: the MPMC slot header (8) plus the frame, rounded up to 8. */
export function slotBytesFor(frameSize: number): number {
  return (frameSize + 8 + 7) & ~7
}
