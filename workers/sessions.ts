/**
 * A spawnd's sessions: the ends of sessions whose client or server domain runs on
 * this core. Channel buffers arrive by the monitor port (the process manager's
 * binding path) and are paired by session id with the ring requests and call
 * answers that name them, in whichever order the two arrive. The server's open,
 * close and upgrade handlers and a parent's or child's quota handlers run here,
 * inside their domain's async context (faults.ts): their throws are theirs.
 */
import type { MessagePort } from 'node:worker_threads'
import { KernelError, type KernelErrorCode } from '../src/errors.js'
import { encodeError } from '../src/protocol/error_text.js'
import type { SessionOpenText, SessionOpened } from '../src/protocol/messages.js'
import { Call, Op } from '../src/protocol/opcodes.js'
import type { ChannelBinding } from '../src/protocol/spawnd_boot.js'
import { reasonToWord, type SessionEndReason } from '../src/session/end_reason.js'
import type { Quota } from '../src/session/quota.js'
import {
  ServerEnd,
  checkHandlers,
  clientSession,
  type ServeHandlers,
} from '../src/session/serve.js'
import type { Session } from '../src/session/session.js'
import type { SessionPort } from '../src/session/port.js'
import {
  JSONParse,
  JSONStringify,
  SafeClearTimeout,
  SafeMap,
  SafePromise,
  SafeSet,
  SafeSetTimeout,
} from '../src/intrinsics.js'
import type { Dispatcher, DispatcherSessions } from './dispatcher.js'
import type {
  ResourceRequestHandler,
  UpdateHandler,
  YieldRequestHandler,
} from '../src/domain/context.js'
import { runAs } from './faults.js'
import { SpawndUpdates } from './session_update.js'
import type { Served } from './served.js'

/** How long a ring message may wait for its channel buffer (they are sent together). */
const BIND_TIMEOUT_MS = 10_000

type Reply = (tag: number, err: KernelErrorCode | null, value: number, text: string | null) => void

export class SpawndSessions implements DispatcherSessions {
  private readonly buffers = new SafeMap<number, SharedArrayBuffer>()
  private readonly waiting = new SafeMap<number, (b: SharedArrayBuffer | null) => void>()
  /** domain id -> service name -> its handlers. */
  readonly serving = new SafeMap<number, SafeMap<string, Readonly<ServeHandlers>>>()
  /** Server ends here, by session id (session_update.ts pauses and hands them over). */
  readonly served = new SafeMap<number, Served>()
  /** A live update's half on this core (session_update.ts). */
  readonly updates: SpawndUpdates
  /** Client ends here, by session id. */
  private readonly clients = new SafeMap<
    number,
    { session: Session; port: SessionPort; d: Dispatcher }
  >()
  private readonly resourceHandlers = new SafeMap<number, ResourceRequestHandler>()
  private readonly yieldHandlers = new SafeMap<number, YieldRequestHandler>()
  /** Requests whose answer waits on a handler or a buffer (the loop stays awake for them). */
  pending = 0
  /** Those requests, by dispatcher: a dispatcher that stops has them answered at once. */
  private readonly waitingOn = new SafeMap<Dispatcher, SafeSet<(err: unknown) => void>>()

  constructor(
    private readonly monitor: MessagePort,
    private readonly reply: Reply,
    private readonly call: (d: Dispatcher, op: number, args: unknown) => Promise<string>,
    private readonly spin: number,
  ) {
    this.updates = new SpawndUpdates(this)
    monitor.on('message', (m: ChannelBinding) => {
      const w = this.waiting.get(m.session)
      if (w !== undefined) {
        this.waiting.delete(m.session)
        w(m.buffer)
      } else {
        this.buffers.set(m.session, m.buffer)
      }
    })
  }

  /** The channel buffer of session `id`, once the monitor port brought it. */
  /** A server end over session `o`'s channel; its close goes to the process manager. */
  serverEnd(d: Dispatcher, o: SessionOpenText, buf: SharedArrayBuffer, updated = false): ServerEnd {
    return new ServerEnd(
      buf,
      { id: o.session, service: o.service, label: o.label, args: o.args, quota: o.quota, updated },
      {
        close: () => this.call(d, Call.SESSION_CLOSE, { session: o.session }).then(() => undefined),
        upgrade: () =>
          SafePromise.reject(new KernelError('SESSION_CLOSED', 'a server end does not upgrade')),
      },
      this.spin,
    )
  }

