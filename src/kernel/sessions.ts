/**
 * The process manager's session table (Genode's Child::session, upgrade, close and
 * session_response; Barrelfish's monitor binding a UMP channel). A session is
 * opened as one transaction:
 *
 *   route by label -> take the quota from the client (escrow) -> make the channel
 *   -> bind it on the server's core -> the server's open() -> hand the cap to the
 *   client (a handle slot) -> bind it on the client's core
 *
 * and any failure on the way (no server, a deny, too little quota, either end
 * dying) rolls back: the quota returns to the client, the channel is closed, and
 * the opener hears why. After that the session's traffic flows on its channel
 * between the two ends' threads; the process manager's rings carry none of it.
 *
 * Ends (session/end_reason.ts): the client closes (the server's close runs), the
 * client dies (the same), the server dies or loses its core (no close to run),
 * shutdown (every one, in order). The quota always returns to the client, even
 * when the server died (Genode's clients lose it then).
 */
import { KernelError } from '../errors.js'
import type { CoreLinks } from '../link/link.js'
import { ERR_OK } from '../protocol/errcodes.js'
import { Op } from '../protocol/opcodes.js'
import type { SessionOpenText } from '../protocol/messages.js'
import { Channel } from '../ring/channel.js'
import { reasonToWord, type SessionEndReason } from '../session/end_reason.js'
import { SESSION_HANDLE_COST, covers, quotaArg, showQuota, type Quota } from '../session/quota.js'
import { composeLabel } from '../session/route.js'
import { canMove, isEnded, type SessionState } from '../session/state.js'
import type { Accounts } from './accounts.js'
import type { DomainEntry } from './domain_entry.js'
import type { ServiceRegistry } from './service_registry.js'
import type { EventSink, KernelEvent } from './events.js'
import { MainEnds } from './session_main.js'
import { noop, orTimeout } from '../link/timers.js'
import {
  capacityArg,
  domainLabel,
  type OpenArgs,
  type SessionInfo,
  type SessionRecord,
} from './session_record.js'

export type { OpenArgs, SessionInfo, SessionRecord } from './session_record.js'

/** The default of boot's `sessionAnswerMs`. */
export const DEFAULT_ANSWER_MS = 10_000

export class SessionTable {
  private readonly table = new Map<number, SessionRecord>()
  private nextId = 1
  /** The main thread's ends (its sessions as client and as server). */
  readonly main: MainEnds
  /**
   * How long a server's open, close or upgrade handler (or a parent's or child's quota
   * handler) may take to answer; past it the open is refused, the close goes on.
   */
  answerMs = DEFAULT_ANSWER_MS
  /** The end of a live update of the server labelled so, if one runs (set by the boot path). */
  updating: (label: string) => Promise<void> | null = () => null

  constructor(
    private readonly links: CoreLinks,
    private readonly accounts: Accounts,
    readonly services: ServiceRegistry,
    /** The entry of a domain id, while it is in the table. */
    private readonly entry: (id: number) => DomainEntry | undefined,
    private readonly events: EventSink<KernelEvent>,
  ) {
    this.main = new MainEnds({
      close: (r, why) => this.close(r, why),
      upgrade: (r, q) => this.upgrade(r, q),
    })
  }

  get(id: number): SessionRecord | undefined {
    return this.table.get(id)
  }

  /** Every session not yet ended, oldest first. */
  records(): SessionRecord[] {
    return [...this.table.values()]
  }

  /** A client's identity: its ancestors' labels and its own, outermost first. */
  identity(e: DomainEntry | null): string {
    const parts: string[] = []
    for (
      let d: DomainEntry | undefined | null = e;
      d !== null && d !== undefined;
      d = d.parentId === 0 ? null : this.entry(d.parentId)
    ) {
      parts.push(domainLabel(d))
    }
    return composeLabel(parts.reverse())
  }

