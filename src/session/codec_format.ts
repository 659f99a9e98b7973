/**
 * The session codec's fast format: one tag byte, then the payload. Values are
 * written straight into a ring's bytes (or a caller's buffer) and read back from
 * there, with no intermediate buffer per message.
 *
 *   value := 0x80 | n                      a small integer n in [0, 127], 1 byte
 *          | UNDEFINED | NULL | FALSE | TRUE
 *          | INT8 i8 | INT32 i32le
 *          | FLOAT64 f64 (8 bytes, host order: both ends run on one machine)
 *          | BIGINT64 i64 (host order)     a bigint in [-2^63, 2^63)
 *          | LATIN1 len byte*len           a string whose chars are all <= 0xFF
 *          | UTF8 u32le byte*              a well-formed string with a char > 0xFF
 *          | UTF16 u32le (u16le)*          a string with a lone surrogate (raw units)
 *          | OBJECT (key value)* END       an object whose prototype is Object.prototype
 *                                          or null (decoded with Object.prototype, as
 *                                          structured clone does)
 *          | ARRAY len value*len           a dense array, no named properties
 *          | BYTES len byte*len            a Uint8Array or Buffer (read as a Uint8Array)
 *          | V8 byte*                      only as the whole frame: node:v8 serializer
 *                                          bytes (codec_v8.ts) to the end of the frame
 *   key   := LATIN1 ... | UTF8 ... | UTF16 ...   (a string value)
 *   len   := u8 (< 255) | 0xFF u32le
 */
export const T_UNDEFINED = 0x01
export const T_NULL = 0x02
export const T_FALSE = 0x03
export const T_TRUE = 0x04
export const T_INT8 = 0x05
export const T_INT32 = 0x06
export const T_FLOAT64 = 0x07
export const T_BIGINT64 = 0x08
export const T_LATIN1 = 0x09
export const T_UTF8 = 0x0a
export const T_UTF16 = 0x0b
export const T_OBJECT = 0x0c
export const T_ARRAY = 0x0e
export const T_BYTES = 0x0f
export const T_END = 0x10
export const T_V8 = 0x11
/** Tags at or above this are small integers: value = tag & 0x7f. */
export const T_SMALL_INT = 0x80

/** A `len` of this byte or more is 0xFF followed by a u32. */
export const LEN_LONG = 0xff

/** Scratch for float64 and bigint64 bytes (host order), shared by writer and reader. */
export const scratchBytes = new Uint8Array(8)
export const scratchF64 = new Float64Array(scratchBytes.buffer)
export const scratchI64 = new BigInt64Array(scratchBytes.buffer)
