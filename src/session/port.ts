// TEMPORARY stand-in for the data plane (the port helper's file replaces it).
import { KernelError } from '../errors.js'
import type { Channel } from '../ring/channel.js'
import { decodeError, encodeError } from '../protocol/error_text.js'
import { decodeValue, encodeValue } from './codec.js'
import { reasonFromWord, reasonToWord, type SessionEndReason } from './end_reason.js'

const CALL = 1
const RESULT = 2
const ERROR = 3
const SEND = 4
const BYTES = 5

export class SessionPort {
  onBytes: ((bytes: Uint8Array, start: number, end: number) => void) | null = null
  readonly closed: Promise<SessionEndReason>
  private settleClosed!: (r: SessionEndReason) => void
  private fns: readonly ((...a: unknown[]) => unknown)[] = []
  private thisArg: unknown = undefined
  private tag = 0
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private inbox: unknown[] = []
  private readers: ((r: IteratorResult<unknown>) => void)[] = []
  private running = false
  private detached = false
  private ended = false
  private scratch = new Uint8Array(1 << 16)
  private counts = {
    callsOut: 0,
    callsIn: 0,
    messagesOut: 0,
    messagesIn: 0,
    bytesOut: 0,
    bytesIn: 0,
  }

  constructor(
    readonly chan: Channel,
    private readonly opts: { role: 'client' | 'server'; spin?: number },
  ) {
    this.closed = new Promise((r) => (this.settleClosed = r))
  }

  serve(fns: readonly ((...a: unknown[]) => unknown)[], thisArg: unknown): void {
    this.fns = fns
    this.thisArg = thisArg
  }

  start(): void {
    if (this.running) return
    this.running = true
    void this.loop()
  }

  detach(): void {
    this.detached = true
  }

  private async loop(): Promise<void> {
    const ch = this.chan
    for (;;) {
      if (this.detached) return
      let at: number
      while ((at = ch.rx.poll()) >= 0) {
        this.dispatch(ch.rx.bytes, at, ch.rx.frameLength)
      }
      ch.release()
      if (ch.closed) {
        // drain once more
        while ((at = ch.rx.poll()) >= 0) this.dispatch(ch.rx.bytes, at, ch.rx.frameLength)
        ch.release()
        return this.end(reasonFromWord(ch.closeReason) ?? 'closed')
      }
      await ch.readableAsync(50)
    }
  }

  private dispatch(b: Uint8Array, at: number, len: number): void {
    const dv = new DataView(b.buffer, b.byteOffset)
    const kind = b[at]
    const tag = dv.getInt32(at + 4, true)
    const body = at + 8
    const blen = len - 8
    this.counts.messagesIn++
    this.counts.bytesIn += len
    if (kind === CALL) {
      this.counts.callsIn++
      const idx = dv.getInt32(at + 0, true) >> 8
      const args = decodeValue(b, body, blen) as unknown[]
      void this.runCall(tag, idx, args)
    } else if (kind === RESULT || kind === ERROR) {
      const p = this.pending.get(tag)
      if (p === undefined) return
      this.pending.delete(tag)
      if (kind === RESULT) p.resolve(decodeValue(b, body, blen))
      else {
        const text = new TextDecoder().decode(b.slice(body, body + blen))
        const e = decodeError('CALL_FAILED', text)
        if (e.code === 'CALL_FAILED') p.reject(e)
        else p.reject(e)
      }
    } else if (kind === SEND) {
      this.push(decodeValue(b, body, blen))
    } else if (kind === BYTES) {
      if (this.onBytes !== null) this.onBytes(b, body, body + blen)
      else this.push(b.slice(body, body + blen))
    }
  }

  private push(v: unknown): void {
    const r = this.readers.shift()
    if (r !== undefined) r({ value: v, done: false })
    else this.inbox.push(v)
  }

