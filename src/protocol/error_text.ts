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

export function errorToText(err: unknown, withStack = true, depth = 0): ErrorText {
  if (err instanceof Error) {
    const out: ErrorText = { name: err.name, message: err.message }
    if (withStack && err.stack !== undefined) out.stack = err.stack
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string') out.code = code
    if (err.cause !== undefined && depth < MAX_CAUSES) {
      out.cause = errorToText(err.cause, withStack, depth + 1)
    }
    return out
  }
  return { name: 'NonError', message: String(err) }
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
  return JSON.stringify(errorToText(err, withStack))
}

/** The ErrorText in a frame's text, or null when the text is plain (or absent). */
export function parseErrorText(text: string | null): ErrorText | null {
  if (text === null || text[0] !== '{') return null
  try {
    const t = JSON.parse(text) as Partial<ErrorText> | null
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
  if (message.startsWith(`${code}: `)) message = message.slice(code.length + 2)
  let cause: Error | undefined
  if (t !== null) {
    if (t.code !== code) cause = errorFromText(t)
    else if (t.cause !== undefined) cause = errorFromText(t.cause)
  }
  const full = context === '' ? message : `${context}: ${message}`
  return new KernelError(code, full, cause === undefined ? undefined : { cause })
}
