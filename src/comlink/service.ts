/**
 * The short ways in: an endpoint for a session, `wrapSession` on the calling side,
 * and `exposeService` on the serving side (a service whose every session exposes
 * an object through comlink, Genode's Root handing out one session object per
 * client).
 */
import * as Comlink from 'comlink'
import type { SessionEndReason } from '../session/end_reason.js'
import type { ServeHandlers, SessionRequest } from '../session/serve.js'
import type { Session } from '../session/session.js'
import type { RingEndpoint, RingEndpointStats } from './endpoint.js'
import { muxOf } from './mux.js'
import { installProxyHandler } from './proxy_handler.js'
import { comlinkQuiet } from './quiet.js'
import { KernelError } from '../errors.js'

/**
 * comlink's Endpoint over a session (channel 0 of its multiplexer; the same object
 * for every call on one session). The session is given over to comlink: do not
 * also read it with `for await`.
 */
export function endpoint(session: Session): RingEndpoint {
  if (session === null || typeof session !== 'object' || typeof session.send !== 'function')
    throw new TypeError('endpoint(session): a Session (ctx.session, rt.session or req.session)')
  installProxyHandler()
  return muxOf(session).main
}

/** `Comlink.wrap` of the session's endpoint: the remote object the other end exposes. */
export function wrapSession<T>(session: Session): Comlink.Remote<T> {
  return Comlink.wrap<T>(endpoint(session))
}

/** `Comlink.expose` of `obj` on the session's endpoint. */
export function exposeSession(obj: object, session: Session): void {
  Comlink.expose(obj, endpoint(session))
}

/** What the session's comlink channels hold now: sub-channels alive and calls pending. */
export function comlinkStats(session: Session): RingEndpointStats {
  const m = muxOf(session)
  return { channels: m.channels, pending: m.pending }
}

/** A server: a domain's ctx or the runtime (rt.serve). */
export interface ServeHost {
  serve(name: string, handlers: ServeHandlers): void | Promise<void>
  /** A domain's live-update handler (ctx.onUpdate); the main thread has none. */
  onUpdate?(handler: (() => unknown) | null): void
}

/** Makes the object a session exposes, from what its client asked (label, args, quota). */
export type ServiceFactory<T extends object> = (req: SessionRequest) => T | Promise<T>

export interface ExposeServiceOptions {
  /** The session ended (after its pending calls were rejected). */
  close?(req: SessionRequest, why: SessionEndReason): void | Promise<void>
  /**
   * In a domain, exposeService sets ctx.onUpdate: at a live update's quiescent point
   * it waits for the comlink calls this domain is running, then hands over what this
   * returns (ctx.inheritedState() in the new incarnation). Use it instead of
   * ctx.onUpdate, which would replace the wait.
   */
  onUpdate?(): unknown
  /** How long that wait may take before the update fails (ms, default 10000). */
  quietTimeoutMs?: number
}

/**
 * Serve `name`: each session exposes `target` through comlink (the client does
 * `wrapSession(await rt.session(name))`). A function is a factory called per
 * session; to expose a function or a class itself, return it from a factory.
 * A factory's throw denies the session (SERVICE_DENIED, the throw as its cause).
 */
export function exposeService<T extends object>(
  host: ServeHost,
  name: string,
  target: T | ServiceFactory<T>,
  opts: ExposeServiceOptions = {},
): Promise<void> {
  if (typeof target !== 'object' && typeof target !== 'function')
    throw new TypeError('exposeService: an object to expose, or a factory (req) => object')
  if (target === null) throw new TypeError('exposeService: an object to expose, not null')
  const factory =
    typeof target === 'function' ? (target as ServiceFactory<T>) : (): T => target as T
  const close = opts.close
  if (typeof host.onUpdate === 'function') {
    const state = opts.onUpdate
    const ms = opts.quietTimeoutMs ?? 10_000
    host.onUpdate(async () => {
      await quietWithin(ms)
      return state === undefined ? undefined : await state()
    })
  }
  return Promise.resolve(
    host.serve(name, {
      async open(req: SessionRequest): Promise<object> {
        const obj = await factory(req)
        exposeSession(obj, req.session)
        // No session methods of its own: comlink's messages are the traffic.
        return {}
      },
      close: close === undefined ? undefined : (req, why) => close(req, why),
    }),
  )
}

/** comlinkQuiet(), or TIMEOUT (the update fails and the old incarnation resumes). */
async function quietWithin(ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([
      comlinkQuiet(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new KernelError('TIMEOUT', `comlink calls still run after ${ms} ms`)),
          ms,
        )
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
