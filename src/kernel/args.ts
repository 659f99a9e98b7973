/**
 * Argument checks where requests enter the kernel, shared by the runtime's API
 * and by domains' calls (whose arguments arrive as JSON from an untrusted realm):
 * one check of a spawn's argv and env, one of a program's path, one of a count.
 */
import { resolve as resolvePath } from 'node:path'
import { pathToFileURL } from 'node:url'
import { KernelError } from '../errors.js'

export function positiveInt(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${String(v)}`)
  }
  return v
}

/**
 * A spawn's argv and env, checked and copied: argv an array of strings, env an
 * object of strings, each at most `maxArgBytes` of UTF-8 (Barrelfish's limit).
 */
export function spawnArgs(
  argv: unknown,
  env: unknown,
  maxArgBytes: number,
): { argv: string[]; env: Record<string, string> } {
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
    throw new TypeError('argv must be an array of strings')
  }
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    throw new TypeError('env must be an object of strings')
  }
  let argvBytes = 0
  for (const a of argv as string[]) argvBytes += Buffer.byteLength(a) + 1
  let envBytes = 0
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== 'string') throw new TypeError(`env.${k} must be a string`)
    envBytes += Buffer.byteLength(k) + Buffer.byteLength(v) + 2
  }
  if (argvBytes > maxArgBytes || envBytes > maxArgBytes) {
    throw new KernelError(
      'ARGS_TOO_LARGE',
      `argv is ${argvBytes} bytes and env ${envBytes}; each may be at most ${maxArgBytes}`,
    )
  }
  return { argv: (argv as string[]).slice(), env: { ...(env as Record<string, string>) } }
}

/** Resolved program paths, by cwd and path: resolving costs more than a spawn's ring trip. */
const resolved = new Map<string, string>()

export function programUrl(program: string | URL): string {
  if (program instanceof URL) {
    if (program.protocol !== 'file:')
      throw new TypeError(`program URL must be file:, got ${program.protocol}`)
    return program.href
  }
  if (typeof program !== 'string' || program.length === 0) {
    throw new TypeError('program must be a path or a file URL of an ES module')
  }
  // An absolute path or a file: URL names the same module from any cwd.
  const key =
    program.startsWith('/') || program.startsWith('file:')
      ? program
      : `${process.cwd()}\0${program}`
  let href = resolved.get(key)
  if (href === undefined) {
    href = program.startsWith('file:')
      ? new URL(program).href
      : pathToFileURL(resolvePath(program)).href
    if (resolved.size >= 256) resolved.clear()
    resolved.set(key, href)
  }
  return href
}
