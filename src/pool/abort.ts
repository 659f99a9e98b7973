/**
 * The error a run() rejects with when its task is aborted: piscina's AbortError
 * (name 'AbortError', the signal's reason as `cause`), with Node's code for it.
 */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR'

  constructor(reason?: unknown, message = 'The task has been aborted') {
    super(message, { cause: reason })
  }

  override get name(): string {
    return 'AbortError'
  }
}

/** An abort signal as run() accepts it: an AbortSignal, or an EventEmitter-like with 'abort'. */
export interface AbortSignalLike {
  readonly aborted: boolean
  readonly reason?: unknown
  addEventListener?: (type: 'abort', fn: () => void, opts?: { once?: boolean }) => void
  removeEventListener?: (type: 'abort', fn: () => void) => void
}
