/**
 * KernelError: every refusal in multikernel, from a ring that is closed to a
 * capability that names nothing. The `code` is named after the Barrelfish
 * original where there is one (errval_t names without the SPAWN_ERR_/PROC_MGMT_ERR_
 * prefix); the `cause` chain plays the part of Barrelfish's err_push(), which
 * stacks a higher-level code on top of the one that caused it.
 *
 * This file sits below every layer (it imports nothing), so the ring layer can
 * throw the same error type as the process manager.
 */
export type KernelErrorCode =
  // ring layer
  | 'CHANNEL_CLOSED'
  | 'BAD_BUFFER'
  | 'FRAME_TOO_LARGE'
  | 'RING_MISUSE'
  // process manager / spawnd (Barrelfish names)
  | 'INVALID_SPAWND'
  | 'DOMAIN_NOT_RUNNING'
  | 'ALREADY_SPANNED'
  | 'DOMAIN_NOTFOUND'
  | 'NOT_PROC_MNGR'
  | 'LOAD'
  | 'DOMAIN_ALLOCATE'
  | 'DOMAIN_CAP_INVALID'
  | 'ARGS_TOO_LARGE'
  | 'SPAWND_EXISTS'
  | 'SHUTDOWN'
  | 'CORE_FAILED'
  | 'PROTOCOL'
  | 'TIMEOUT'
  // process tree (Camellia names)
  | 'ECHILD'
  | 'HANDLE_TABLE_FULL'
  | 'BAD_HANDLE'
  | 'SPAWN_LIMIT'
  // supervision (MINIX RS)
  | 'SERVICE_EXISTS'
  | 'SERVICE_NOTFOUND'
  | 'GAVE_UP'
  // sessions and quotas (Genode names where there is one)
  | 'SERVICE_DENIED'
  | 'OUT_OF_QUOTA'
  | 'INSUFFICIENT_QUOTA'
  | 'SESSION_CLOSED'
  | 'CALL_FAILED'
  | 'NO_SUCH_METHOD'
  | 'NOT_CLONEABLE'
  | 'MESSAGE_TOO_LARGE'
  // live update (MINIX RS_UPDATE)
  | 'UPDATE_FAILED'
  // the task pool (multikernel/pool)
  | 'QUEUE_FULL'
  | 'WORKER_FAILED'
  // remote cores (src/remote/)
  | 'REMOTE_UNREACHABLE'

export interface KernelErrorOptions {
  cause?: unknown
}

export class KernelError extends Error {
  readonly code: KernelErrorCode

  constructor(code: KernelErrorCode, message: string, options?: KernelErrorOptions) {
    super(`${code}: ${message}`, options)
    this.name = 'KernelError'
    this.code = code
  }

  /** Barrelfish's err_push: a new code on top of an existing error, kept as `cause`. */
  static push(cause: unknown, code: KernelErrorCode, message: string): KernelError {
    return new KernelError(code, message, { cause })
  }

  /** True when `err` is a KernelError with `code` anywhere in its cause chain. */
  static is(err: unknown, code: KernelErrorCode): boolean {
    for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 32; depth++) {
      if (e instanceof KernelError && e.code === code) return true
      e = (e as { cause?: unknown }).cause
    }
    return false
  }
}
