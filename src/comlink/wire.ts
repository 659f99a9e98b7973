/**
 * comlink's messages as they cross a session (comlink 4's protocol, src/protocol.ts
 * in its repository), and the few places in them where a proxied value sits.
 *
 * A session carries one comlink message per `send`, as a structured clone:
 *
 *   channel 0 (the session's own endpoint):  the comlink message itself (an object)
 *   sub-channel ch > 0 (a proxied value):    [ch, message]   (a two-element array)
 *
 * comlink's messages are never arrays, so the shape alone says which channel. A
 * request is { id, type: 'GET' | 'SET' | 'APPLY' | 'CONSTRUCT' | 'ENDPOINT' | 'RELEASE',
 * path, argumentList?, value? }; a response is a wire value with the request's id:
 * { id, type: 'RAW' | 'HANDLER', name?, value }. Transfer handlers apply only at the
 * top of each argument, of a SET's value and of a response, so those are the only
 * places a proxy can be: nothing else in a message is walked.
 */

/** A comlink message as this layer reads it (comlink's own types are not exported). */
export interface WireMessage {
  id?: string
  type?: string
  name?: string
  value?: unknown
  argumentList?: unknown[]
}

/** A wire value that a transfer handler produced ({ type: 'HANDLER', name, value }). */
interface HandlerValue {
  type: 'HANDLER'
  name: string
  value: unknown
}

/** True for a message that expects an answer with its id (a call into the other side). */
export function isRequest(m: WireMessage): boolean {
  const t = m.type
  return (
    t === 'APPLY' ||
    t === 'GET' ||
    t === 'SET' ||
    t === 'CONSTRUCT' ||
    t === 'RELEASE' ||
    t === 'ENDPOINT'
  )
}

/** True for an answer (a wire value carrying a request's id). */
export function isResponse(m: WireMessage): boolean {
  return m.type === 'RAW' || m.type === 'HANDLER'
}

function isProxyValue(v: unknown): v is HandlerValue {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as HandlerValue).type === 'HANDLER' &&
    (v as HandlerValue).name === 'proxy'
  )
}

/**
 * Replace, in place, each proxied value of a message by what `bind` makes of it
 * (sending: the local object becomes a sub-channel number; receiving: the number
 * becomes a reference to this end's sub-channel). The message is comlink's fresh
 * object (or a fresh structured clone), so changing it is safe.
 */
export function mapProxies(m: WireMessage, bind: (v: unknown) => unknown): void {
  if (isProxyValue(m)) {
    m.value = bind(m.value)
    return
  }
  const args = m.argumentList
  if (Array.isArray(args)) {
    for (let i = 0; i < args.length; i++) {
      const a: unknown = args[i]
      if (isProxyValue(a)) a.value = bind(a.value)
    }
  }
  if (m.type === 'SET' && isProxyValue(m.value)) m.value.value = bind(m.value.value)
}

/**
 * The answer comlink gets for a call whose channel ended: comlink's own thrown-error
 * wire value, which its 'throw' handler turns into a rejection. The error's own
 * properties (here `code`) are copied onto the Error it throws.
 */
export function closedAnswer(id: string, message: string): WireMessage {
  return errorAnswer(id, 'SESSION_CLOSED', message)
}

/**
 * The answer to a request that nobody will answer on a live session: nothing is
 * exposed on its channel (released, or never exposed). comlink would let it wait
 * forever.
 */
export function unexposedAnswer(id: string): WireMessage {
  return errorAnswer(
    id,
    'NO_SUCH_METHOD',
    'nothing is exposed on this channel (it was released, or never exposed)',
  )
}

function errorAnswer(id: string, code: string, message: string): WireMessage {
  return {
    id,
    type: 'HANDLER',
    name: 'throw',
    value: { isError: true, value: { name: 'KernelError', message: `${code}: ${message}`, code } },
  }
}
