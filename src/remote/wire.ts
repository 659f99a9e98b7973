/**
 * The wire of remote cores: the frames of a spawnd's rings (protocol/frame.ts),
 * many to one NATS message (a batch), each batch sealed with a message
 * authentication code over its sequence number and its bytes.
 *
 *     batch (little-endian)
 *     [0..4)    magic 'MKB1' (the wire's version)
 *     [4..8)    core index on the node; CONTROL for the node itself (JSON frames)
 *     [8..16)   sequence number, u32 low then u32 high (per link direction, from 1)
 *     [16..32)  MAC: HMAC-SHA256(direction key, bytes [0..16) ++ bytes [32..end)),
 *               its first 16 bytes
 *     [32..)    frames, each [u32 length][length bytes: a ring frame's payload]
 *
 * A ring frame's payload is its six header words and its UTF-8 text, byte for
 * byte as in the ring, so the node copies it into its spawnd's request ring and
 * out of the reply ring without decoding it (hosts are little-endian: node.ts
 * refuses to start on one that is not).
 *
 * Why a MAC and a sequence number (the threat model, README "Remote cores"):
 * anyone who can read the broker can copy, alter and inject messages. The keys
 * are derived per link epoch from the shared secret and both sides' fresh nonces
 * (keys.ts), so nothing captured from an earlier epoch verifies; within an epoch
 * the receiver takes exactly the next sequence number, so a replayed batch is
 * older than expected and refused, and an altered one fails its MAC. A batch
 * that verifies but skips numbers means the broker lost some (a broker restart):
 * the link is broken, and what was in flight is failed, not silently lost.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { HEADER_BYTES, type FrameHeader } from '../protocol/frame.js'

export const BATCH_MAGIC = 0x3142_4b4d // 'MKB1' read little-endian
export const BATCH_HEADER_BYTES = 32
export const MAC_BYTES = 16
/** The core field of a batch for the node itself: its frames are JSON control messages. */
export const CONTROL = 0xffff_ffff
/** Bytes a frame adds to a batch besides its payload. */
export const FRAME_PREFIX_BYTES = 4

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The MAC of a batch (its first MAC_BYTES bytes of HMAC-SHA256). */
function mac(key: Buffer, batch: Uint8Array, end: number): Buffer {
  return createHmac('sha256', key)
    .update(batch.subarray(0, 16))
    .update(batch.subarray(BATCH_HEADER_BYTES, end))
    .digest()
    .subarray(0, MAC_BYTES)
}

/**
 * Writes one batch at a time: frames appended, then sealed into a fresh message.
 * The buffer grows to the largest batch seen and is reused.
 */
export class BatchWriter {
  private buf = new Uint8Array(4096)
  private view = new DataView(this.buf.buffer)
  private end = BATCH_HEADER_BYTES
  frames = 0

  constructor(
    /** The largest message the broker takes (its max_payload). */
    readonly maxBytes: number,
  ) {}

  /** Bytes the batch holds now. */
  get bytes(): number {
    return this.end
  }

  /** True when a frame of `payload` bytes can never fit a batch. */
  tooLarge(payload: number): boolean {
    return BATCH_HEADER_BYTES + FRAME_PREFIX_BYTES + payload > this.maxBytes
  }

  /** True when a frame of `payload` bytes fits the batch as it is now. */
  fits(payload: number): boolean {
    return this.end + FRAME_PREFIX_BYTES + payload <= this.maxBytes
  }

  /** Append a frame: `h` and `text`, its UTF-8 encoded straight into the batch. */
  frame(h: FrameHeader, text: string | null): void {
    const most = text === null ? 0 : text.length * 3
    const at = this.room(HEADER_BYTES + most)
    const n =
      text === null
        ? 0
        : encoder.encodeInto(text, this.buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + most))
            .written
    // The frame's real length, now the text's is known.
    this.end = at + HEADER_BYTES + n
    const v = this.view
    v.setUint32(at - FRAME_PREFIX_BYTES, HEADER_BYTES + n, true)
    v.setInt32(at, h.op, true)
    v.setInt32(at + 4, h.tag, true)
    v.setInt32(at + 8, h.aux, true)
    v.setInt32(at + 12, h.domainId, true)
    v.setInt32(at + 16, h.value, true)
    v.setInt32(at + 20, n, true)
  }

  /** Append bytes [at, at+len) of `src` as a frame (a ring frame relayed as it is). */
  raw(src: Uint8Array, at: number, len: number): void {
    // room() may grow the buffer: take it after.
    const to = this.room(len)
    copyBytes(this.buf, to, src, at, len)
  }

  /** Reserve a frame of `payload` bytes; returns where its payload starts. */
  private room(payload: number): number {
    const need = this.end + FRAME_PREFIX_BYTES + payload
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2))
      grown.set(this.buf.subarray(0, this.end))
      this.buf = grown
      this.view = new DataView(grown.buffer)
    }
    this.view.setUint32(this.end, payload, true)
    const at = this.end + FRAME_PREFIX_BYTES
    this.end = need
    this.frames++
    return at
  }

  /** Drop what the batch holds (its link is gone). */
  discard(): void {
    this.end = BATCH_HEADER_BYTES
    this.frames = 0
  }

  /** The batch so far as a sealed message of its own, and start the next one. */
  seal(core: number, seq: number, key: Buffer): Uint8Array {
    const v = this.view
    v.setUint32(0, BATCH_MAGIC, true)
    v.setUint32(4, core, true)
    v.setUint32(8, seq >>> 0, true)
    v.setUint32(12, Math.floor(seq / 0x1_0000_0000), true)
    this.buf.set(mac(key, this.buf, this.end), 16)
    // The client may hold the bytes until its next write to the socket: a copy.
    const out = this.buf.slice(0, this.end)
    this.end = BATCH_HEADER_BYTES
    this.frames = 0
    return out
  }
}