  /** Move a record to `to` (a transition Genode's Session_state allows). */
  private move(r: SessionRecord, to: SessionState): void {
    const from = r.state
    if (!canMove(from, to)) throw new Error(`session ${r.id}: ${from} -> ${to} is no transition`)
    r.state = to
    if (this.events.wants('session')) {
      this.events.publish({ type: 'session', id: r.id, service: r.service, from, to })
    }
  }

  /**
   * Open a session for `client` (null: the main thread) whose end lives on
   * `clientCore` (-1: the main thread). Resolves with the record in AVAILABLE;
   * the caller hands the cap out (handOut). Rejects with everything rolled back.
   */
  async open(client: DomainEntry | null, clientCore: number, a: OpenArgs): Promise<SessionRecord> {
    if (typeof a.service !== 'string' || a.service === '') {
      throw new TypeError('a session names a service: a non-empty string')
    }
    if (a.label !== undefined && typeof a.label !== 'string')
      throw new TypeError('label must be a string')
    const capacity = capacityArg(a.capacity)
    const channelBytes = Channel.byteLength(capacity)
    const need: Quota = { bytes: channelBytes, handles: SESSION_HANDLE_COST }
    const quota = quotaArg(a.quota, need, 'session quota')
    const label = composeLabel([this.identity(client), (a.label as string | undefined) ?? ''])
    let server = this.services.route(a.service, label)
    // A service under a live update takes no new session until the update ends: then
    // the route is made again (to the new incarnation, or the old one after a rollback).
    for (let w = this.updating(server.label); w !== null; w = this.updating(server.label)) {
      await w
      server = this.services.route(a.service, label)
    }
    if (!covers(quota, need)) {
      throw new KernelError(
        'INSUFFICIENT_QUOTA',
        `a session of '${a.service}' with ${capacity}-byte rings needs ${showQuota(need)}; ${showQuota(quota)} given`,
      )
    }
    this.accounts.take(client, quota, `session of '${a.service}'`)
    let settleEnded!: () => void
    const ended = new Promise<void>((resolve) => (settleEnded = resolve))
    const r: SessionRecord = {
      id: this.nextId++,
      service: a.service,
      label,
      state: 'CREATE_REQUESTED',
      escrow: quota,
      channelBytes,
      client,
      clientCore,
      server,
      chan: Channel.create({ capacity }),
      handle: null,
      methods: [],
      args: a.args === undefined ? null : a.args,
      why: null,
      ended,
      settleEnded,
    }
    this.table.set(r.id, r)
    if (this.events.wants('session')) {
      // Its first state: a transition from nothing, told as CREATE_REQUESTED -> itself.
      const s = r.state
      this.events.publish({ type: 'session', id: r.id, service: r.service, from: s, to: s })
    }
    let methods: string[]
    try {
      // The server dying meanwhile ends the record (domainStopped): the open fails then
      // at once, whether or not its core ever answers.
      methods = await Promise.race([
        orTimeout(this.askServer(r), this.answerMs, `the open of '${r.service}'`),
        r.ended.then((): never => {
          throw new KernelError(
            'SERVICE_DENIED',
            `the server of '${r.service}' ended during the open (${r.why ?? 'closed'})`,
          )
        }),
      ])
    } catch (err) {
      // Denied, too little quota, or the server died meanwhile: roll everything back.
      if (!isEnded(r.state)) {
        const insufficient = KernelError.is(err, 'INSUFFICIENT_QUOTA')
        this.finish(r, insufficient ? 'INSUFFICIENT_QUOTA' : 'DENIED', 'server-closed')
      }
      if (
        err instanceof KernelError &&
        (err.code === 'SERVICE_DENIED' || err.code === 'INSUFFICIENT_QUOTA')
      )
        throw err
      throw KernelError.push(
        err,
        'SERVICE_DENIED',
        `'${r.service}' did not open a session for '${label}'`,
      )
    }
    if (isEnded(r.state)) {
      throw new KernelError(
        'SESSION_CLOSED',
        `session ${r.id} ended while opening (${r.why ?? 'closed'})`,
      )
    }
    r.methods = methods
    this.move(r, 'AVAILABLE')
    if (client !== null && client.state !== 'RUNNING') {
      void this.close(r, 'client-exit')
      throw new KernelError('SESSION_CLOSED', `the client of session ${r.id} ended while opening`)
    }
    return r
  }

