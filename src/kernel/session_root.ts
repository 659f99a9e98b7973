/**
 * The runtime's own session and quota calls (rt.serve, rt.session, rt.sessions,
 * rt.route, rt.quota, rt.onResourceRequest, rt.requestYield): the main thread as
 * a server, as a client, and as the root of every quota account.
 */
import { KernelError } from '../errors.js'
import { quotaArg, type Quota } from '../session/quota.js'
import { checkHandlers, type ServeHandlers } from '../session/serve.js'
import type { Session } from '../session/session.js'
import type { DomainCap } from './cap.js'
import type { ProcessManager } from './process_manager.js'
import type { SessionCalls } from './session_calls.js'
import type { SessionInfo, SessionTable } from './sessions.js'

export interface RootSessionOptions {
  /** The label the server sees (the main thread has no identity before it). */
  label?: string
  /** Quota moved from the runtime's account (default: what the channel costs). */
  quota?: Partial<Quota>
  /** Open arguments for the server's open(req) (JSON data). */
  args?: unknown
  /** Bytes of each of the channel's two rings, a power of two (default 65536). */
  capacity?: number
}

export interface RootServeOptions {
  /** The main thread's label as a server, as routes name it. Default 'main'. */
  label?: string
}

/** What rt.quotaTotals() adds up: the runtime's account, every domain's, every session's escrow. */
export interface QuotaTotals {
  total: Quota
  root: Quota
  domains: Quota
  sessions: Quota
}

/** A resource request from one of the runtime's own children. */
export interface RootResourceRequest {
  domain: DomainCap
  bytes: number
  handles: number
}

export class RootSessions {
  constructor(
    private readonly pm: ProcessManager,
    private readonly table: SessionTable,
    private readonly calls: SessionCalls,
    private readonly isShutdown: () => boolean,
  ) {}

  private open(what: string): void {
    if (this.isShutdown()) throw new KernelError('SHUTDOWN', `${what}: the runtime is shut down`)
  }

  serve(name: string, handlers: ServeHandlers, opts: RootServeOptions = {}): void {
    this.open('serve')
    if (typeof name !== 'string' || name === '')
      throw new TypeError('a service name is a non-empty string')
    const label = opts.label ?? 'main'
    if (typeof label !== 'string') throw new TypeError('label must be a string')
    this.table.services.add({
      service: name,
      domainId: 0,
      core: -1,
      label,
      handlers: checkHandlers(handlers) as ServeHandlers,
    })
  }

  unserve(name: string): void {
    this.table.services.remove(0, name)
  }

  async session(name: string, opts: RootSessionOptions = {}): Promise<Session> {
    this.open('session')
    if (typeof opts !== 'object' || opts === null)
      throw new TypeError('session options must be an object')
    const r = await this.table.open(null, -1, {
      service: name,
      label: opts.label,
      quota: opts.quota,
      args: opts.args,
      capacity: opts.capacity,
    })
    this.table.handOut(r)
    return this.table.main.client(r)
  }

  sessions(): SessionInfo[] {
    return this.table.records().map((r) => this.table.info(r))
  }

  route(r: unknown): void {
    this.table.services.addRoute(r)
  }

  /** A domain's account, or with no domain the runtime's own. */
  quota(d?: DomainCap): Quota {
    return this.pm.accounts.balance(d === undefined ? null : this.pm.lookup(d))
  }

  quotaTotals(): QuotaTotals {
    let bytes = 0
    let handles = 0
    for (const s of this.pm.snapshots()) {
      bytes += s.quota.bytes
      handles += s.quota.handles
    }
    return {
      total: { ...this.pm.accounts.total },
      root: this.pm.accounts.balance(null),
      domains: { bytes, handles },
      sessions: this.table.escrowTotal(),
    }
  }

  onResourceRequest(h: ((req: RootResourceRequest) => boolean | Promise<boolean>) | null): void {
    if (h !== null && typeof h !== 'function')
      throw new TypeError('onResourceRequest takes a function or null')
    this.calls.rootPolicy =
      h === null
        ? () => false
        : (child, q) => h({ domain: child.cap, bytes: q.bytes, handles: q.handles })
  }

  requestYield(d: DomainCap, q: Partial<Quota>): Promise<Quota> {
    try {
      const child = this.pm.lookup(d)
      if (child.parentId !== 0)
        throw new KernelError('BAD_HANDLE', `domain ${child.id} is not a child of the runtime`)
      return this.calls.yieldFrom(child, null, quotaArg(q, { bytes: 0, handles: 0 }, 'yield'))
    } catch (err) {
      return Promise.reject(err)
    }
  }
}
