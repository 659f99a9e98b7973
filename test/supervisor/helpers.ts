// Shared by the supervision suites: an event recorder (no lost wake-ups: it keeps
// everything from boot on, so a wait that starts late still sees the event),
// bounded waits, scratch files.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Runtime, RuntimeEvent, RuntimeEventType } from 'multikernel'
import { within, until, sleep } from '../shared/bounded.js'
export { within, until, sleep }

export const modes = new URL('./fixtures/modes.mjs', import.meta.url)
export const configFixture = new URL('./fixtures/config.mjs', import.meta.url)

/** The bound on every single wait: far above any honest delay on a loaded 2-CPU box. */
export const BOUND_MS = 15_000

export type EventOf<T extends RuntimeEventType> = Extract<RuntimeEvent, { type: T }>

/** The refusal code of a rejected promise, or 'ok'. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'ok'
  } catch (err) {
    const e = err as { code?: unknown; name?: unknown }
    return typeof e.code === 'string' ? e.code : String(e.name)
  }
}

/** Every event of one runtime, from boot on, with bounded waits for the next ones. */
export class Recorder {
  readonly all: RuntimeEvent[] = []
  private readonly waiters = new Set<() => void>()

  constructor(rt: Runtime) {
    rt.events.on('event', (ev: RuntimeEvent) => {
      this.all.push(ev)
      for (const w of [...this.waiters]) w()
    })
  }

  of<T extends RuntimeEventType>(type: T, pred: (e: EventOf<T>) => boolean = () => true) {
    return this.all.filter((e): e is EventOf<T> => e.type === type && pred(e as EventOf<T>))
  }

  /** The `n`th (1-based) event of `type` matching `pred`, recorded or to come; bounded. */
  waitFor<T extends RuntimeEventType>(
    type: T,
    pred: (e: EventOf<T>) => boolean = () => true,
    n = 1,
    ms = BOUND_MS,
  ): Promise<EventOf<T>> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.of(type, pred)
        if (found.length < n) return false
        done()
        resolve(found[n - 1])
        return true
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`timed out waiting for ${type} #${n} (${this.summary()})`))
      }, ms)
      const done = (): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
      }
      this.waiters.add(check)
      check()
    })
  }

  /** The recorded event types in order, for failure messages. */
  summary(): string {
    const name = (e: RuntimeEvent): string =>
      'label' in e ? `${e.type}(${e.label})` : 'core' in e ? `${e.type}#${e.core}` : e.type
    return this.all.map(name).join(' ')
  }
}

/** A scratch directory, removed by `cleanup`. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'mk-sup-'))
  path(name: string): string {
    return join(this.dir, name)
  }
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}