  /** The server's open(): on the main thread, or on the server's core (SESSION_OPEN). */
  private askServer(r: SessionRecord): Promise<string[]> {
    const s = r.server
    if (s.handlers !== null) return this.main.openServer(r, s.handlers)
    const text: SessionOpenText = {
      session: r.id,
      service: r.service,
      label: r.label,
      args: r.args,
      quota: r.escrow,
    }
    let json: string
    try {
      json = JSON.stringify(text)
    } catch (err) {
      return Promise.reject(new TypeError('session args must be JSON data', { cause: err }))
    }
    const peerCore = r.client === null ? -1 : r.clientCore
    if (!this.links.bind(s.core, r.id, r.chan.buffer, { role: 'server', peerCore })) {
      return Promise.reject(new KernelError('SERVICE_DENIED', `the core of '${s.service}' is down`))
    }
    return new Promise((resolve, reject) => {
      this.links.request(s.core, Op.SESSION_OPEN, s.domainId, r.id, json, (err, _v, t) => {
        if (err !== ERR_OK)
          return reject(this.links.replyError(err, t, `open '${r.service}'`, s.core))
        // The server opened a session that ended meanwhile (its client died): it made
        // state for it, so its close runs, as for any session it opened.
        if (isEnded(r.state) && r.why !== 'server-exit' && r.why !== 'core-failed') {
          void this.tellServer(r, r.why ?? 'closed')
        }
        try {
          resolve(JSON.parse(t ?? '[]') as string[])
        } catch (e) {
          reject(new KernelError('PROTOCOL', 'unreadable open reply', { cause: e }))
        }
      })
    })
  }

  /**
   * Hand the open session to its client: a slot in a domain client's handle
   * table, and the channel bound on its core (CAP_HANDED_OUT).
   */
  handOut(r: SessionRecord): void {
    if (r.client !== null) {
      try {
        r.handle = r.client.handles.addSession(r.id)
      } catch (err) {
        void this.close(r, 'closed')
        throw err
      }
      const peerCore = r.server.handlers !== null ? -1 : r.server.core
      if (!this.links.bind(r.clientCore, r.id, r.chan.buffer, { role: 'client', peerCore })) {
        void this.close(r, 'core-failed')
        throw new KernelError('SESSION_CLOSED', `the client's core ${r.clientCore} is down`)
      }
    }
    this.move(r, 'CAP_HANDED_OUT')
  }

  /**
   * End an open session from its client's side (or the client died, or shutdown):
   * CLOSE_REQUESTED, the channel closed (pending calls reject at once), the
   * server's close(req, why) run, then CLOSED with the quota back. Resolves when done.
   */
  async close(r: SessionRecord, why: SessionEndReason): Promise<void> {
    if (isEnded(r.state)) return
    if (r.state === 'CLOSE_REQUESTED') return r.ended
    const opened = r.state !== 'CREATE_REQUESTED'
    if (opened) this.move(r, 'CLOSE_REQUESTED')
    r.why = why
    r.chan.close(reasonToWord(why))
    if (opened) await this.tellServer(r, why)
    this.finish(r, 'CLOSED', why)
  }

  /** The server's close handler: on the main thread, or SESSION_CLOSE to its core. */
  private tellServer(r: SessionRecord, why: SessionEndReason): Promise<void> {
    const s = r.server
    // A close handler that never returns does not keep the session (or shutdown) from ending.
    if (s.handlers !== null) {
      return orTimeout(this.main.closeServer(r, why), this.answerMs, 'close').catch(noop)
    }
    const told = new Promise<void>((resolve) => {
      const text = JSON.stringify({ session: r.id, why })
      this.links.request(s.core, Op.SESSION_CLOSE, s.domainId, r.id, text, () => resolve())
    })
    return orTimeout(told, this.answerMs, 'close').catch(noop)
  }