/** Frames up to this long are copied byte by byte: a view to set() from would be garbage per frame. */
const COPY_LOOP_BYTES = 256

/** Copy `len` bytes of `src` at `at` into `dst` at `to`, with no allocation for small frames. */
export function copyBytes(
  dst: Uint8Array,
  to: number,
  src: Uint8Array,
  at: number,
  len: number,
): void {
  if (len > COPY_LOOP_BYTES) {
    dst.set(src.subarray(at, at + len), to)
    return
  }
  for (let i = 0; i < len; i++) dst[to + i] = src[at + i]
}

/** What a received batch says about itself once it verified. */
export interface OpenedBatch {
  core: number
  seq: number
}

/**
 * Check a received message: its shape, then its MAC under `key` (`raw`: a session's batch). Null when it is
 * not a batch of this link (garbage, forged or altered): the caller counts and
 * drops it. The sequence number is the caller's to judge.
 */
export function openBatch(msg: Uint8Array, key: Buffer, raw = false): OpenedBatch | null {
  if (msg.length < BATCH_HEADER_BYTES) return null
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength)
  if (v.getUint32(0, true) !== BATCH_MAGIC) return null
  const want = mac(key, msg, msg.length)
  if (!timingSafeEqual(want, msg.subarray(16, BATCH_HEADER_BYTES))) return null
  if (!framesWellFormed(v, msg.length, raw)) return null
  return {
    core: v.getUint32(4, true),
    seq: v.getUint32(8, true) + v.getUint32(12, true) * 0x1_0000_0000,
  }
}

/**
 * Every frame's length stays inside the batch and holds its header and text
 * (`raw`: a session's frames, whose insides are the session port's business).
 */
function framesWellFormed(v: DataView, end: number, raw: boolean): boolean {
  for (let p = BATCH_HEADER_BYTES; p < end;) {
    if (p + FRAME_PREFIX_BYTES > end) return false
    const len = v.getUint32(p, true)
    const at = p + FRAME_PREFIX_BYTES
    if (at + len > end) return false
    if (raw && v.getUint32(4, true) !== CONTROL) {
      p = at + len
      continue
    }
    if (len < HEADER_BYTES) return false
    const text = v.getInt32(at + 20, true)
    if (text < 0 || HEADER_BYTES + text > len) return false
    p = at + len
  }
  return true
}

/**
 * Walk a verified batch's frames: `each(payloadOffset, payloadLength)` per frame.
 * Header words are read with readWord; text with readFrameText.
 */
export function forEachFrame(
  msg: Uint8Array,
  each: (at: number, len: number, view: DataView) => void,
): void {
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength)
  for (let p = BATCH_HEADER_BYTES; p < msg.length;) {
    const len = v.getUint32(p, true)
    each(p + FRAME_PREFIX_BYTES, len, v)
    p += FRAME_PREFIX_BYTES + len
  }
}

/** The header of the frame whose payload starts at `at`, into `h`. */
export function readFrameHeader(v: DataView, at: number, h: FrameHeader): void {
  h.op = v.getInt32(at, true)
  h.tag = v.getInt32(at + 4, true)
  h.aux = v.getInt32(at + 8, true)
  h.domainId = v.getInt32(at + 12, true)
  h.value = v.getInt32(at + 16, true)
}

/** The text of the frame whose payload starts at `at`, or null. */
export function readFrameText(msg: Uint8Array, v: DataView, at: number): string | null {
  const n = v.getInt32(at + 20, true)
  if (n <= 0) return null
  const start = at + HEADER_BYTES
  return decoder.decode(msg.subarray(start, start + n))
}
