/**
 * SessionMux: many comlink channels on one session. Channel 0 is the session's own
 * endpoint; each value passed with `Comlink.proxy` gets a sub-channel, numbered by
 * the side that exposes it (the client end odd numbers, the server end even ones,
 * so the two sides never pick the same number without talking). The wire format is
 * drawn in wire.ts. One reader (`for await` over the session) hands each message to
 * its channel's endpoint; when the session ends, every channel ends and its pending
 * calls reject (endpoint.ts).
 *
 * comlink's own proxy handler makes a MessageChannel per proxied value; here the
 * value's channel is a number on the session that already links the two threads,
 * so a callback costs no port, no handle and no extra event-loop source.
 */
import * as Comlink from 'comlink'
import type { Session } from '../session/session.js'
import { RingEndpoint, type ChannelHost } from './endpoint.js'
import { isRequest, mapProxies, unexposedAnswer, type WireMessage } from './wire.js'

/** A proxied value on its way out: the handler's placeholder, bound to a channel at send. */
export class ProxyOut {
  constructor(readonly obj: object) {
    unbound++
  }
}

/** ProxyOut placeholders made and not yet bound: 0 lets post() skip the walk. */
let unbound = 0

/** A proxied value that arrived: this end's sub-channel for it. */
export class ProxyIn {
  constructor(
    readonly mux: SessionMux,
    readonly channel: number,
  ) {}
}

const muxes = new WeakMap<Session, SessionMux>()
let live = 0

/** How many sessions carry comlink in this thread (the proxy handler asks). */
export function liveMuxes(): number {
  return live
}

/** The session's multiplexer, made (and its reader started) on first use. */
export function muxOf(session: Session): SessionMux {
  let m = muxes.get(session)
  if (m === undefined) {
    m = new SessionMux(session)
    muxes.set(session, m)
  }
  return m
}

export class SessionMux implements ChannelHost {
  readonly session: Session
  readonly main: RingEndpoint
  readonly #channels = new Map<number, RingEndpoint>()
  #next: number
  #ended: string | null = null
  /** Binds a ProxyOut to a fresh sub-channel (sending). */
  readonly #bindOut = (v: unknown): unknown => (v instanceof ProxyOut ? this.#export(v.obj) : v)
  /** Turns a sub-channel number into a ProxyIn (receiving). */
  readonly #bindIn = (v: unknown): unknown =>
    typeof v === 'number' && v > 0 ? new ProxyIn(this, v) : v

  constructor(session: Session) {
    this.session = session
    this.#next = session.role === 'client' ? 1 : 2
    this.main = new RingEndpoint(this, 0)
    this.#channels.set(0, this.main)
    live++
    session.closed.then(
      (why) => this.#end(`the session ended (${why})`),
      () => this.#end('the session ended'),
    )
    void this.#read()
  }

  /** Sub-channels alive (proxied values not yet released, either way). */
  get channels(): number {
    return this.#ended === null ? this.#channels.size - 1 : 0
  }

  /** Requests not yet answered, over every channel. */
  get pending(): number {
    let n = 0
    for (const ep of this.#channels.values()) n += ep.pending
    return n
  }

  post(ch: number, msg: WireMessage): void {
    if (unbound > 0) mapProxies(msg, this.#bindOut)
    this.session.send(ch === 0 ? msg : [ch, msg])
  }

  free(ch: number): void {
    const ep = this.#channels.get(ch)
    if (ep === undefined || ch === 0) return
    this.#channels.delete(ch)
    ep.end('the proxy was released')
  }

  /** The endpoint of a sub-channel the other side exposed a value on (the handler wraps it). */
  importChannel(ch: number): RingEndpoint {
    let ep = this.#channels.get(ch)
    if (ep === undefined) {
      ep = new RingEndpoint(this, ch)
      if (this.#ended !== null) ep.end(this.#ended)
      else this.#channels.set(ch, ep)
    }
    return ep
  }

  /** Expose a proxied value on a fresh sub-channel; its number goes in the message. */
  #export(obj: object): number {
    unbound--
    const ch = this.#next
    this.#next = ch + 2
    const ep = new RingEndpoint(this, ch)
    this.#channels.set(ch, ep)
    Comlink.expose(obj, ep)
    return ch
  }

  async #read(): Promise<void> {
    for await (const v of this.session) {
      let ch = 0
      let msg: unknown = v
      if (Array.isArray(v)) {
        ch = v[0] as number
        msg = v[1]
      }
      if (typeof msg !== 'object' || msg === null) continue
      const ep = this.#channels.get(ch)
      if (ep === undefined) {
        // A channel released meanwhile: an answer has nobody to go to; a request gets
        // an error answer rather than no answer at all.
        const m = msg as WireMessage
        if (isRequest(m) && typeof m.id === 'string') {
          try {
            this.session.send([ch, unexposedAnswer(m.id)])
          } catch {
            /* the session ended meanwhile */
          }
        }
        continue
      }
      mapProxies(msg, this.#bindIn)
      ep.receive(msg)
    }
  }

  #end(why: string): void {
    if (this.#ended !== null) return
    this.#ended = why
    live--
    for (const ep of this.#channels.values()) ep.end(why)
    this.#channels.clear()
  }
}
