/**
 * What a domain program sees: the `ctx` passed to its `main(ctx)`.
 *
 * Threat model: domains on one core share that worker's JavaScript realm, so this
 * object is a convenience, not a wall. Authority is enforced where requests enter
 * the process manager: every call below travels the core's reply ring as a CALL
 * frame stamped by the spawnd with this domain's id, and names other domains only
 * by handles, indices into this domain's own handle table kept by the process
 * manager. Nothing here hands a domain the rings or spawnd internals.
 */
import {
  PromiseReject,
  JSONParse,
  JSONStringify,
  NumberIsInteger,
  ObjectFreeze,
  SafeTypeError,
  StringCtor,
  StringSlice,
} from '../intrinsics.js'
import { deserialize } from 'node:v8'
import { Call, type CallCode } from '../protocol/opcodes.js'
import type {
  CallSpawnArgs,
  ChildExit,
  ChildInfo,
  DomainInfo,
  Handle,
  HandleInfo,
} from '../protocol/messages.js'

import type { Session } from '../session/session.js'
import type { ServeHandlers } from '../session/serve.js'
import type { Quota } from '../session/quota.js'

export type { ChildExit, ChildInfo, DomainInfo, Handle, HandleInfo }

/** ctx.session options. */
export interface SessionOptions {
  /** Appended to this domain's identity in the label the server sees. */
  label?: string
  /** Quota moved into the session (default: what its channel costs). */
  quota?: Partial<Quota>
  /** Open arguments for the server's open(req) (JSON data). */
  args?: unknown
  /** Bytes of each of the channel's two rings, a power of two (default 65536). */
  capacity?: number
}

/** A parent's answer to a child's resource request. */
export type ResourceRequestHandler = (req: {
  /** The child's handle in this domain's table (null if it has none). */
  child: Handle | null
  bytes: number
  handles: number
}) => boolean | Promise<boolean>

/**
 * A service's answer to "hand over your state" (a live update): any structured-clone
 * value, given to the new incarnation (ctx.inheritedState()). Called at a quiescent
 * point: every session call it took has been answered, and none is taken until the
 * update commits or rolls back.
 */
export type UpdateHandler = () => unknown

/** A child's answer to its parent's yield request: what it gives back. */
export type YieldRequestHandler = (
  req: Quota,
) => Partial<Quota> | void | Promise<Partial<Quota> | void>

/** Thrown by ctx.exit() to unwind main; the dispatcher wrapper catches it. */
export class DomainExit extends Error {
  readonly exitCode: number
  constructor(exitCode: number) {
    super(`domain exited with code ${exitCode}`)
    this.name = 'DomainExit'
    this.exitCode = exitCode
  }
}

export interface ChildSpawnOptions {
  /** Core to run on (default: the process manager picks). */
  core?: number
  argv?: string[]
  env?: Record<string, string>
  /** A detached child: never waited for, freed once it is cleaned up. */
  noreap?: boolean
  /** Handles copied into the child's table (Barrelfish's spawn_with_caps). */
  handles?: Handle[]
  /** Share this domain's handle table with the child (Camellia's FORK_SHAREHANDLE). */
  shareHandles?: boolean
  /** The child's label (its identity in session labels; default: its program's name). */
  label?: string
  /** Quota donated to the child (default: 1 MiB and 64 handles, or what is left). */
  quota?: Partial<Quota>
}

