/**
 * The calls a port has in flight: a table indexed by tag, so a RESULT or ERROR frame
 * finds its caller with one array load. Tags are slot numbers, reused through a free
 * stack: no Map, no object per call (only the promise's own resolve and reject).
 *
 *     resolve[tag], reject[tag], method[tag]   one slot per call in flight
 *     free: [t3, t0, ...]  freeTop             slots to reuse, last freed first
 */
import { SafePromise } from '../intrinsics.js'
import { decodeError } from '../protocol/error_text.js'
import { decodeValue } from './codec.js'
import { errorCodeOf } from './port_frames.js'

type Settle = (value: unknown) => void

export class PendingCalls {
  /** Calls in flight. */
  count = 0
  private resolves: (Settle | null)[] = []
  private rejects: (Settle | null)[] = []
  private methods = new Int32Array(16)
  private free = new Int32Array(16)
  private freeTop = 0
  private nextTag = 0
  private nres: Settle | null = null
  private nrej: Settle | null = null
  // One executor for every call's promise: it parks resolve/reject for open().
  private readonly executor = (res: Settle, rej: Settle): void => {
    this.nres = res
    this.nrej = rej
  }

  /** A fresh tag for a call to `method` (settle or cancel it exactly once). */
  take(method: number): number {
    let tag: number
    if (this.freeTop > 0) tag = this.free[--this.freeTop]
    else {
      tag = this.nextTag++
      if (tag === this.methods.length) {
        const m = new Int32Array(tag * 2)
        m.set(this.methods)
        this.methods = m
        const f = new Int32Array(tag * 2)
        f.set(this.free)
        this.free = f
      }
    }
    this.methods[tag] = method
    return tag
  }

  /** The promise of the call with `tag` (taken, its frame written). */
  open(tag: number): Promise<unknown> {
    const p = new SafePromise<unknown>(this.executor)
    this.resolves[tag] = this.nres
    this.rejects[tag] = this.nrej
    this.nres = this.nrej = null
    this.count++
    return p
  }

  /** Give back a tag whose frame could not be written (no promise was opened). */
  cancel(tag: number): void {
    this.free[this.freeTop++] = tag
  }

  /** Settle the call with `tag`; false when no such call is in flight (a stray answer). */
  settle(tag: number, ok: boolean, value: unknown): boolean {
    if (tag >>> 0 !== tag || tag >= this.nextTag) return false
    const fn = ok ? this.resolves[tag] : this.rejects[tag]
    if (fn === null || fn === undefined) return false
    this.resolves[tag] = null
    this.rejects[tag] = null
    this.free[this.freeTop++] = tag
    this.count--
    fn(value)
    return true
  }

  /** Reject the call with `tag` from an ERROR frame: error number `code`, text in bytes[body, end). */
  fail(tag: number, code: number, bytes: Uint8Array, body: number, end: number): void {
    let text: unknown = null
    try {
      text = decodeValue(bytes, body, end - body)
    } catch {
      // The error's text is lost; its code still says what happened.
    }
    const method = tag >>> 0 === tag && tag < this.nextTag ? this.methods[tag] : -1
    const err = decodeError(
      errorCodeOf(code),
      typeof text === 'string' ? text : null,
      `call to method ${method}`,
    )
    this.settle(tag, false, err)
  }

  /** Reject every call in flight with `err` (the session ended). */
  rejectAll(err: unknown): void {
    for (let tag = 0; tag < this.nextTag; tag++) {
      if (this.rejects[tag] != null) this.settle(tag, false, err)
    }
  }
}
