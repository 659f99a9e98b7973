/**
 * Session: one end of an open session, as its user holds it (a client's
 * `ctx.session()` / `rt.session()`, or a server's `req.session`). Traffic goes
 * through the end's port (port.ts) on the session's own ring channel; closing and
 * upgrading go to the process manager through `control`, which the end's maker
 * (a spawnd, or the runtime on the main thread) provides.
 */
import { KernelError } from '../errors.js'
import { SafeMap, PromiseReject } from '../intrinsics.js'
import type { SessionEndReason } from './end_reason.js'
import type { SessionPort } from './port.js'
import type { Quota } from './quota.js'

/** What an end asks of the process manager. */
export interface SessionControl {
  close(): Promise<void>
  upgrade(q: Partial<Quota>): Promise<void>
}

export interface SessionInit {
  id: number
  service: string
  label: string
  methods: readonly string[]
  handle: number | null
  role: 'client' | 'server'
  port: SessionPort
  control: SessionControl
}

export class Session {
  /** The session's id in the process manager's table (rt.sessions()). */
  readonly id: number
  /** The service name it was opened for. */
  readonly service: string
  /** The label the server saw, composed by the process manager: "parent -> child -> label". */
  readonly label: string
  /** The methods the server's open() returned (what call() may name). */
  readonly methods: readonly string[]
  /** A client end in a domain: its slot in ctx.handles(); null elsewhere. */
  readonly handle: number | null
  /** 'client' (it may call) or 'server' (req.session: it streams back). */
  readonly role: 'client' | 'server'
  readonly #port: SessionPort
  readonly #control: SessionControl
  readonly #index = new SafeMap<string, number>()

  constructor(init: SessionInit) {
    this.id = init.id
    this.service = init.service
    this.label = init.label
    this.methods = Object.freeze([...init.methods])
    this.handle = init.handle
    this.role = init.role
    this.#port = init.port
    this.#control = init.control
    this.methods.forEach((m, i) => this.#index.set(m, i))
    Object.freeze(this)
  }

  /**
   * Call a method of the server's session object; resolves with its (structured
   * clone) result. A throw in the server rejects CALL_FAILED with the server's
   * error as `cause`; a method the server did not return rejects NO_SUCH_METHOD.
   */
  call(method: string, ...args: unknown[]): Promise<unknown> {
    if (this.role !== 'client') {
      return PromiseReject(
        new KernelError('NO_SUCH_METHOD', 'a server end streams (send); only a client calls'),
      )
    }
    const i = this.#index.get(method)
    if (i === undefined) {
      return PromiseReject(
        new KernelError(
          'NO_SUCH_METHOD',
          `service '${this.service}' has no method '${String(method)}' (it has ${this.methods.join(', ') || 'none'})`,
        ),
      )
    }
    return this.#port.call(i, args)
  }

  /**
   * Stream a value to the other end (never dropped). False when it had to wait
   * behind a full ring: `await drain()` before sending more.
   */
  send(value: unknown): boolean {
    return this.#port.send(value)
  }

  /** Stream bytes to the other end, copied once into the ring. */
  sendBytes(bytes: Uint8Array): boolean {
    return this.#port.sendBytes(bytes)
  }

  /** Resolves once everything sent is in the ring. */
  drain(): Promise<void> {
    return this.#port.drain()
  }

  /** Publish what was sent now (otherwise it goes at the end of this turn, as one batch). */
  flush(): void {
    this.#port.flush()
  }

  /**
   * Bytes without copying: called with the ring's own bytes and the message's
   * bounds, valid only during the call. Set it before the first message arrives.
   */
  get onBytes(): ((bytes: Uint8Array, start: number, end: number) => void) | null {
    return this.#port.onBytes
  }

  set onBytes(h: ((bytes: Uint8Array, start: number, end: number) => void) | null) {
    this.#port.onBytes = h
  }

  /** The values (and, without onBytes, copies of the bytes) the other end sent, in order. */
  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this.#port[Symbol.asyncIterator]()
  }

  /** Settles when the session ends, with why. */
  get closed(): Promise<SessionEndReason> {
    return this.#port.closed
  }

  /** Close it: pending calls reject SESSION_CLOSED; its quota returns to the client. */
  close(): Promise<void> {
    return this.#control.close()
  }

  /** Move more quota into the session (Genode's upgrade): the server hears of it. */
  upgrade(q: Partial<Quota>): Promise<void> {
    return this.#control.upgrade(q)
  }

  /** Traffic counters of this end. */
  stats(): ReturnType<SessionPort['stats']> {
    return this.#port.stats()
  }
}
