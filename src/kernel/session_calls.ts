/**
 * A domain's session and quota calls (ctx.serve, ctx.session, close, upgrade,
 * attach, quota, resourceRequest, yield), checked where they enter the process
 * manager: a domain names sessions and children only through its own handle
 * table, and its identity (its label's prefix) comes from the table, not from it.
 */
import { KernelError } from '../errors.js'
import type { CoreLinks } from '../link/link.js'
import { ERR_OK } from '../protocol/errcodes.js'
import { orTimeout } from '../link/timers.js'
import { Call, Op } from '../protocol/opcodes.js'
import type { SessionOpened } from '../protocol/messages.js'
import { quotaArg, type Quota } from '../session/quota.js'
import { RUNNING } from './core_set.js'
import type { DomainEntry } from './domain_entry.js'
import type { ProcessManager } from './process_manager.js'
import type { SessionTable } from './sessions.js'
import type { SessionUpdates } from './session_update.js'
import { domainLabel, type SessionRecord } from './session_record.js'

/** A session handed to a child at spawn and not yet attached on its core. */
export const DETACHED = -2

function obj(x: unknown): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) {
    throw new TypeError('bad call arguments: not an object')
  }
  return x as Record<string, unknown>
}

function nameArg(v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new TypeError('a service name is a non-empty string')
  return v
}

export function opened(r: SessionRecord): SessionOpened {
  return { session: r.id, handle: r.handle, service: r.service, label: r.label, methods: r.methods }
}

/** How a parent answers its child's resource request; null: the root's policy. */
export type ResourcePolicy = (child: DomainEntry, q: Quota) => boolean | Promise<boolean>

export class SessionCalls {
  /** The runtime's answer to its own children's resource requests (rt.onResourceRequest). */
  rootPolicy: ResourcePolicy = () => false

  constructor(
    private readonly pm: ProcessManager,
    private readonly links: CoreLinks,
    private readonly sessions: SessionTable,
    private readonly updates: SessionUpdates,
  ) {}

  /** The session a caller's handle names, with the caller as its client. */
  private held(caller: DomainEntry, h: unknown): SessionRecord | undefined {
    if (typeof h !== 'number' || !Number.isInteger(h) || h < 0)
      throw new TypeError('bad call arguments: handle')
    const r = this.sessions.get(caller.handles.getSession(h))
    if (r !== undefined && r.client !== caller) {
      throw new KernelError(
        'BAD_HANDLE',
        `handle ${h} names a session this domain is not the client of`,
      )
    }
    return r
  }

  /** The same, for a session that must not have ended (SESSION_CLOSED). */
  private heldOpen(caller: DomainEntry, h: unknown): SessionRecord {
    const r = this.held(caller, h)
    if (r === undefined) {
      throw new KernelError('SESSION_CLOSED', `the session of handle ${String(h)} has ended`)
    }
    return r
  }

  /** The first core a domain runs on (where its handlers run), or CORE_FAILED-like refusal. */
  private coreOf(e: DomainEntry): number {
    const c = e.firstCore(RUNNING)
    if (c < 0) throw new KernelError('DOMAIN_NOT_RUNNING', `domain ${e.id} runs nowhere`)
    return c
  }

  /** Ask a domain's core something and read the reply's value and text. */
  private ask(
    e: DomainEntry,
    op: number,
    arg: number,
    text: string,
  ): Promise<{ value: number; text: string | null }> {
    const core = this.coreOf(e)
    const answer = new Promise<{ value: number; text: string | null }>((resolve, reject) => {
      this.links.request(core, op, e.id, arg, text, (err, value, t) => {
        if (err !== ERR_OK) return reject(this.links.replyError(err, t, `ask domain ${e.id}`, core))
        resolve({ value, text: t })
      })
    })
    // A handler that never answers fails the request (TIMEOUT) instead of holding it.
    return orTimeout(answer, this.sessions.answerMs, `domain ${e.id}'s quota handler`)
  }

