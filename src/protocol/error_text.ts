/**
 * Errors on the wire. Error objects do not survive a thread boundary, so an error
 * crosses as JSON text (its name, message, stack, code and cause chain) and is
 * rebuilt on the other side. One pair for both directions:
 *
 *   encodeError(err)                 -> text for a REPLY, RESULT or EXIT frame
 *   decodeError(code, text, context) -> the KernelError the receiver throws
 *
 * A refusal may also arrive as plain text (a spawnd's own short refusals); decoding
 * takes either. The cause chain is kept both ways (Barrelfish's err_push across the
 * channel): a sent error with the frame's own code continues as that error, with its
 * causes; any other sent error (a module's SyntaxError, a TypeError) becomes the cause.
 */
import { KernelError, type KernelErrorCode } from '../errors.js'
import {
  JSONParse,
  JSONStringify,
  ObjectCreate,
  SafeError,
  StringCtor,
  StringSlice,
  StringStartsWith,
} from '../intrinsics.js'

/** An error as it crosses a thread boundary. */
export interface ErrorText {
  name: string
  message: string
  stack?: string
  code?: string
  cause?: ErrorText
}

/** Causes kept, at most: a cycle in a cause chain must not loop. */
const MAX_CAUSES = 8
/** Characters kept of a message or stack: a domain's error must fit a frame. */
const MAX_TEXT = 16_384

/**
 * Read `key` of a thrown value without trusting it: a getter that throws, a Proxy
 * whose traps throw, a revoked Proxy all read as undefined. Never calls toString.
 */
function read(err: object, key: string): unknown {
  try {
    return (err as Record<string, unknown>)[key]
  } catch {
    return undefined
  }
}

function isError(err: object): boolean {
  try {
    return err instanceof SafeError
  } catch {
    // A Proxy whose getPrototypeOf trap throws: not an Error we can vouch for.
    return false
  }
}

function clip(s: string): string {
  return s.length > MAX_TEXT ? `${StringSlice(s, 0, MAX_TEXT)}...` : s
}

/**
 * A description of any thrown value that cannot throw, loop or run the value's
 * code beyond property reads: primitives by value, objects by what they say they
 * are (a string `message`, a string `name`), never by `String(err)` (which would
 * call a domain's toString, Symbol.toPrimitive or a Proxy trap).
 */
function describe(err: unknown): string {
  switch (typeof err) {
    case 'string':
      return clip(err)
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return StringCtor(err)
    case 'symbol':
      return 'a symbol'
    case 'function':
      return 'a function'
    default:
      if (err === null) return 'null'
      return 'a non-Error object'
  }
}

/**
 * `err` as an ErrorText, safe for any thrown value: every property is read guarded
 * and kept only when it is a string (so a hostile getter, a Proxy or an object
 * whose toString throws becomes a plain description, never an exception here).
 */
export function errorToText(err: unknown, withStack = true, depth = 0): ErrorText {
  if ((typeof err !== 'object' && typeof err !== 'function') || err === null) {
    const t = ObjectCreate(null) as ErrorText
    t.name = 'NonError'
    t.message = describe(err)
    return t
  }
  const error = isError(err)
  const name = read(err, 'name')
  const message = read(err, 'message')
  // Null-prototype: JSON.stringify must not find a toJSON a domain put on Object.prototype.
  const out = ObjectCreate(null) as ErrorText
  out.name = typeof name === 'string' ? clip(name) : error ? 'Error' : 'NonError'
  out.message = typeof message === 'string' ? clip(message) : describe(err)
  if (withStack) {
    const stack = read(err, 'stack')
    if (typeof stack === 'string') out.stack = clip(stack)
  }
  const code = read(err, 'code')
  if (typeof code === 'string') out.code = clip(code)
  if (depth < MAX_CAUSES) {
    const cause = read(err, 'cause')
    if (cause !== undefined) out.cause = errorToText(cause, withStack, depth + 1)
  }
  return out
}

/** Rebuild an Error from its text (name, message, stack, code and cause chain kept). */
export function errorFromText(t: ErrorText): Error {
  const e = new Error(t.message, t.cause ? { cause: errorFromText(t.cause) } : undefined)
  e.name = t.name
  if (t.stack !== undefined) e.stack = t.stack
  if (t.code !== undefined) (e as Error & { code?: string }).code = t.code
  return e
}

/** `err` as wire text. Without its stacks when `withStack` is false (to fit a small ring). */
export function encodeError(err: unknown, withStack = true): string {
  return JSONStringify(errorToText(err, withStack))
}

/** The ErrorText in a frame's text, or null when the text is plain (or absent). */
export function parseErrorText(text: string | null): ErrorText | null {
  if (text === null || text[0] !== '{') return null
  try {
    const t = JSONParse(text) as Partial<ErrorText> | null
    return t !== null && typeof t.message === 'string' && typeof t.name === 'string'
      ? (t as ErrorText)
      : null
  } catch {
    return null
  }
}

/**
 * The KernelError a refusal stands for: `code` from the frame's error word, the
 * message prefixed with `context` when one is given (what was asked, where).
 */
export function decodeError(code: KernelErrorCode, text: string | null, context = ''): KernelError {
  const t = parseErrorText(text)
  let message = t === null ? (text ?? 'refused') : t.message
  // A KernelError's message starts with its code; the rebuilt one adds it again.
  if (StringStartsWith(message, `${code}: `)) message = StringSlice(message, code.length + 2)
  let cause: Error | undefined
  if (t !== null) {
    if (t.code !== code) cause = errorFromText(t)
    else if (t.cause !== undefined) cause = errorFromText(t.cause)
  }
  const full = context === '' ? message : `${context}: ${message}`
  return new KernelError(code, full, cause === undefined ? undefined : { cause })
}