export interface DomainContext {
  /** Arguments given at spawn. */
  readonly argv: readonly string[]
  /** Environment given at spawn. */
  readonly env: Readonly<Record<string, string>>
  /** The core (spawnd) this dispatcher runs on. */
  readonly core: number
  /** The domain's id in the process manager's table. */
  readonly domainId: number
  /** Fires when the domain is killed (or another dispatcher of it ends it). */
  readonly signal: AbortSignal
  /**
   * Fires when the runtime asks the domain to stop gracefully (a service going
   * down, shutdown): return from main soon; a kill follows after a timeout.
   */
  readonly stopSignal: AbortSignal
  /** Tell the supervisor this service finished initialising (MINIX RS's init-ready). */
  ready(): Promise<void>
  /** Beat: a supervised domain that stops beating is judged hung and restarted. */
  heartbeat(): Promise<void>
  /**
   * End the whole domain now with `code` (every dispatcher on every core), as
   * Barrelfish's exit(): it does not return; it throws DomainExit to unwind main.
   */
  exit(code?: number): never
  /** Spawn a child domain; resolves with its handle in this domain's table. */
  spawn(program: string | URL, opts?: ChildSpawnOptions): Promise<Handle>
  /**
   * Wait for a child (by handle) or for any child (no handle) to end, and reap it.
   * With no child to wait for: KernelError ECHILD at once. With nohang and no child
   * ended yet: null.
   */
  wait(child?: Handle, opts?: { nohang?: boolean }): Promise<ChildExit | null>
  /** Kill the domain a handle names; with subtree, every descendant first (filicide). */
  kill(h: Handle, opts?: { subtree?: boolean }): Promise<void>
  /** Run the domain a handle names on another core too. */
  span(h: Handle, core: number): Promise<void>
  /** This domain's children, living and reapable. */
  children(): Promise<ChildInfo[]>
  /** The status of the domain a handle names. */
  status(h: Handle): Promise<DomainInfo>
  /** A second handle to the same domain. */
  dup(h: Handle): Promise<Handle>
  /** Drop a handle. */
  close(h: Handle): Promise<void>
  /** This domain's handle table. */
  handles(): Promise<HandleInfo[]>
  /** Serve sessions of `name` from this core (Genode's announce). */
  serve(name: string, handlers: ServeHandlers): Promise<void>
  /** Stop serving `name` (open sessions stay open). */
  unserve(name: string): Promise<void>
  /** Open a session of a service, routed by the process manager. */
  session(name: string, opts?: SessionOptions): Promise<Session>
  /** Take up a session passed to this domain at spawn (its handle). */
  attach(h: Handle): Promise<Session>
  /** This domain's quota account. */
  quota(): Promise<Quota>
  /** Ask the parent for more quota (Genode's resource_request); resolves with the new balance. */
  resourceRequest(q: Partial<Quota>): Promise<Quota>
  /** Answer children's resource requests (none: every request is declined). */
  onResourceRequest(handler: ResourceRequestHandler | null): void
  /** Ask a child to give quota back (Genode's yield); resolves with what it gave. */
  requestYield(child: Handle, q: Partial<Quota>): Promise<Quota>
  /** Answer the parent's yield requests (none: nothing is given back). */
  onYield(handler: YieldRequestHandler | null): void
  /** Hand over state when the service is updated live (rt.services.update). */
  onUpdate(handler: UpdateHandler | null): void
  /**
   * The state the previous incarnation handed over in a live update (its onUpdate's
   * value), or undefined when this incarnation was not started by an update.
   * Read it before serving: a throw here (a state it cannot take) rolls the update back.
   */
  inheritedState(): Promise<unknown>
}

/** The default export a domain program provides. */
export type DomainMain = (ctx: DomainContext) => number | void | Promise<number | void>

/**
 * What the spawnd provides for one dispatcher: its calls to the process manager,
 * its exit, and its signals (made on first use: most domains never read them).
 */
export interface DispatcherHost {
  call(op: CallCode, args: unknown): Promise<string>
  serve(name: string, handlers: unknown): Promise<void>
  unserve(name: string): Promise<void>
  session(op: CallCode, args: unknown): Promise<Session>
  detach(handles: readonly number[]): void
  onResourceRequest(h: ResourceRequestHandler | null): void
  onYield(h: YieldRequestHandler | null): void
  onUpdate(h: UpdateHandler | null): void
  exit(code: number): void
  signal(): AbortSignal
  stopSignal(): AbortSignal
}

export interface ContextInit {
  /** Fresh arrays/objects from the spawn request: frozen in place, not copied. */
  argv: string[]
  env: Record<string, string>
  core: number
  domainId: number
  /** The program's own URL: relative programs given to ctx.spawn resolve against it. */
  program: string
  host: DispatcherHost
}

function handleArg(h: unknown): Handle {
  if (typeof h !== 'number' || !NumberIsInteger(h) || h < 0) {
    throw new TypeError(
      `a handle is a non-negative integer from this domain's table, got ${String(h)}`,
    )
  }
  return h
}

/**
 * The ctx object. A class, so a short-lived domain costs one object and no
 * closures; the methods live on the prototype. Frozen: a domain cannot repoint
 * its own calls.
 */
/** The exit-code rule: an integer in the int32 range (README, "Domain programs"). */
export function isExitCode(v: unknown): v is number {
  return typeof v === 'number' && (v | 0) === v
}

/** Why `v` is no exit code, naming it safely (no user code runs: no toString, no getters). */
export function badExitCode(v: unknown): string {
  const got =
    typeof v === 'number'
      ? StringCtor(v)
      : typeof v === 'string'
        ? JSONStringify(StringSlice(v, 0, 40))
        : v === null
          ? 'null'
          : `a ${typeof v}`
  return `${got}: an exit code is an integer from -2147483648 to 2147483647, or nothing (0)`
}

class Context implements DomainContext {
  readonly argv: readonly string[]
  readonly env: Readonly<Record<string, string>>
  readonly core: number
  readonly domainId: number
  readonly #program: string
  readonly #host: DispatcherHost

  constructor(init: ContextInit) {
    this.argv = ObjectFreeze(init.argv)
    this.env = ObjectFreeze(init.env)
    this.core = init.core
    this.domainId = init.domainId
    this.#program = init.program
    this.#host = init.host
    ObjectFreeze(this)
  }

  get signal(): AbortSignal {
    return this.#host.signal()
  }

  get stopSignal(): AbortSignal {
    return this.#host.stopSignal()
  }

