// Shared by the process-tree suites: bounded waits, temp dirs, fixture reports.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DomainStatus, Runtime } from 'multikernel'

export const fixture = (name: string): URL => new URL(`./fixtures/${name}`, import.meta.url)

/** Reject with `what` if `p` has not settled within `ms` (every wait here is bounded). */
export function within<T>(p: Promise<T>, what: string, ms = 15_000): Promise<T> {
  let t: NodeJS.Timeout | undefined
  const timer = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)
  })
  return Promise.race([p, timer]).finally(() => clearTimeout(t))
}

/** Poll `check` until it returns something other than undefined/false; bounded. */
export async function until<T>(
  check: () => T | undefined | false,
  what: string,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = check()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A scratch directory for reports and go-files, removed by `cleanup`. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'mk-tree-'))
  path(name: string): string {
    return join(this.dir, name)
  }
  /** Create the go-file a fixture waits for. */
  go(name: string): void {
    writeFileSync(this.path(name), '')
  }
  /** The JSON a fixture reported, or undefined while it has not. */
  read<T>(name: string): T | undefined {
    const p = this.path(name)
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as T) : undefined
  }
  /** Lines a fixture appended (abort records), parsed. */
  lines<T>(name: string): T[] {
    const p = this.path(name)
    if (!existsSync(p)) return []
    return readFileSync(p, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as T)
  }
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** The table entry of domain `id`, or undefined once it was freed. */
export function entry(rt: Runtime, id: number): DomainStatus | undefined {
  return rt.domains().find((d) => d.id === id)
}

/** The refusal code of a rejected promise (or 'ok'). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'ok'
  } catch (err) {
    const e = err as { code?: unknown; name?: unknown }
    return typeof e.code === 'string' ? e.code : String(e.name)
  }
}
