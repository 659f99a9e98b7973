/**
 * Output helpers shared by the subcommands: colour only on a terminal (and never
 * with --json or NO_COLOR), JSON on stdout for machines, and the exit codes.
 */
import pc from 'picocolors'

/** Exit codes: 0 success, 1 the run failed (a check or a verification), 2 bad usage. */
export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2

export interface OutputOptions {
  json: boolean
  color: boolean
}

export function outputOptions(opts: { json?: boolean; color?: boolean }): OutputOptions {
  const json = opts.json === true
  const color =
    !json &&
    opts.color !== false &&
    process.stdout.isTTY === true &&
    process.env.NO_COLOR === undefined
  return { json, color }
}

export type Paint = (s: string) => string

export function painter(o: OutputOptions): {
  bold: Paint
  dim: Paint
  green: Paint
  red: Paint
  yellow: Paint
  cyan: Paint
} {
  const c = pc.createColors(o.color)
  return { bold: c.bold, dim: c.dim, green: c.green, red: c.red, yellow: c.yellow, cyan: c.cyan }
}

/** A usage error: printed as such, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** Parse a positive integer option or throw a UsageError naming it. */
export function positiveIntArg(name: string, value: string | undefined, dflt: number): number {
  if (value === undefined) return dflt
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${name} must be a positive integer, got '${value}'`)
  return n
}

/** Parse an integer option that may be 0 (for instance --spin 0: no spinning). */
export function nonNegativeIntArg(name: string, value: string | undefined, dflt: number): number {
  if (value === undefined) return dflt
  const n = Number(value)
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1)
    throw new UsageError(`${name} must be a non-negative integer, got '${value}'`)
  return n
}

/**
 * Parse a duration in seconds, fractions allowed (0.5), above 0 and at most `max`;
 * every command that takes --duration uses this, so they accept the same values.
 */
export function secondsArg(name: string, value: string, max: number): number {
  const s = Number(value)
  if (value.trim() === '' || !Number.isFinite(s) || s <= 0 || s > max) {
    throw new UsageError(
      `${name} must be a number of seconds above 0 and at most ${max}, got '${value}'`,
    )
  }
  return s
}

/** Parse a power-of-two option or throw a UsageError naming it. */
export function powerOfTwoArg(name: string, value: string | undefined, dflt: number): number {
  const n = positiveIntArg(name, value, dflt)
  if ((n & (n - 1)) !== 0) throw new UsageError(`${name} must be a power of two, got ${n}`)
  return n
}
