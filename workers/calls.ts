/**
 * A spawnd's table of its domains' calls to the process manager: each goes up the
 * reply ring as a CALL frame stamped with the caller's domain id, and waits here,
 * by tag, for its RESULT.
 */
import { KernelError } from '../src/errors.js'
import { ERR_OK, errFromWire } from '../src/protocol/errcodes.js'
import { decodeError } from '../src/protocol/error_text.js'
import { frameHeader } from '../src/protocol/frame.js'
import { Op, type CallCode } from '../src/protocol/opcodes.js'
import type { FrameSender } from '../src/protocol/sender.js'
import { JSONStringify, PromiseReject, SafeMap, SafePromise } from '../src/intrinsics.js'
import type { Dispatcher } from './dispatcher.js'

interface PendingCall {
  resolve: (text: string) => void
  reject: (err: Error) => void
}

export class CallTable {
  private readonly pending = new SafeMap<number, PendingCall>()
  private tag = 0
  /** The one header CALL frames are written from. */
  private readonly out = frameHeader()

  constructor(
    private readonly port: FrameSender,
    private readonly core: number,
    /** True while the spawnd drains a batch: it publishes at the batch's end. */
    private readonly inBatch: () => boolean,
  ) {}

  /** Calls awaiting their RESULT. */
  get size(): number {
    return this.pending.size
  }

  /** A domain's call goes up the reply ring, stamped with the caller's domain id. */
  call(d: Dispatcher, op: CallCode, args: unknown): Promise<string> {
    if (d.state !== 'running') {
      return PromiseReject(
        new KernelError(
          'DOMAIN_NOT_RUNNING',
          `domain ${d.domainId} has stopped on core ${this.core}`,
        ),
      )
    }
    let text: string
    try {
      text = JSONStringify(args)
    } catch (err) {
      return PromiseReject(err)
    }
    const tag = (this.tag = (this.tag % 0x7ffffffe) + 1)
    const h = this.out
    h.op = Op.CALL
    h.tag = tag
    h.aux = 0
    h.domainId = d.domainId
    h.value = op
    try {
      this.port.send(h, text)
    } catch (err) {
      const tooLarge = err instanceof KernelError && err.code === 'FRAME_TOO_LARGE'
      if (!tooLarge) return PromiseReject(err)
      return PromiseReject(
        new KernelError('ARGS_TOO_LARGE', 'call arguments exceed the reply ring', { cause: err }),
      )
    }
    if (!this.inBatch()) this.port.flush()
    return new SafePromise<string>((resolve, reject) => {
      this.pending.set(tag, { resolve, reject })
    })
  }

  /** RESULT: the process manager's answer to a call (its error word in `value`). */
  result(tag: number, err: number, text: string | null): void {
    const pending = this.take(tag)
    if (pending === undefined) return
    if (err === ERR_OK) return pending.resolve(text ?? 'null')
    pending.reject(decodeError(errFromWire(err), text))
  }

  /** A RESULT the spawnd could not read: its call fails PROTOCOL. */
  unreadable(tag: number): void {
    this.take(tag)?.reject(new KernelError('PROTOCOL', 'the answer to this call was unreadable'))
  }

  private take(tag: number): PendingCall | undefined {
    const pending = this.pending.get(tag)
    if (pending !== undefined) this.pending.delete(tag)
    return pending
  }
}
