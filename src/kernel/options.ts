/**
 * Checks of option objects and of the plain values in them, shared by the boot
 * path, the kernel's entry points and the supervisor. Each refusal names the
 * option: a TypeError for the wrong kind of value, a RangeError for a value out
 * of range. An option object with a key nobody reads is refused too: a typo
 * (`core` for `cores`) would otherwise be accepted and silently do nothing.
 */

/** Longest delay a Node timer keeps: a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** The options of a call that passed none: shared, read-only. */
const NO_OPTIONS = Object.freeze({})
const hasOwn = Object.prototype.hasOwnProperty

/**
 * `opts` as an object of known keys; undefined is an empty one. (Per call on the
 * spawn path: for-in walks the keys without the array Object.keys would make.)
 */
export function optionsObject<T extends object>(
  what: string,
  opts: T | undefined,
  known: readonly string[],
): Partial<T> {
  if (opts === undefined) return NO_OPTIONS
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts))
    throw new TypeError(`${what} must be an object, got ${describe(opts)}`)
  for (const k in opts) {
    if (hasOwn.call(opts, k) && !known.includes(k))
      throw new TypeError(`${what}: unknown option '${k}' (known: ${known.join(', ')})`)
  }
  return opts
}

/** An integer in [min, max]; undefined gives `dflt`. */
export function intOption(
  name: string,
  v: unknown,
  dflt: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${describe(v)}`)
  if (!Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(v)}`)
  return v
}

/** A finite number in [min, max]; undefined gives `dflt`. */
export function numberOption(
  name: string,
  v: unknown,
  dflt: number,
  min: number,
  max: number,
): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${describe(v)}`)
  if (!(v >= min && v <= max))
    throw new RangeError(`${name} must be a number from ${min} to ${max}, got ${String(v)}`)
  return v
}

/**
 * A delay in ms a timer can keep: a number above 0 (or from 0 with `allowZero`) and
 * at most MAX_TIMER_MS.
 */
export function msOption(name: string, v: unknown, dflt: number, allowZero = false): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${describe(v)}`)
  if (!((allowZero ? v >= 0 : v > 0) && v <= MAX_TIMER_MS))
    throw new RangeError(
      `${name} must be a number of ms ${allowZero ? 'from 0' : 'above 0'} to ${MAX_TIMER_MS}, got ${String(v)}`,
    )
  return v
}

/** true or false; undefined gives `dflt`. */
export function boolOption(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(v)}`)
  return v
}

/** A short description of a bad value for an error message (never throws). */
export function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)
    case 'number':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return String(v)
    case 'function':
      return 'a function'
    case 'symbol':
      return 'a symbol'
    default:
      return 'an object'
  }
}