  buffer(id: number): Promise<SharedArrayBuffer> {
    const b = this.buffers.get(id)
    if (b !== undefined) {
      this.buffers.delete(id)
      return SafePromise.resolve(b)
    }
    return new SafePromise<SharedArrayBuffer>((resolve, reject) => {
      const timer = SafeSetTimeout(() => {
        this.waiting.delete(id)
        reject(new KernelError('PROTOCOL', `session ${id}: its channel never came`))
      }, BIND_TIMEOUT_MS)
      this.waiting.set(id, (buf) => {
        SafeClearTimeout(timer)
        if (buf === null) reject(new KernelError('SESSION_CLOSED', `session ${id} ended`))
        else resolve(buf)
      })
    })
  }

  /** The loop ends: stop listening on the monitor port, so the worker can end. */
  close(): void {
    this.monitor.close()
  }

  // ---------------------------------------------------------- requests (ring)

  /** A session request from the process manager (Op.SESSION_* / RESOURCE_REQUEST / YIELD). */
  request(
    d: Dispatcher | undefined,
    op: number,
    tag: number,
    value: number,
    text: string | null,
  ): void {
    if (d === undefined || d.state !== 'running') {
      this.buffers.delete(value)
      return this.reply(tag, 'DOMAIN_NOT_RUNNING', 0, 'the domain does not run on this core')
    }
    this.pending++
    let answered = false
    let mine = this.waitingOn.get(d)
    if (mine === undefined) this.waitingOn.set(d, (mine = new SafeSet()))
    const set = mine
    const done = (err: unknown, v: number, t: string | null): void => {
      if (answered) return
      answered = true
      set.delete(abort)
      if (set.size === 0 && this.waitingOn.get(d) === set) this.waitingOn.delete(d)
      this.pending--
      if (err === null) return this.reply(tag, null, v, t)
      const code = err instanceof KernelError ? err.code : 'PROTOCOL'
      this.reply(tag, code, 0, encodeError(err))
    }
    const abort = (err: unknown): void => done(err, 0, null)
    set.add(abort)
    runAs(d, () => {
      this.handle(d, op, value, text).then(
        ([v, t]) => done(null, v, t),
        (err: unknown) => done(err, 0, null),
      )
    })
  }

  private async handle(
    d: Dispatcher,
    op: number,
    value: number,
    text: string | null,
  ): Promise<[number, string | null]> {
    const a = JSONParse(text ?? 'null') as Record<string, unknown>
    switch (op) {
      case Op.SESSION_OPEN: {
        const o = a as unknown as SessionOpenText
        const h = this.serving.get(d.domainId)?.get(o.service)
        if (h === undefined) {
          this.buffers.delete(o.session)
          throw new KernelError(
            'SERVICE_DENIED',
            `domain ${d.domainId} does not serve '${o.service}' here`,
          )
        }
        const end = this.serverEnd(d, o, await this.buffer(o.session))
        const methods = await end.open(h)
        this.served.set(o.session, { end, d, handlers: h })
        return [0, JSONStringify(methods)]
      }
      case Op.SESSION_CLOSE: {
        const s = this.served.get(value)
        if (s === undefined) return [0, null]
        this.served.delete(value)
        await s.end.closed(s.handlers, a.why as SessionEndReason).catch(() => undefined)
        return [0, null]
      }
      case Op.SESSION_UPGRADE: {
        const s = this.served.get(value)
        if (s !== undefined) await s.end.upgraded(s.handlers, a.quota as Quota)
        return [0, null]
      }
      case Op.RESOURCE_REQUEST: {
        const h = this.resourceHandlers.get(d.domainId)
        if (h === undefined) return [0, null]
        const yes = await h({
          child: value < 0 ? null : value,
          bytes: a.bytes as number,
          handles: a.handles as number,
        })
        return [yes === true ? 1 : 0, null]
      }
      case Op.YIELD: {
        const h = this.yieldHandlers.get(d.domainId)
        if (h === undefined) return [0, JSONStringify({ bytes: 0, handles: 0 })]
        const give = (await h({ bytes: a.bytes as number, handles: a.handles as number })) ?? {}
        return [0, JSONStringify({ bytes: give.bytes ?? 0, handles: give.handles ?? 0 })]
      }
      default:
        return this.updates.handle(d, op, value, text)
    }
  }

