/**
 * RingEndpoint: comlink's `Endpoint` (postMessage, addEventListener,
 * removeEventListener, start) for one channel of a session: channel 0 is the
 * session's own, a sub-channel carries one proxied value (a callback passed with
 * `Comlink.proxy`). What goes out is `send` on the session; what comes in is handed
 * to the listeners by the session's multiplexer (mux.ts).
 *
 * comlink never learns that a channel died: its calls wait forever. So each
 * endpoint remembers the ids of the requests it sent that are not answered yet, and
 * when its channel ends answers each of them itself with comlink's thrown-error
 * wire value (wire.ts closedAnswer): every pending call rejects SESSION_CLOSED.
 */
import type { Endpoint } from 'comlink'
import { closedAnswer, isRequest, isResponse, unexposedAnswer, type WireMessage } from './wire.js'
import { answered, took } from './quiet.js'

/** What an endpoint needs from the multiplexer that owns its session. */
export interface ChannelHost {
  /** Send one message on channel `ch` (throws when the session is closed or the value refused). */
  post(ch: number, msg: WireMessage): void
  /** The channel is done with (released by either side): forget it. */
  free(ch: number): void
}

/** A 'message' listener, as the DOM's EventTarget takes it. */
export type MessageListener =
  ((ev: { data: unknown }) => void) | { handleEvent(ev: { data: unknown }): void }

/** What `stats()` tells of an endpoint's session. */
export interface RingEndpointStats {
  /** Sub-channels alive on the session (one per proxied value not yet released). */
  channels: number
  /** Requests sent on any of its channels and not answered yet. */
  pending: number
}

export class RingEndpoint implements Endpoint {
  /** The channel number on the session: 0 for the session's own endpoint. */
  readonly channel: number
  readonly #host: ChannelHost
  readonly #listeners: MessageListener[] = []
  /** Requests sent and not answered: their ids. */
  readonly #pending = new Set<string>()
  /** Requests handed to the listeners (an exposed object) and not answered yet: their ids. */
  readonly #taken = new Set<string>()
  /** Messages that arrived before start() (a MessagePort queues them the same way). */
  #queue: WireMessage[] | null = []
  /** The id of the RELEASE this end sent (a wrapped sub-channel frees at its answer). */
  #releaseId: string | null = null
  #hadListener = false
  #ended: string | null = null

  constructor(host: ChannelHost, channel: number) {
    this.#host = host
    this.channel = channel
  }

  /** Requests sent on this channel and not answered yet. */
  get pending(): number {
    return this.#pending.size
  }

  /** True once the channel ended (the session closed, or the proxy was released). */
  get ended(): boolean {
    return this.#ended !== null
  }

  /**
   * Send a comlink message. The transfer list is not needed: values are copied once,
   * into the ring, and a MessagePort cannot cross (Comlink.createEndpoint is not
   * supported over a session).
   */
  postMessage(message: WireMessage, _transfer?: unknown[]): void {
    const request = isRequest(message)
    if (!request && typeof message.id === 'string' && this.#taken.delete(message.id)) answered()
    if (this.#ended !== null) {
      // A call on a dead channel rejects like a pending one; an answer has nobody to go to.
      if (request && typeof message.id === 'string') this.#answerLater(message.id, this.#ended)
      return
    }
    if (request && typeof message.id === 'string') {
      if (message.type === 'RELEASE') this.#releaseId = message.id
      this.#host.post(this.channel, message)
      this.#pending.add(message.id)
      return
    }
    this.#host.post(this.channel, message)
  }

  addEventListener(type: string, listener: MessageListener): void {
    if (type !== 'message') return
    this.#listeners.push(listener)
    this.#hadListener = true
  }

  removeEventListener(type: string, listener: MessageListener): void {
    if (type !== 'message') return
    const i = this.#listeners.indexOf(listener)
    if (i >= 0) this.#listeners.splice(i, 1)
    // comlink's expose removes its listener after answering RELEASE: the proxied
    // value is released, so its sub-channel goes (channel 0 is the session's own).
    if (this.#listeners.length === 0 && this.#hadListener && this.channel !== 0) {
      this.#host.free(this.channel)
    }
  }

  /** Deliver the messages that waited for a listener (comlink calls it before use). */
  start(): void {
    const q = this.#queue
    if (q === null) return
    this.#queue = null
    for (const m of q) this.#dispatch(m)
  }

  /** A message for this channel arrived (the multiplexer calls this). */
  receive(m: WireMessage): void {
    if (isResponse(m) && typeof m.id === 'string') {
      this.#pending.delete(m.id)
      if (m.id === this.#releaseId) {
        // The answer to our RELEASE: after comlink has seen it, the sub-channel is done.
        this.#deliver(m)
        if (this.channel !== 0) this.#host.free(this.channel)
        return
      }
    }
    this.#deliver(m)
  }

  /** The channel ended: every request still pending gets a rejection. */
  end(why: string): void {
    if (this.#ended !== null) return
    this.#ended = why
    this.start()
    for (const id of this.#pending) this.#dispatch(closedAnswer(id, why))
    this.#pending.clear()
    // What was taken here can no longer be answered: nobody waits for it.
    if (this.#taken.size > 0) answered(this.#taken.size)
    this.#taken.clear()
  }

  #deliver(m: WireMessage): void {
    if (this.#queue !== null) this.#queue.push(m)
    else this.#dispatch(m)
  }

  #dispatch(m: WireMessage): void {
    if (this.#listeners.length === 0) {
      // Started, and nobody listens: a request would wait forever (comlink's expose
      // removes its listener on RELEASE). Answer it with an error instead.
      if (isRequest(m) && typeof m.id === 'string' && this.#ended === null) {
        this.#postQuietly(unexposedAnswer(m.id))
      }
      return
    }
    if (isRequest(m) && typeof m.id === 'string' && !this.#taken.has(m.id)) {
      this.#taken.add(m.id)
      took()
    }
    const ev = { data: m }
    // A copy: a listener may remove itself (comlink's expose does, on RELEASE).
    const ls = this.#listeners.length === 1 ? this.#listeners : this.#listeners.slice()
    for (let i = 0; i < ls.length; i++) {
      const l = ls[i]
      try {
        if (typeof l === 'function') l(ev)
        else l.handleEvent(ev)
      } catch (err) {
        // As a MessagePort's listener: the error is uncaught, the channel goes on.
        queueMicrotask(() => {
          throw err
        })
      }
    }
  }

  /** An answer of this layer's own: if it cannot go (the session ended), nobody waits for it. */
  #postQuietly(m: WireMessage): void {
    try {
      this.#host.post(this.channel, m)
    } catch {
      /* the session ended meanwhile */
    }
  }

  #answerLater(id: string, why: string): void {
    queueMicrotask(() => this.#dispatch(closedAnswer(id, why)))
  }
}
