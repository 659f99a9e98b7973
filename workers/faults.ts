/**
 * Faults a domain raises outside its main's promise chain: a throw in a timer or
 * callback, an unhandled rejection. Each dispatcher's main runs inside its own
 * AsyncLocalStorage context (`runAs`), which Node carries through promises, timers,
 * I/O callbacks and nextTicks made from it; the worker's uncaughtException and
 * unhandledRejection handlers read that context to find the dispatcher at fault.
 *
 *  - traced (the store names a dispatcher): only that domain ends, exit 1,
 *    reason 'error', with the value as its error; if it had already ended, the
 *    fault is its leftovers' and is dropped;
 *  - a DomainExit (ctx.exit() called from a timer): its exit is already recorded;
 *  - untraced (no store: code run at a module's evaluation, a callback whose
 *    context was lost, the spawnd itself): a core fault, as before. The worker
 *    ends; the supervisor restarts the core.
 *
 * Every function used here is taken at load, before any domain runs.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { DomainExit } from '../src/domain/context.js'
import { ReflectApply } from '../src/intrinsics.js'
import type { Dispatcher } from './dispatcher.js'

const als = new AsyncLocalStorage<Dispatcher>()
const { run, getStore } = AsyncLocalStorage.prototype
const on = process.on

/** Run `fn` as `d`: whatever it schedules carries `d`. */
export function runAs<R>(d: Dispatcher, fn: () => R): R {
  return ReflectApply(run, als, [d, fn]) as R
}

function current(): Dispatcher | undefined {
  return ReflectApply(getStore, als, []) as Dispatcher | undefined
}

/** The DomainExit `err` is, or null; guarded (instanceof runs a Proxy's getPrototypeOf trap). */
export function asDomainExit(err: unknown): DomainExit | null {
  try {
    return err instanceof DomainExit ? err : null
  } catch {
    return null
  }
}

/** What to do with a stray fault: 'handled' if traced to a domain, else 'core'. */
export type FaultOwner = (d: Dispatcher, err: unknown) => void

/**
 * Install the handlers. `domainFault` ends a traced domain. An untraced fault is
 * rethrown from the handler, which ends the worker (a core fault).
 */
export function installFaultHandlers(domainFault: FaultOwner): void {
  const onFault = (err: unknown): void => {
    if (asDomainExit(err) !== null) return
    const d = current()
    if (d === undefined) throw err
    if (d.state === 'running') domainFault(d, err)
  }
  ReflectApply(on, process, ['uncaughtException', onFault])
  ReflectApply(on, process, ['unhandledRejection', onFault])
}
