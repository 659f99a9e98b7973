/**
 * The process manager's half of a live update (MINIX 3's RS_UPDATE, on sessions):
 * a service's sessions move from its old incarnation to a new one without closing.
 *
 *   prepare(old)      the old one pauses its sessions at a quiescent point and hands
 *                     over its state (kept here for the new one's ctx.inheritedState())
 *   adopt(old, new)   the new one opens each session again (req.updated), bound to the
 *                     channel its client already uses, and does not read it yet
 *   commit(old, new)  the old one lets its ends go, the records point at the new one,
 *                     which starts reading; the old one's own quota moves to it
 *   rollback          the new one drops what it adopted; the old one resumes
 *
 * Meanwhile the new one's ctx.serve() is on standby (routing skips it) and new
 * sessions of the service wait for the update to end, then route as usual. Calls
 * made during the update wait in the rings and are read by whichever incarnation
 * serves once it ends: never both (workers/session_update.ts).
 */
import { KernelError } from '../errors.js'
import type { CoreLinks } from '../link/link.js'
import { ERR_OK } from '../protocol/errcodes.js'
import type { SessionAdoptText } from '../protocol/messages.js'
import { Op } from '../protocol/opcodes.js'
import { RUNNING } from './core_set.js'
import type { DomainEntry } from './domain_entry.js'
import type { ProcessManager } from './process_manager.js'
import type { SessionTable } from './sessions.js'

interface Update {
  old: DomainEntry
  /** The old one's state, v8-serialized as base64; null when it has no onUpdate. */
  state: string | null
  done: Promise<void>
  settle: () => void
}

export class SessionUpdates {
  private readonly byLabel = new Map<string, Update>()

  constructor(
    private readonly pm: ProcessManager,
    private readonly links: CoreLinks,
    private readonly sessions: SessionTable,
  ) {}

  /** Resolves when the update of the service labelled `label` ends; null when none runs. */
  active(label: string): Promise<void> | null {
    return this.byLabel.get(label)?.done ?? null
  }

  /** True for the new incarnation of a service under update (same label, not the old one). */
  isSuccessor(e: DomainEntry): boolean {
    const u = this.byLabel.get(e.label)
    return u !== undefined && u.old !== e
  }

  /** What ctx.inheritedState() answers: the handed-over state, for a new incarnation only. */
  stateFor(e: DomainEntry): string | null {
    const u = this.byLabel.get(e.label)
    return u !== undefined && u.old !== e ? u.state : null
  }

  private ask(
    e: DomainEntry,
    op: number,
    arg: number,
    text: string | null,
  ): Promise<string | null> {
    const core = e.firstCore(RUNNING)
    if (core < 0 || e.state !== 'RUNNING') {
      return Promise.reject(new KernelError('DOMAIN_NOT_RUNNING', `domain ${e.id} does not run`))
    }
    return new Promise((resolve, reject) => {
      this.links.request(core, op, e.id, arg, text, (err, _v, t) => {
        if (err !== ERR_OK) reject(this.links.replyError(err, t, `update of domain ${e.id}`, core))
        else resolve(t)
      })
    })
  }

  async prepare(old: DomainEntry, timeoutMs: number): Promise<void> {
    const label = old.label
    if (this.byLabel.has(label)) {
      throw new KernelError('UPDATE_FAILED', `'${label}' is being updated already`)
    }
    let settle!: () => void
    const done = new Promise<void>((r) => (settle = r))
    const u: Update = { old, state: null, done, settle }
    // From here new sessions of the service wait for the update to end. One routed to
    // the old incarnation just before may still be opening there: its port would not
    // be paused with the others, so wait until every such open has settled.
    this.byLabel.set(label, u)
    const opening = (): boolean =>
      this.sessions
        .records()
        .some(
          (r) =>
            r.server.domainId === old.id &&
            (r.state === 'CREATE_REQUESTED' || r.state === 'AVAILABLE'),
        )
    const until = Date.now() + timeoutMs
    while (opening() && Date.now() < until) await new Promise((r) => setTimeout(r, 1))
    try {
      if (opening())
        throw new KernelError('TIMEOUT', `sessions still opening after ${timeoutMs} ms`)
      u.state = await this.ask(old, Op.UPDATE_PREPARE, Math.max(1, until - Date.now()), null)
    } catch (err) {
      this.end(label)
      throw err
    }
  }

  /** The new incarnation opens every session the old one serves (not reading yet). */
  async adopt(old: DomainEntry, neu: DomainEntry): Promise<void> {
    const core = neu.firstCore(RUNNING)
    const mine = this.sessions.records().filter((r) => r.server.domainId === old.id)
    await Promise.all(
      mine.map((r) => {
        const peerCore = r.client === null ? -1 : r.clientCore
        const end = { role: 'server', peerCore, rebind: true } as const
        if (!this.links.bind(core, r.id, r.chan.buffer, end)) {
          return Promise.reject(new KernelError('CORE_FAILED', `core ${core} is down`))
        }
        const text: SessionAdoptText = {
          session: r.id,
          service: r.service,
          label: r.label,
          args: r.args,
          quota: r.escrow,
          methods: r.methods,
        }
        return this.ask(neu, Op.SESSION_ADOPT, r.id, JSON.stringify(text))
      }),
    )
  }

  /** The new incarnation serves from now on: records, routes and quota move to it. */
  async commit(old: DomainEntry, neu: DomainEntry): Promise<void> {
    await this.ask(old, Op.UPDATE_COMMIT, 0, null)
    const core = neu.firstCore(RUNNING)
    for (const r of this.sessions.records()) {
      if (r.server.domainId !== old.id) continue
      r.server = { ...r.server, domainId: neu.id, core }
    }
    this.sessions.services.remove(old.id)
    this.sessions.services.activate(neu.id)
    await this.ask(neu, Op.UPDATE_START, 0, null)
    // The old incarnation's own quota goes with its sessions to the new one.
    const q = this.pm.accounts.balance(old)
    this.pm.accounts.take(old, q, 'update')
    this.pm.accounts.give(neu, q)
  }

  /** Undo: the new one (if any) drops what it adopted, the old one resumes where it was. */
  async rollback(old: DomainEntry, neu: DomainEntry | null): Promise<void> {
    if (neu !== null) await this.ask(neu, Op.UPDATE_ABORT, 0, null).catch(() => undefined)
    await this.ask(old, Op.UPDATE_RESUME, 0, null).catch(() => undefined)
  }

  /** The update of `label` is over (either way): sessions waiting to open go on. */
  end(label: string): void {
    const u = this.byLabel.get(label)
    if (u === undefined) return
    this.byLabel.delete(label)
    // A domain of this label that served meanwhile and is not a failed successor (that
    // one was ended already: its services went with it), e.g. the old incarnation
    // restarted after a kill during the update, serves from now on.
    this.sessions.services.activateLabel(label)
    u.settle()
  }
}
