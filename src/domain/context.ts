/**
 * What a domain program sees: the `ctx` passed to its `main(ctx)`.
 *
 * Threat model: domains on one core share that worker's JavaScript realm, so this
 * object is a convenience, not a wall. Authority is enforced where requests enter
 * the process manager; nothing here hands a domain the rings or spawnd internals.
 */

/** Thrown by ctx.exit() to unwind main; the dispatcher wrapper catches it. */
export class DomainExit extends Error {
  readonly exitCode: number
  constructor(exitCode: number) {
    super(`domain exited with code ${exitCode}`)
    this.name = 'DomainExit'
    this.exitCode = exitCode
  }
}

export interface DomainContext {
  /** Arguments given at spawn. */
  readonly argv: readonly string[]
  /** Environment given at spawn. */
  readonly env: Readonly<Record<string, string>>
  /** The core (spawnd) this dispatcher runs on. */
  readonly core: number
  /** The domain's id in the process manager's table. */
  readonly domainId: number
  /** Fires when the domain is killed (or another dispatcher of it ends it). */
  readonly signal: AbortSignal
  /**
   * End the whole domain now with `code` (every dispatcher on every core), as
   * Barrelfish's exit(): it does not return; it throws DomainExit to unwind main.
   */
  exit(code?: number): never
}

/** The default export a domain program provides. */
export type DomainMain = (ctx: DomainContext) => number | void | Promise<number | void>

export interface ContextInit {
  argv: string[]
  env: Record<string, string>
  core: number
  domainId: number
  signal: AbortSignal
  onExit: (code: number) => void
}

export function makeContext(init: ContextInit): DomainContext {
  const argv = Object.freeze(init.argv.slice())
  const env = Object.freeze({ ...init.env })
  return Object.freeze({
    argv,
    env,
    core: init.core,
    domainId: init.domainId,
    signal: init.signal,
    exit(code = 0): never {
      const c = Number.isInteger(code) ? code : 1
      init.onExit(c)
      throw new DomainExit(c)
    },
  })
}
