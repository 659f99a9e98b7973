/**
 * KernelErrorCode <-> small integer, for the error word of a REPLY frame.
 * 0 is success. Append only: the index is the wire value.
 */
import type { KernelErrorCode } from '../errors.js'

const WIRE: readonly KernelErrorCode[] = [
  'PROTOCOL', // 0 is reserved for OK; never sent as an error
  'CHANNEL_CLOSED',
  'BAD_BUFFER',
  'FRAME_TOO_LARGE',
  'INVALID_SPAWND',
  'DOMAIN_NOT_RUNNING',
  'ALREADY_SPANNED',
  'DOMAIN_NOTFOUND',
  'NOT_PROC_MNGR',
  'LOAD',
  'DOMAIN_ALLOCATE',
  'DOMAIN_CAP_INVALID',
  'ARGS_TOO_LARGE',
  'SPAWND_EXISTS',
  'SHUTDOWN',
  'CORE_FAILED',
  'PROTOCOL',
  'TIMEOUT',
  'ECHILD',
  'HANDLE_TABLE_FULL',
  'BAD_HANDLE',
  'SPAWN_LIMIT',
  'SERVICE_EXISTS',
  'SERVICE_NOTFOUND',
  'PROTOCOL', // 24: retired (INIT_TIMEOUT, never sent); the slot stays so GAVE_UP keeps 25
  'GAVE_UP',
  'SERVICE_DENIED',
  'OUT_OF_QUOTA',
  'INSUFFICIENT_QUOTA',
  'SESSION_CLOSED',
  'CALL_FAILED',
  'NO_SUCH_METHOD',
  'NOT_CLONEABLE',
  'MESSAGE_TOO_LARGE',
  'UPDATE_FAILED',
  'QUEUE_FULL',
  'WORKER_FAILED',
  'REMOTE_UNREACHABLE',
]

export const ERR_OK = 0

export function errToWire(code: KernelErrorCode): number {
  const i = WIRE.indexOf(code, 1)
  return i > 0 ? i : WIRE.indexOf('PROTOCOL', 1)
}

export function errFromWire(n: number): KernelErrorCode {
  return n > 0 && n < WIRE.length ? WIRE[n] : 'PROTOCOL'
}
