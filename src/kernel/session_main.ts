/**
 * The main thread's own session ends: as a server (rt.serve: its open, close and
 * upgrade handlers run here) and as a client (rt.session). A domain's ends are
 * its spawnd's business (workers/sessions.ts); these are the same ends
 * (session/serve.ts) made on this thread.
 */
import { KernelError } from '../errors.js'
import type { SessionEndReason } from '../session/end_reason.js'
import { isEnded } from '../session/state.js'
import { ServerEnd, clientSession, type ServeHandlers } from '../session/serve.js'
import type { Session } from '../session/session.js'
import type { Quota } from '../session/quota.js'
import type { SessionRecord, SessionTableControl } from './session_record.js'

export class MainEnds {
  private readonly servers = new Map<number, ServerEnd>()

  constructor(private readonly table: SessionTableControl) {}

  /** Run a main-thread server's open() for `r`; resolves with its methods. */
  async openServer(r: SessionRecord, h: ServeHandlers): Promise<string[]> {
    const end = new ServerEnd(
      r.chan.buffer,
      { id: r.id, service: r.service, label: r.label, args: r.args, quota: r.escrow },
      {
        // The server ends the session from its side.
        close: () => this.table.close(r, 'server-closed'),
        upgrade: () =>
          Promise.reject(new KernelError('SESSION_CLOSED', 'a server end does not upgrade')),
      },
    )
    this.servers.set(r.id, end)
    let methods: string[]
    try {
      methods = await end.open(h)
    } catch (err) {
      this.servers.delete(r.id)
      throw err
    }
    // The session ended while it opened (its client died, or the open took too long):
    // what it made ends, and its close runs.
    if (isEnded(r.state)) {
      await end.closed(h, r.why ?? 'closed').catch(() => undefined)
    }
    return methods
  }

  async closeServer(r: SessionRecord, why: SessionEndReason): Promise<void> {
    const end = this.servers.get(r.id)
    if (end === undefined || r.server.handlers === null) return
    this.servers.delete(r.id)
    try {
      await end.closed(r.server.handlers, why)
    } catch (err) {
      // A server's close that throws ends nothing more: the session is closed anyway.
      process.emitWarning(
        `session ${r.id} close handler threw: ${(err as Error)?.message ?? String(err)}`,
      )
    }
  }

  async upgradeServer(r: SessionRecord, h: ServeHandlers, q: Quota): Promise<void> {
    const end = this.servers.get(r.id)
    if (end !== undefined) await end.upgraded(h, q).catch(() => undefined)
  }

  /** The record ended: forget its server end (a dead server's handlers do not run). */
  ended(r: SessionRecord): void {
    const end = this.servers.get(r.id)
    if (end === undefined) return
    this.servers.delete(r.id)
    end.port.close(r.why ?? 'closed')
  }

  /** The client end of a session the main thread opened. */
  client(r: SessionRecord): Session {
    return clientSession(
      r.chan.buffer,
      { id: r.id, service: r.service, label: r.label, methods: r.methods, handle: null },
      {
        close: () => this.table.close(r, 'closed'),
        upgrade: (q) => this.table.upgrade(r, q),
      },
    ).session
  }
}
