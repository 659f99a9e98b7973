/**
 * A spawnd's half of a live update (MINIX 3's RS_UPDATE): what the old and the new
 * incarnation of a service do on their cores while the process manager moves the
 * service's sessions from one to the other.
 *
 *   old core:  PREPARE  pause every session it serves (frames stay in the rings),
 *                       wait until every call it took is answered (the quiescent
 *                       point), then its onUpdate handler gives the state to hand over
 *              RESUME   take frames again (a rollback: it goes on where it was)
 *              COMMIT   let the ends go without closing them (the new one reads on)
 *   new core:  ADOPT    open(req) again for one session (req.updated), its methods
 *                       bound by the names the client holds; not reading yet
 *              START    read the adopted sessions: calls waiting in the rings are its
 *              ABORT    drop the adopted ends without closing them (a rollback)
 *
 * A session is read by exactly one incarnation at any time (the old one is paused
 * before the new one starts, and the new one never starts if the old one resumes),
 * so no call is lost, answered twice, or answered by both.
 */
import { serialize } from 'node:v8'
import { KernelError } from '../src/errors.js'
import type { SessionAdoptText } from '../src/protocol/messages.js'
import { Op } from '../src/protocol/opcodes.js'
import {
  JSONParse,
  SafeClearTimeout,
  SafeMap,
  SafePromise,
  SafeSetTimeout,
} from '../src/intrinsics.js'
import type { UpdateHandler } from '../src/domain/context.js'
import type { Dispatcher } from './dispatcher.js'
import type { SessionOpenText } from '../src/protocol/messages.js'
import type { ServeHandlers, ServerEnd } from '../src/session/serve.js'
import type { Served } from './served.js'

/** What an update needs of its spawnd's sessions (sessions.ts). */
export interface UpdateHost {
  readonly served: Map<number, Served>
  readonly serving: Map<number, Map<string, Readonly<ServeHandlers>>>
  serverEnd(d: Dispatcher, o: SessionOpenText, buf: SharedArrayBuffer, updated?: boolean): ServerEnd
  buffer(id: number): Promise<SharedArrayBuffer>
}

const NONE: readonly number[] = []

function resumeAll(ends: readonly { s: Served }[]): void {
  for (let i = 0; i < ends.length; i++) ends[i].s.end.port.resume()
}

/** Pause every end; true once each has answered the calls it took. */
function pauseAll(ends: readonly { s: Served }[]): Promise<true> {
  const quiet: Promise<void>[] = []
  for (let i = 0; i < ends.length; i++) quiet[i] = ends[i].s.end.port.pause()
  return SafePromise.all(quiet).then(() => true as const)
}

export class SpawndUpdates {
  private readonly handlers = new SafeMap<number, UpdateHandler>()
  /** Sessions a new incarnation adopted and does not read yet, by its domain id. */
  private readonly adopted = new SafeMap<number, number[]>()

  constructor(private readonly s: UpdateHost) {}

  onUpdate(d: Dispatcher, h: UpdateHandler | null): void {
    if (h === null) this.handlers.delete(d.domainId)
    else this.handlers.set(d.domainId, h)
  }

  /**
   * `d` stopped: what it adopted and never read goes back untouched (detached, not
   * closed), as in a rollback, so that the incarnation still serving keeps it.
   */
  forget(d: Dispatcher): void {
    this.handlers.delete(d.domainId)
    this.dropAdopted(d)
  }

  /** Let go of what `d` adopted, untouched (detached, not closed). */
  private dropAdopted(d: Dispatcher): void {
    const ids = this.adoptedBy(d)
    for (let i = 0; i < ids.length; i++) {
      const s = this.s.served.get(ids[i])
      this.s.served.delete(ids[i])
      s?.end.port.detach()
    }
    this.adopted.delete(d.domainId)
  }

  /**
   * The server ends of `d` on this core. (Index loops and plain objects throughout this
   * file: array iterators and destructuring go through builtins a domain may replace.)
   */
  private ends(d: Dispatcher): { id: number; s: Served }[] {
    const out: { id: number; s: Served }[] = []
    this.s.served.forEach((s, id) => {
      if (s.d === d) out[out.length] = { id, s }
    })
    return out
  }

  /** The sessions `d` adopted and does not read yet (none: an empty list). */
  private adoptedBy(d: Dispatcher): readonly number[] {
    return this.adopted.get(d.domainId) ?? NONE
  }

  async handle(
    d: Dispatcher,
    op: number,
    value: number,
    text: string | null,
  ): Promise<[number, string | null]> {
    switch (op) {
      case Op.UPDATE_PREPARE:
        return [0, await this.prepare(d, value)]
      case Op.UPDATE_RESUME:
        resumeAll(this.ends(d))
        return [0, null]
      case Op.UPDATE_COMMIT: {
        const ends = this.ends(d)
        for (let i = 0; i < ends.length; i++) {
          this.s.served.delete(ends[i].id)
          ends[i].s.end.port.detach()
        }
        this.s.serving.delete(d.domainId)
        return [0, null]
      }
      case Op.SESSION_ADOPT: {
        const o = JSONParse(text ?? 'null') as SessionAdoptText
        const h = this.s.serving.get(d.domainId)?.get(o.service)
        if (h === undefined) {
          throw new KernelError(
            'SERVICE_DENIED',
            `the new incarnation does not serve '${o.service}'`,
          )
        }
        const end = this.s.serverEnd(d, o, await this.s.buffer(o.session), true)
        await end.adopt(h, o.methods)
        this.s.served.set(o.session, { end, d, handlers: h })
        let mine = this.adopted.get(d.domainId)
        if (mine === undefined) this.adopted.set(d.domainId, (mine = []))
        mine[mine.length] = o.session
        return [0, null]
      }
      case Op.UPDATE_START: {
        const ids = this.adoptedBy(d)
        for (let i = 0; i < ids.length; i++) this.s.served.get(ids[i])?.end.port.start()
        this.adopted.delete(d.domainId)
        return [0, null]
      }
      case Op.UPDATE_ABORT:
        this.dropAdopted(d)
        return [0, null]
      default:
        throw new KernelError('PROTOCOL', `unknown session request ${op}`)
    }
  }

  /**
   * Pause every session `d` serves here and wait (at most `timeoutMs`) for the calls
   * it took to be answered; then its state, v8-serialized as base64 (null: it has no
   * onUpdate handler). Not quiescent in time, or a handler that throws: it resumes
   * untouched, and the update fails.
   */
  private async prepare(d: Dispatcher, timeoutMs: number): Promise<string | null> {
    const ends = this.ends(d)
    const resume = (): void => resumeAll(ends)
    let timer: ReturnType<typeof setTimeout> | undefined
    const quiet = await SafePromise.race([
      pauseAll(ends),
      new SafePromise<false>((r) => (timer = SafeSetTimeout(() => r(false), timeoutMs))),
    ])
    SafeClearTimeout(timer)
    if (!quiet) {
      resume()
      throw new KernelError('TIMEOUT', `no quiescent point within ${timeoutMs} ms: calls still run`)
    }
    const h = this.handlers.get(d.domainId)
    if (h === undefined) return null
    try {
      const state = await h()
      return serialize(state).toString('base64')
    } catch (err) {
      resume()
      throw KernelError.push(err, 'UPDATE_FAILED', 'onUpdate did not hand over a state')
    }
  }
}
