/**
 * Serving (Genode's Root interface): what a server's open() is handed, and how
 * either kind of server end is made, by a spawnd for a domain or by the runtime
 * for the main thread, from the channel buffer the process manager bound.
 */
import { KernelError } from '../errors.js'
import { Channel } from '../ring/channel.js'
import { reasonToWord, type SessionEndReason } from './end_reason.js'
import { methodTable } from './methods.js'
import { SessionPort } from './port.js'
import { quotaArg, showQuota, type Quota } from './quota.js'
import { Session, type SessionControl } from './session.js'

const SERVER_CLOSED = reasonToWord('server-closed')

/** What a server's open() sees. */
export interface SessionRequest {
  /** The session's id (rt.sessions()). */
  readonly id: number
  readonly service: string
  /** The client's label, composed by the process manager: "parent -> child -> label". */
  readonly label: string
  /** The client's open arguments (JSON data). */
  readonly args: unknown
  /** The quota the client donated (upgrades add to it). */
  readonly quota: Quota
  /**
   * True when a new incarnation takes over a session its predecessor opened (a live
   * update): open() runs again for it, and whatever per-session state it needs came
   * in the predecessor's onUpdate state (keyed by `id`, say).
   */
  readonly updated: boolean
  /** The server's end: stream to the client with send(), read with for await. */
  readonly session: Session
  /**
   * Refuse the session for too little quota: the client's open rejects
   * INSUFFICIENT_QUOTA saying how much is wanted (then it may open with more).
   */
  insufficient(want: Partial<Quota>): never
}

/** A server's handlers (ctx.serve, rt.serve). */
export interface ServeHandlers {
  /** Return the session's methods (an object), or throw (or return null) to deny. */
  open(req: SessionRequest): object | null | Promise<object | null>
  /** The session ended: the client closed it, died, or the runtime shuts down. */
  close?(req: SessionRequest, why: SessionEndReason): void | Promise<void>
  /** The client moved more quota into the session. */
  upgrade?(req: SessionRequest, quota: Quota): void | Promise<void>
}

/** Check a user's handlers (TypeError for a bad one); a frozen copy. */
export function checkHandlers(h: unknown): Readonly<ServeHandlers> {
  if (typeof h !== 'object' || h === null)
    throw new TypeError('serve handlers: an object { open, close?, upgrade? }')
  const x = h as Record<string, unknown>
  if (typeof x.open !== 'function') throw new TypeError('serve handlers need open(req)')
  for (const k of ['close', 'upgrade']) {
    if (x[k] !== undefined && typeof x[k] !== 'function')
      throw new TypeError(`serve handlers: ${k} must be a function`)
  }
  return Object.freeze({
    open: x.open as ServeHandlers['open'],
    close: x.close as ServeHandlers['close'],
    upgrade: x.upgrade as ServeHandlers['upgrade'],
  })
}

/** What the process manager tells a server about a session it asks it to open. */
export interface OpenInfo {
  id: number
  service: string
  label: string
  args: unknown
  quota: Quota
  /** Adopted by a new incarnation (a live update). */
  updated?: boolean
}

/** A server end being opened or open. */
export class ServerEnd {
  readonly req: SessionRequest
  readonly port: SessionPort
  readonly session: Session
  methods: string[] = []

  constructor(buffer: SharedArrayBuffer, info: OpenInfo, control: SessionControl, spin?: number) {
    this.port = new SessionPort(new Channel(buffer, 'b'), { role: 'server', spin })
    this.session = new Session({
      id: info.id,
      service: info.service,
      label: info.label,
      methods: [],
      handle: null,
      role: 'server',
      port: this.port,
      control,
    })
    const quota = { ...info.quota }
    this.req = Object.freeze({
      id: info.id,
      service: info.service,
      label: info.label,
      args: info.args,
      quota,
      updated: info.updated === true,
      session: this.session,
      insufficient(want: Partial<Quota>): never {
        const w = quotaArg(want, quota, 'insufficient')
        throw new KernelError(
          'INSUFFICIENT_QUOTA',
          `'${info.service}' wants ${showQuota(w)}; ${showQuota(quota)} given`,
        )
      },
    })
  }

  /** Run open(req): its object's methods become the session's, and the port starts. */
  async open(h: Readonly<ServeHandlers>): Promise<string[]> {
    let obj: object | null
    try {
      obj = await h.open(this.req)
    } catch (err) {
      this.port.close(SERVER_CLOSED)
      if (KernelError.is(err, 'INSUFFICIENT_QUOTA')) throw err
      throw new KernelError('SERVICE_DENIED', `'${this.req.service}' denied '${this.req.label}'`, {
        cause: err,
      })
    }
    if (
      obj === null ||
      obj === undefined ||
      (typeof obj !== 'object' && typeof obj !== 'function')
    ) {
      this.port.close(SERVER_CLOSED)
      throw new KernelError('SERVICE_DENIED', `'${this.req.service}' denied '${this.req.label}'`)
    }
    const t = methodTable(obj)
    this.methods = t.names
    this.port.serve(t.fns, obj)
    this.port.start()
    return t.names
  }

  /**
   * A new incarnation takes over a session (a live update): open(req) runs again,
   * and its object's methods are bound by the names the client already holds (a
   * name it no longer has answers NO_SUCH_METHOD). The port starts later (start()),
   * once every session is adopted: until then the old incarnation may still resume.
   */
  async adopt(h: Readonly<ServeHandlers>, names: readonly string[]): Promise<void> {
    const obj = await h.open(this.req)
    if (
      obj === null ||
      obj === undefined ||
      (typeof obj !== 'object' && typeof obj !== 'function')
    ) {
      throw new KernelError(
        'SERVICE_DENIED',
        `the new '${this.req.service}' refused session ${this.req.id}`,
      )
    }
    const t = methodTable(obj)
    const missing = (): never => {
      throw new KernelError(
        'NO_SUCH_METHOD',
        `the updated '${this.req.service}' dropped this method`,
      )
    }
    this.methods = [...names]
    this.port.serve(
      names.map((n) => t.fns[t.names.indexOf(n)] ?? missing),
      obj,
    )
  }

  /** The session grew: the server's upgrade handler hears of it. */
  async upgraded(h: Readonly<ServeHandlers>, q: Quota): Promise<void> {
    const quota = this.req.quota as Quota
    quota.bytes += q.bytes
    quota.handles += q.handles
    if (h.upgrade !== undefined) await h.upgrade(this.req, q)
  }

  /** The session ended: the server's close handler runs (its throw is only logged by the caller). */
  async closed(h: Readonly<ServeHandlers>, why: SessionEndReason): Promise<void> {
    try {
      if (h.close !== undefined) await h.close(this.req, why)
    } finally {
      this.port.close(SERVER_CLOSED)
    }
  }
}

/** A client end over a bound channel buffer. */
export function clientSession(
  buffer: SharedArrayBuffer,
  info: {
    id: number
    service: string
    label: string
    methods: readonly string[]
    handle: number | null
  },
  control: SessionControl,
  spin?: number,
): { session: Session; port: SessionPort } {
  const port = new SessionPort(new Channel(buffer, 'a'), { role: 'client', spin })
  port.start()
  return { session: new Session({ ...info, role: 'client', port, control }), port }
}

export type { SessionEndReason }