  async #json<T>(op: CallCode, args: unknown): Promise<T> {
    return JSONParse(await this.#host.call(op, args)) as T
  }

  async ready(): Promise<void> {
    await this.#host.call(Call.READY, {})
  }

  async heartbeat(): Promise<void> {
    await this.#host.call(Call.HEARTBEAT, {})
  }

  exit(code = 0): never {
    // The exit-code rule (README): an int32 integer, else a TypeError, as a return of main.
    if (!isExitCode(code)) throw new SafeTypeError(`ctx.exit(${badExitCode(code)})`)
    this.#host.exit(code)
    throw new DomainExit(code)
  }

  async spawn(program: string | URL, opts: ChildSpawnOptions = {}): Promise<Handle> {
    const url = program instanceof URL ? program.href : new URL(String(program), this.#program).href
    const args: CallSpawnArgs = {
      url,
      // Given as they are (null included): the process manager checks them.
      argv: opts.argv === undefined ? [] : opts.argv,
      env: opts.env === undefined ? {} : opts.env,
      core: opts.core ?? null,
      noreap: opts.noreap ?? false,
      handles: (opts.handles ?? []).map(handleArg),
      shareHandles: opts.shareHandles ?? false,
      label: opts.label,
      quota: opts.quota ?? null,
    }
    // A session passed to a child moves to it: this core's end stops reading first.
    if (args.handles.length > 0 && !args.shareHandles) this.#host.detach(args.handles)
    return this.#json<Handle>(Call.SPAWN, args)
  }

  async wait(child?: Handle, opts: { nohang?: boolean } = {}): Promise<ChildExit | null> {
    const handle = child === undefined ? null : handleArg(child)
    return this.#json<ChildExit | null>(Call.WAIT, { handle, nohang: opts.nohang ?? false })
  }

  async kill(h: Handle, opts: { subtree?: boolean } = {}): Promise<void> {
    await this.#host.call(Call.KILL, { handle: handleArg(h), subtree: opts.subtree ?? false })
  }

  async span(h: Handle, core: number): Promise<void> {
    await this.#host.call(Call.SPAN, { handle: handleArg(h), core })
  }

  children(): Promise<ChildInfo[]> {
    return this.#json<ChildInfo[]>(Call.CHILDREN, {})
  }

  async status(h: Handle): Promise<DomainInfo> {
    return this.#json<DomainInfo>(Call.STATUS, { handle: handleArg(h) })
  }

  async dup(h: Handle): Promise<Handle> {
    return this.#json<Handle>(Call.DUP, { handle: handleArg(h) })
  }

  async close(h: Handle): Promise<void> {
    await this.#host.call(Call.CLOSE, { handle: handleArg(h) })
  }

  handles(): Promise<HandleInfo[]> {
    return this.#json<HandleInfo[]>(Call.HANDLES, {})
  }

  serve(name: string, handlers: ServeHandlers): Promise<void> {
    if (typeof name !== 'string' || name === '') {
      return PromiseReject(new SafeTypeError('a service name is a non-empty string'))
    }
    return this.#host.serve(name, handlers)
  }

  unserve(name: string): Promise<void> {
    return this.#host.unserve(name)
  }

  session(name: string, opts: SessionOptions = {}): Promise<Session> {
    return this.#host.session(Call.SESSION, {
      service: name,
      label: opts.label,
      quota: opts.quota,
      args: opts.args,
      capacity: opts.capacity,
    })
  }

  attach(h: Handle): Promise<Session> {
    return this.#host.session(Call.SESSION_ATTACH, { handle: handleArg(h) })
  }

  quota(): Promise<Quota> {
    return this.#json<Quota>(Call.QUOTA, {})
  }

  resourceRequest(q: Partial<Quota>): Promise<Quota> {
    return this.#json<Quota>(Call.RESOURCE_REQUEST, q)
  }

  onResourceRequest(handler: ResourceRequestHandler | null): void {
    if (handler !== null && typeof handler !== 'function') {
      throw new SafeTypeError('onResourceRequest takes a function or null')
    }
    this.#host.onResourceRequest(handler)
  }

  requestYield(child: Handle, q: Partial<Quota>): Promise<Quota> {
    return this.#json<Quota>(Call.YIELD, { handle: handleArg(child), quota: q })
  }

  onYield(handler: YieldRequestHandler | null): void {
    if (handler !== null && typeof handler !== 'function') {
      throw new SafeTypeError('onYield takes a function or null')
    }
    this.#host.onYield(handler)
  }

  onUpdate(handler: UpdateHandler | null): void {
    if (handler !== null && typeof handler !== 'function') {
      throw new SafeTypeError('onUpdate takes a function or null')
    }
    this.#host.onUpdate(handler)
  }

  async inheritedState(): Promise<unknown> {
    const b64 = await this.#json<string | null>(Call.UPDATE_STATE, {})
    return b64 === null ? undefined : deserialize(Buffer.from(b64, 'base64'))
  }
}

export function makeContext(init: ContextInit): DomainContext {
  return new Context(init)
}