  // ---------------------------------------------------------- a domain's own calls (ctx)

  async serve(d: Dispatcher, name: string, handlers: unknown): Promise<void> {
    const h = checkHandlers(handlers)
    let mine = this.serving.get(d.domainId)
    if (mine === undefined) this.serving.set(d.domainId, (mine = new SafeMap()))
    if (mine.has(name))
      throw new KernelError('SERVICE_EXISTS', `this domain already serves '${name}'`)
    mine.set(name, h)
    try {
      await this.call(d, Call.SERVE, { service: name })
    } catch (err) {
      mine.delete(name)
      throw err
    }
  }

  async unserve(d: Dispatcher, name: string): Promise<void> {
    this.serving.get(d.domainId)?.delete(name)
    await this.call(d, Call.UNSERVE, { service: name })
  }

  /** Open a session (Call.SESSION), or take up one passed at spawn (Call.SESSION_ATTACH). */
  async session(d: Dispatcher, op: number, args: unknown): Promise<Session> {
    const o = JSONParse(await this.call(d, op, args)) as SessionOpened
    const buf = await this.buffer(o.session)
    const handle = o.handle
    const { session: s, port } = clientSession(
      buf,
      { id: o.session, service: o.service, label: o.label, methods: o.methods, handle },
      {
        close: () => this.call(d, Call.SESSION_CLOSE, { handle }).then(() => undefined),
        upgrade: (q) =>
          this.call(d, Call.SESSION_UPGRADE, { handle, quota: q }).then(() => undefined),
      },
      this.spin,
    )
    this.clients.set(o.session, { session: s, port, d })
    void s.closed.then(() => this.clients.delete(o.session))
    return s
  }

  /** Stop this core's ends of the sessions a spawn passes to a child (they move). */
  detach(d: Dispatcher, handles: readonly number[]): void {
    this.clients.forEach((c, id) => {
      if (c.d !== d || c.session.handle === null || !handles.includes(c.session.handle)) return
      this.clients.delete(id)
      c.port.detach()
    })
  }

  onResourceRequest(d: Dispatcher, h: ResourceRequestHandler | null): void {
    if (h === null) this.resourceHandlers.delete(d.domainId)
    else this.resourceHandlers.set(d.domainId, h)
  }

  onUpdate(d: Dispatcher, h: UpdateHandler | null): void {
    this.updates.onUpdate(d, h)
  }

  onYield(d: Dispatcher, h: YieldRequestHandler | null): void {
    if (h === null) this.yieldHandlers.delete(d.domainId)
    else this.yieldHandlers.set(d.domainId, h)
  }

  /** A dispatcher stopped: it serves nothing here any more; its ends stop. */
  dispatcherStopped(d: Dispatcher): void {
    this.updates.forget(d)
    const waiting = this.waitingOn.get(d)
    if (waiting !== undefined) {
      this.waitingOn.delete(d)
      const stopped = new KernelError('DOMAIN_NOT_RUNNING', `domain ${d.domainId} stopped`)
      // forEach over a copy (an answered request leaves the set): no iterator a domain can replace.
      const all: ((err: unknown) => void)[] = []
      waiting.forEach((abort) => {
        all[all.length] = abort
      })
      for (let i = 0; i < all.length; i++) all[i](stopped)
    }
    this.serving.delete(d.domainId)
    this.resourceHandlers.delete(d.domainId)
    this.yieldHandlers.delete(d.domainId)
    const word = reasonToWord('client-exit')
    this.served.forEach((s, id) => {
      if (s.d !== d) return
      this.served.delete(id)
      s.end.port.close(reasonToWord('server-exit'))
    })
    this.clients.forEach((c, id) => {
      if (c.d !== d) return
      this.clients.delete(id)
      c.port.close(word)
    })
  }
}
