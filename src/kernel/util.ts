/**
 * Small helpers of the kernel's runtime side: timers as promises, option checks,
 * program paths as file URLs.
 */
import { resolve as resolvePath } from 'node:path'
import { pathToFileURL } from 'node:url'

export function noop(): void {}

export function immediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let t: NodeJS.Timeout | undefined
  const timer = new Promise<'timeout'>((resolve) => {
    t = setTimeout(() => resolve('timeout'), ms)
  })
  return Promise.race([p, timer]).finally(() => clearTimeout(t))
}

export function positiveInt(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${String(v)}`)
  }
  return v
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
  const key = program.startsWith('/') ? program : `${process.cwd()}\0${program}`
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