  async handle(caller: DomainEntry, core: number, op: number, raw: unknown): Promise<unknown> {
    const a = obj(raw)
    switch (op) {
      case Call.SERVE:
        this.sessions.services.add({
          service: nameArg(a.service),
          domainId: caller.id,
          core,
          label: domainLabel(caller),
          handlers: null,
          // A new incarnation during a live update serves once the update commits.
          standby: this.updates.isSuccessor(caller),
        })
        return null
      case Call.UPDATE_STATE:
        return this.updates.stateFor(caller)
      case Call.UNSERVE:
        this.sessions.services.remove(caller.id, nameArg(a.service))
        return null
      case Call.SESSION: {
        const r = await this.sessions.open(caller, core, {
          service: a.service,
          label: a.label,
          quota: a.quota,
          args: a.args,
          capacity: a.capacity,
        })
        this.sessions.handOut(r)
        return opened(r)
      }
      case Call.SESSION_CLOSE: {
        if (a.session !== undefined) {
          // The server ends a session it serves.
          const r = this.sessions.get(a.session as number)
          if (r === undefined) return null
          if (r.server.domainId !== caller.id)
            throw new KernelError(
              'BAD_HANDLE',
              `domain ${caller.id} does not serve session ${String(a.session)}`,
            )
          await this.sessions.close(r, 'server-closed')
          return null
        }
        const r = this.held(caller, a.handle)
        if (r === undefined) caller.handles.close(a.handle as number)
        else await this.sessions.close(r, 'closed')
        return null
      }
      case Call.SESSION_UPGRADE: {
        const r = this.heldOpen(caller, a.handle)
        await this.sessions.upgrade(r, a.quota)
        return null
      }
      case Call.SESSION_ATTACH: {
        const r = this.heldOpen(caller, a.handle)
        if (r.clientCore !== DETACHED) {
          throw new KernelError(
            'BAD_HANDLE',
            `session ${r.id} is already attached on core ${r.clientCore}`,
          )
        }
        const peerCore = r.server.handlers !== null ? -1 : r.server.core
        const end = { role: 'client', peerCore, rebind: true } as const
        if (!this.links.bind(core, r.id, r.chan.buffer, end))
          throw new KernelError('CORE_FAILED', `core ${core} is down`)
        r.clientCore = core
        return opened(r)
      }
      case Call.QUOTA:
        return this.pm.accounts.balance(caller)
      case Call.RESOURCE_REQUEST: {
        const q = quotaArg(a, { bytes: 0, handles: 0 }, 'resource request')
        const parent = caller.parentId === 0 ? null : (this.pm.entry(caller.parentId) ?? null)
        let yes: boolean
        if (parent === null) {
          yes = await Promise.resolve()
            .then(() => this.rootPolicy(caller, q))
            .then(
              (v) => v === true,
              () => false,
            )
        } else {
          const child = parent.handles.find(caller.id)
          const { value } = await this.ask(
            parent,
            Op.RESOURCE_REQUEST,
            child ?? -1,
            JSON.stringify(q),
          )
          yes = value === 1
        }
        if (!yes)
          throw new KernelError(
            'OUT_OF_QUOTA',
            `the parent of domain ${caller.id} declined ${q.bytes} bytes and ${q.handles} handles`,
          )
        this.pm.accounts.take(parent, q, `resource request of domain ${caller.id}`)
        this.pm.accounts.give(caller, q)
        return this.pm.accounts.balance(caller)
      }
      case Call.YIELD: {
        const h = a.handle
        if (typeof h !== 'number') throw new TypeError('bad call arguments: handle')
        const child = this.pm.entry(caller.handles.get(h))
        if (child === undefined || child.parentId !== caller.id) {
          throw new KernelError('BAD_HANDLE', `handle ${h} names no child of domain ${caller.id}`)
        }
        return this.yieldFrom(child, caller, quotaArg(a.quota, { bytes: 0, handles: 0 }, 'yield'))
      }
      default:
        throw new KernelError('PROTOCOL', `unknown call ${op}`)
    }
  }

  /**
   * Ask `child` to give quota back to `parent` (null: the root), Genode's yield: a
   * polite request, answered by the child's onYield with what it gives (at most
   * what was asked and what it has). Resolves with what moved.
   */
  async yieldFrom(child: DomainEntry, parent: DomainEntry | null, ask: Quota): Promise<Quota> {
    const { text } = await this.ask(child, Op.YIELD, 0, JSON.stringify(ask))
    let offered: Quota
    try {
      offered = quotaArg(JSON.parse(text ?? 'null'), { bytes: 0, handles: 0 }, 'yield answer')
    } catch {
      offered = { bytes: 0, handles: 0 }
    }
    const have = this.pm.accounts.balance(child)
    const give = {
      bytes: Math.min(offered.bytes, ask.bytes, have.bytes),
      handles: Math.min(offered.handles, ask.handles, have.handles),
    }
    this.pm.accounts.take(child, give, 'yield')
    this.pm.accounts.give(parent, give)
    return give
  }
}