  /** Into an end state: the channel closed, the quota back to the client, the cap dropped. */
  private finish(r: SessionRecord, to: SessionState, why: SessionEndReason): void {
    if (isEnded(r.state)) return
    this.move(r, to)
    r.why ??= why
    r.chan.close(reasonToWord(r.why))
    const client = r.client
    // A client freed meanwhile has handed its account up already: the root takes it.
    this.accounts.give(
      client !== null && this.entry(client.id) === client ? client : null,
      r.escrow,
    )
    if (client !== null && r.handle !== null && client.handles.findSession(r.id) === r.handle) {
      client.handles.close(r.handle)
    }
    this.table.delete(r.id)
    this.main.ended(r)
    r.settleEnded()
  }

  /** Move more quota from the client into an open session (Genode's upgrade). */
  async upgrade(r: SessionRecord, raw: unknown): Promise<void> {
    const q = quotaArg(raw, { bytes: 0, handles: 0 }, 'upgrade')
    if (r.state !== 'CAP_HANDED_OUT') {
      throw new KernelError('SESSION_CLOSED', `session ${r.id} is ${r.state}: no upgrade now`)
    }
    this.accounts.take(r.client, q, `upgrade of session ${r.id}`)
    this.move(r, 'UPGRADE_REQUESTED')
    r.escrow = { bytes: r.escrow.bytes + q.bytes, handles: r.escrow.handles + q.handles }
    const s = r.server
    // The quota is in the session once moved; the server's handler only hears of it,
    // and one that never returns does not hold the client.
    const told =
      s.handlers !== null
        ? this.main.upgradeServer(r, s.handlers, q)
        : new Promise<void>((resolve) => {
            const text = JSON.stringify({ session: r.id, quota: q })
            this.links.request(s.core, Op.SESSION_UPGRADE, s.domainId, r.id, text, () => resolve())
          })
    await orTimeout(told, this.answerMs, 'upgrade').catch(noop)
    if ((r.state as SessionState) === 'UPGRADE_REQUESTED') this.move(r, 'CAP_HANDED_OUT')
  }

  /**
   * A domain stopped (exit, kill, or its core failed): it serves nothing more, every
   * session it served ends at once (its pending calls reject), and every session it
   * held as a client closes (the server's close runs).
   */
  domainStopped(e: DomainEntry): void {
    // Most domains never serve nor open a session: nothing to look through for them.
    if (this.table.size === 0 && !this.services.serves(e.id)) return
    const serverWhy: SessionEndReason = e.reason === 'core-failed' ? 'core-failed' : 'server-exit'
    this.services.remove(e.id)
    for (const r of this.records()) {
      if (r.server.domainId === e.id) this.finish(r, 'CLOSED', serverWhy)
      else if (r.client === e)
        void this.close(r, e.reason === 'core-failed' ? 'core-failed' : 'client-exit')
    }
  }

  /** Shutdown: close every session, oldest first, each server's close run. */
  async closeAll(): Promise<void> {
    for (const r of this.records()) await this.close(r, 'shutdown')
  }

  /** The escrows of every session not yet ended. */
  escrowTotal(): Quota {
    let bytes = 0
    let handles = 0
    for (const r of this.table.values()) {
      bytes += r.escrow.bytes
      handles += r.escrow.handles
    }
    return { bytes, handles }
  }

  info(r: SessionRecord): SessionInfo {
    return {
      id: r.id,
      service: r.service,
      label: r.label,
      state: r.state,
      client: r.client === null ? null : r.client.id,
      server: r.server.domainId === 0 ? null : r.server.domainId,
      quota: { ...r.escrow },
      channelBytes: r.channelBytes,
      bytesToServer: r.chan.tx.produced(),
      bytesToClient: r.chan.rx.produced(),
    }
  }
}
