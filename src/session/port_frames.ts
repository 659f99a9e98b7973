/**
 * The frames of a session port, inside the payload of one ring frame (the ring's own
 * [length][reserved] header comes before it; the payload starts 8-aligned):
 *
 *     +0  [word: i32]  kind in bits 0..7; bits 8..31: the method index (CALL) or
 *                      the error code (ERROR); 0 otherwise
 *     +4  [tag: i32]   CALL, RESULT, ERROR: the call's tag (the caller's slot in its
 *                      pending-call table); 0 otherwise
 *     +8  body         CALL: the encoded argument array     RESULT: the encoded value
 *                      ERROR: the encoded error text (protocol/error_text.ts)
 *                      SEND: the encoded value               BYTES: the raw bytes
 *
 * "Encoded" is session/codec.ts (structured clone). One frame, one message: a message
 * longer than the ring's maxPayload minus this header is refused (MESSAGE_TOO_LARGE),
 * never split; a bigger channel is the answer.
 */
import type { KernelErrorCode } from '../errors.js'

export const PORT_HDR = 8

export const KIND_CALL = 1
export const KIND_RESULT = 2
export const KIND_ERROR = 3
export const KIND_SEND = 4
export const KIND_BYTES = 5

/** Error codes an ERROR frame carries, by number (the index; 0 is never sent). */
const ERROR_CODES: readonly KernelErrorCode[] = [
  'CALL_FAILED',
  'CALL_FAILED',
  'NO_SUCH_METHOD',
  'NOT_CLONEABLE',
  'MESSAGE_TOO_LARGE',
]
export const ERR_CALL_FAILED = 1
export const ERR_NO_SUCH_METHOD = 2
export const ERR_NOT_CLONEABLE = 3
export const ERR_TOO_LARGE = 4

/** The code an ERROR frame's number stands for (an unknown number reads as CALL_FAILED). */
export function errorCodeOf(n: number): KernelErrorCode {
  return ERROR_CODES[n] ?? 'CALL_FAILED'
}
