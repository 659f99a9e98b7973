/**
 * The answering half of a session port: a CALL frame runs methods[index] with the
 * decoded arguments, awaits a thenable, and answers RESULT or ERROR with the call's
 * tag through the port's writer, in completion order. Every failure answers (never a
 * silent drop that would leave the caller waiting): a throw is CALL_FAILED with the
 * error's text (protocol/error_text.ts), an unknown index NO_SUCH_METHOD, a result
 * that cannot be cloned or does not fit the channel NOT_CLONEABLE / MESSAGE_TOO_LARGE.
 */
import { KernelError } from '../errors.js'
import { ReflectApply } from '../intrinsics.js'
import { encodeError } from '../protocol/error_text.js'
import { decodeValue } from './codec.js'
import {
  ERR_CALL_FAILED,
  ERR_NOT_CLONEABLE,
  ERR_NO_SUCH_METHOD,
  ERR_TOO_LARGE,
  KIND_ERROR,
  KIND_RESULT,
} from './port_frames.js'
import type { PortWriter } from './port_writer.js'

export type SessionMethod = (...args: unknown[]) => unknown

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  )
}

export class CallServer {
  /** CALL frames received. */
  calls = 0
  private readonly writer: PortWriter
  private methods: readonly SessionMethod[]
  private thisArg: unknown
  /** Calls taken whose answer is not written yet (a live update waits for none). */
  private running = 0
  private idleWaiters: (() => void)[] = []

  constructor(writer: PortWriter, methods: readonly SessionMethod[], thisArg: unknown) {
    this.writer = writer
    this.methods = methods
    this.thisArg = thisArg
  }

  /** Set the methods calls run (a server's open() returns them after its port exists). */
  use(methods: readonly SessionMethod[], thisArg: unknown): void {
    this.methods = methods
    this.thisArg = thisArg
  }

  /** Resolves once every call taken so far is answered. */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Run the call in bytes[body, end) (its encoded argument array) and answer `tag`. */
  serve(method: number, tag: number, bytes: Uint8Array, body: number, end: number): void {
    this.calls++
    const fn = method < this.methods.length ? this.methods[method] : undefined
    if (fn === undefined) {
      this.answerError(
        tag,
        ERR_NO_SUCH_METHOD,
        new KernelError('NO_SUCH_METHOD', `this session has no method ${method}`),
      )
      return
    }
    let r: unknown
    try {
      r = ReflectApply(fn, this.thisArg, decodeValue(bytes, body, end - body) as unknown[])
    } catch (err) {
      this.answerError(tag, ERR_CALL_FAILED, err)
      return
    }
    if (isThenable(r)) void this.answerLater(tag, r)
    else this.answer(tag, r)
  }

  private async answerLater(tag: number, p: PromiseLike<unknown>): Promise<void> {
    this.running++
    try {
      let v: unknown
      try {
        v = await p
      } catch (err) {
        this.answerError(tag, ERR_CALL_FAILED, err)
        return
      }
      this.answer(tag, v)
    } finally {
      if (--this.running === 0 && this.idleWaiters.length > 0) {
        const ws = this.idleWaiters
        this.idleWaiters = []
        for (const w of ws) w()
      }
    }
  }

  private answer(tag: number, v: unknown): void {
    if (this.writer.ended) return
    try {
      this.writer.writeValue(KIND_RESULT, tag, v)
    } catch (err) {
      const code = err instanceof KernelError ? err.code : ''
      this.answerError(
        tag,
        code === 'NOT_CLONEABLE'
          ? ERR_NOT_CLONEABLE
          : code === 'MESSAGE_TOO_LARGE'
            ? ERR_TOO_LARGE
            : ERR_CALL_FAILED,
        err,
      )
    }
  }

  /**
   * Answer an error. Its text shrinks (without stacks, then empty) until it fits the
   * ring; an empty text always fits, as a port refuses rings of under 64 bytes.
   */
  private answerError(tag: number, code: number, err: unknown): void {
    if (this.writer.ended) return
    const word = KIND_ERROR | (code << 8)
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        this.writer.writeValue(word, tag, attempt === 2 ? '' : encodeError(err, attempt === 0))
        return
      } catch {
        // Too large for this channel: try a shorter text.
      }
    }
  }
}
