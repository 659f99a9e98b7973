// Shared by the process-tree suites: bounded waits, temp dirs, fixture reports.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DomainStatus, Runtime } from 'multikernel'
import { within, until, sleep } from '../shared/bounded.js'
export { within, until, sleep }

export const fixture = (name: string): URL => new URL(`./fixtures/${name}`, import.meta.url)

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