  private async runCall(tag: number, idx: number, args: unknown[]): Promise<void> {
    try {
      const f = this.fns[idx]
      if (f === undefined) throw new KernelError('NO_SUCH_METHOD', `no method ${idx}`)
      const v = await f.apply(this.thisArg, args)
      this.write(RESULT, tag, 0, v, null)
    } catch (err) {
      if (this.chan.closed) return
      const e = KernelError.is(err, 'NO_SUCH_METHOD')
        ? err
        : new KernelError('CALL_FAILED', 'the server threw', { cause: err })
      try {
        this.write(ERROR, tag, 0, undefined, new TextEncoder().encode(encodeError(e)))
      } catch (err2) {
        try {
          this.write(
            ERROR,
            tag,
            0,
            undefined,
            new TextEncoder().encode(
              encodeError(
                new KernelError('CALL_FAILED', 'the result could not be sent', { cause: err2 }),
              ),
            ),
          )
        } catch {
          /* closed */
        }
      }
    }
  }

  private write(
    kind: number,
    tag: number,
    idx: number,
    value: unknown,
    raw: Uint8Array | null,
  ): void {
    if (this.chan.closed) throw new KernelError('SESSION_CLOSED', 'the session is closed')
    let n: number
    if (raw !== null) {
      n = raw.length
      if (n + 8 > this.scratch.length) this.scratch = new Uint8Array(n + 8)
      this.scratch.set(raw, 8)
      n += 8
    } else {
      for (;;) {
        n = encodeValue(value, this.scratch, 8, this.scratch.length)
        if (n >= 0) break
        this.scratch = new Uint8Array(this.scratch.length * 2)
      }
    }
    if (n > this.chan.tx.maxPayload)
      throw new KernelError(
        'MESSAGE_TOO_LARGE',
        `${n} bytes exceed the channel's ${this.chan.tx.maxPayload}`,
      )
    const dv = new DataView(this.scratch.buffer)
    dv.setInt32(0, kind | (idx << 8), true)
    dv.setInt32(4, tag, true)
    // Simplest: spin-wait for room (the stand-in only).
    let at = this.chan.reserve(n)
    while (at < 0) {
      this.chan.flush()
      if (this.chan.closed) throw new KernelError('SESSION_CLOSED', 'the session is closed')
      this.chan.waitWritable(n, 10)
      at = this.chan.reserve(n)
    }
    this.chan.tx.bytes.set(this.scratch.subarray(0, n), at)
    this.chan.flush()
    this.counts.messagesOut++
    this.counts.bytesOut += n
  }

  call(idx: number, args: unknown[]): Promise<unknown> {
    const tag = (this.tag = (this.tag % 0x7ffffffe) + 1)
    try {
      this.write(CALL, tag, idx, args, null)
    } catch (err) {
      return Promise.reject(err)
    }
    this.counts.callsOut++
    return new Promise((resolve, reject) => this.pending.set(tag, { resolve, reject }))
  }

  send(value: unknown): boolean {
    this.write(SEND, 0, 0, value, null)
    return true
  }

  sendBytes(bytes: Uint8Array): boolean {
    this.write(BYTES, 0, 0, undefined, bytes)
    return true
  }

  drain(): Promise<void> {
    return Promise.resolve()
  }

  flush(): void {
    this.chan.flush()
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return {
      next: () => {
        if (this.inbox.length > 0)
          return Promise.resolve({ value: this.inbox.shift(), done: false })
        if (this.ended) return Promise.resolve({ value: undefined, done: true })
        return new Promise((r) => this.readers.push(r))
      },
      return: () => Promise.resolve({ value: undefined, done: true }),
    }
  }

  close(reason: SessionEndReason | number = 'closed'): void {
    const word = typeof reason === 'number' ? reason : reasonToWord(reason)
    this.chan.close(word === 0 ? 1 : word)
    this.end(reasonFromWord(this.chan.closeReason) ?? 'closed')
  }

  private end(r: SessionEndReason): void {
    if (this.ended) return
    this.ended = true
    for (const [, p] of this.pending)
      p.reject(new KernelError('SESSION_CLOSED', `the session ended (${r})`))
    this.pending.clear()
    for (const rd of this.readers) rd({ value: undefined, done: true })
    this.readers = []
    this.settleClosed(r)
  }

  stats() {
    return { ...this.counts }
  }
}
