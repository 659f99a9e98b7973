/**
 * Dispatcher: one domain's presence on this core, an entry of the spawnd's ps
 * table, and the host of that domain's ctx (its calls, its exit, its signals).
 */
import { DomainExit, type DispatcherHost } from '../src/domain/context.js'
import type { ResourceRequestHandler, YieldRequestHandler } from '../src/domain/context.js'
import type { Session } from '../src/session/session.js'
import type { UpdateHandler } from '../src/domain/context.js'
import { ExitHow, KILLED_EXIT_CODE, type CallCode } from '../src/protocol/opcodes.js'
import type { PsEntry } from '../src/protocol/messages.js'
import { AbortControllerAbort, ObjectCreate, SafeAbortController } from '../src/intrinsics.js'

/** One shared abort reason: an Error per stop would capture a stack trace each time. */
export const KILLED = new DomainExit(KILLED_EXIT_CODE)

/** What a dispatcher asks of its spawnd. */
export interface DispatcherOwner {
  callFor(d: Dispatcher, op: CallCode, args: unknown): Promise<string>
  finish(d: Dispatcher, how: number, code: number, err: unknown): void
  readonly sessions: DispatcherSessions
}

/** What a dispatcher asks of its spawnd's sessions (workers/sessions.ts). */
export interface DispatcherSessions {
  serve(d: Dispatcher, name: string, handlers: unknown): Promise<void>
  unserve(d: Dispatcher, name: string): Promise<void>
  session(d: Dispatcher, op: number, args: unknown): Promise<Session>
  detach(d: Dispatcher, handles: readonly number[]): void
  onResourceRequest(d: Dispatcher, h: ResourceRequestHandler | null): void
  onYield(d: Dispatcher, h: YieldRequestHandler | null): void
  onUpdate(d: Dispatcher, h: UpdateHandler | null): void
}

/** One domain's presence on this core: an entry of the ps table, and its ctx's host. */
export class Dispatcher implements DispatcherHost {
  state: 'running' | 'stopped' = 'running'
  /** Fired on kill; made only when the domain reads ctx.signal (most never do). */
  ac: AbortController | null = null
  /** Graceful stop request (TERM). */
  term: AbortController | null = null

  constructor(
    readonly spawnd: DispatcherOwner,
    readonly id: number,
    readonly domainId: number,
    readonly program: string,
  ) {}

  call(op: CallCode, args: unknown): Promise<string> {
    return this.spawnd.callFor(this, op, args)
  }

  exit(code: number): void {
    this.spawnd.finish(this, ExitHow.EXIT_CALLED, code, null)
  }

  signal(): AbortSignal {
    // Asked for after the dispatcher stopped: it comes pre-aborted.
    if (this.ac === null) {
      this.ac = new SafeAbortController()
      if (this.state !== 'running') AbortControllerAbort(this.ac, KILLED)
    }
    return this.ac.signal
  }

  /** Its ps row; null-prototype, so stringify meets no toJSON a domain put on Object.prototype. */
  row(): PsEntry {
    const row = ObjectCreate(null) as PsEntry
    row.dispatcher = this.id
    row.domainId = this.domainId
    row.state = this.state
    row.program = this.program
    return row
  }

  serve(name: string, handlers: unknown): Promise<void> {
    return this.spawnd.sessions.serve(this, name, handlers)
  }

  unserve(name: string): Promise<void> {
    return this.spawnd.sessions.unserve(this, name)
  }

  session(op: CallCode, args: unknown): Promise<Session> {
    return this.spawnd.sessions.session(this, op, args)
  }

  detach(handles: readonly number[]): void {
    this.spawnd.sessions.detach(this, handles)
  }

  onResourceRequest(h: ResourceRequestHandler | null): void {
    this.spawnd.sessions.onResourceRequest(this, h)
  }

  onYield(h: YieldRequestHandler | null): void {
    this.spawnd.sessions.onYield(this, h)
  }

  onUpdate(h: UpdateHandler | null): void {
    this.spawnd.sessions.onUpdate(this, h)
  }

  stopSignal(): AbortSignal {
    return (this.term ??= new SafeAbortController()).signal
  }
}
