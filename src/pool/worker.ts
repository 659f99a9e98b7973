/**
 * The pool's worker: a domain program (one per pool worker, supervised as a
 * service) that imports the task module and serves its tasks over a session.
 * piscina's worker.js, on a core instead of a thread of its own.
 *
 * argv: [service name, default filename ('' for none), default export name].
 * The session's methods:
 *   run(task, id)                     the default handler
 *   runAt(task, id, filename, name)   another module or export
 *   abort(id, reason)                 fire the signal of a task still running
 *
 * A task function is called as `fn(task, { signal })`. The signal costs nothing
 * unless read: a sync task cannot hear an abort anyway (this core runs it to the
 * end before it reads the next message), so only a task that returned a promise
 * is kept by id, for an abort that may follow.
 */
import { pathToFileURL } from 'node:url'
import type { DomainContext } from '../domain/context.js'

type TaskFn = (task: unknown, info: TaskInfo) => unknown

/** What a task function gets as its second argument. */
class TaskInfo {
  #ac: AbortController | null = null
  #reason: unknown = undefined
  #aborted = false

  /** Created on first read: most tasks never look. */
  get signal(): AbortSignal {
    if (this.#ac === null) {
      this.#ac = new AbortController()
      if (this.#aborted) this.#ac.abort(this.#reason)
    }
    return this.#ac.signal
  }

  abort(reason: unknown): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    this.#ac?.abort(reason)
  }
}

/** A module's handler by export name, as piscina finds it (a promised function too). */
async function loadHandler(filename: string, name: string): Promise<TaskFn> {
  const url = filename.startsWith('file:') ? filename : pathToFileURL(filename).href
  const mod = (await import(url)) as Record<string, unknown>
  let fn: unknown = mod[name]
  // A CommonJS module: module.exports is the default export, its keys the names.
  if (typeof fn !== 'function' && name !== 'default' && typeof mod.default === 'object') {
    fn = (mod.default as Record<string, unknown> | null)?.[name]
  }
  fn = await fn
  if (typeof fn !== 'function') {
    throw new TypeError(`no handler function '${name}' exported from ${filename}`)
  }
  return fn as TaskFn
}

export default async function main(ctx: DomainContext): Promise<number> {
  const [service, defaultFile, defaultName] = ctx.argv
  const handlers = new Map<string, TaskFn | Promise<TaskFn>>()
  /** Tasks that returned a promise and have not settled: abort() finds them here. */
  const running = new Map<number, TaskInfo>()

  const handler = (filename: string, name: string): TaskFn | Promise<TaskFn> => {
    const key = `${name}\0${filename}`
    let h = handlers.get(key)
    if (h === undefined) {
      const p = loadHandler(filename, name)
      handlers.set(key, p)
      // Once loaded, later tasks call it synchronously; a failed load is tried again.
      p.then(
        (fn) => handlers.set(key, fn),
        () => handlers.delete(key),
      )
      h = p
    }
    return h
  }

  const start = (fn: TaskFn, task: unknown, id: number): unknown => {
    const info = new TaskInfo()
    const out = fn(task, info)
    if (
      out === null ||
      typeof out !== 'object' ||
      typeof (out as Promise<unknown>).then !== 'function'
    )
      return out
    running.set(id, info)
    return (out as Promise<unknown>).finally(() => running.delete(id))
  }

  const exec = (task: unknown, id: number, filename: string, name: string): unknown => {
    if (filename === '') throw new TypeError('filename must be provided to run() or in options')
    const h = handler(filename, name)
    if (typeof h === 'function') return start(h, task, id)
    return h.then((fn) => start(fn, task, id))
  }

  await ctx.serve(service, {
    open: () => ({
      run: (task: unknown, id: number) => exec(task, id, defaultFile, defaultName),
      runAt: (task: unknown, id: number, filename: string | null, name: string | null) =>
        exec(task, id, filename ?? defaultFile, name ?? defaultName),
      abort: (id: number, reason: unknown) => {
        running.get(id)?.abort(reason)
      },
    }),
  })
  // Load the default handler before saying ready, as piscina preloads it; a module
  // that fails to load fails each task that uses it, not the worker.
  if (defaultFile !== '') await Promise.resolve(handler(defaultFile, defaultName)).catch(() => {})
  await ctx.ready()
  await new Promise<void>((resolve) => {
    if (ctx.stopSignal.aborted) resolve()
    else ctx.stopSignal.addEventListener('abort', () => resolve(), { once: true })
  })
  return 0
}
