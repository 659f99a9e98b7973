// Helpers of the session suites: fixture URLs, and main-thread services the
// fixture domains report to ('report' for scripted clients, 'log' for servers).
import { KernelError, type Runtime, type Session } from 'multikernel'
import { until, within } from '../shared/bounded.js'

export const fixture = (name: string): URL => new URL(`./fixtures/${name}`, import.meta.url)

export interface Step {
  domainId: number
  step: number
  op: string
  ok: boolean
  value?: unknown
  code?: string | null
  name?: string | null
  message?: string
  cause?: { name: string; message: string; code: string | null } | null
}

/** Collects what domains send to a main-thread service of `name` (one method, `method`). */
export function collector<T = unknown>(rt: Runtime, name: string, method: string) {
  const got: T[] = []
  rt.serve(name, {
    open: () => ({
      [method]: (x: T) => {
        got.push(x)
        return true
      },
    }),
  })
  return {
    got,
    /** Bounded: resolves once `pred` holds for what has come. */
    until: <R>(pred: (all: T[]) => R | undefined | null | false, what: string) =>
      until(() => pred(got), what),
  }
}

/** The 'report' service of script.mjs, and a way to run a script domain. */
export function scripts(rt: Runtime) {
  const c = collector<Step>(rt, 'report', 'step')
  return {
    steps: c.got,
    /** Spawn a script; resolves with its capability and a waiter for its n-th step. */
    async run(
      steps: unknown[],
      opts: { core?: number; label?: string; quota?: { bytes?: number; handles?: number } } = {},
    ) {
      const d = await rt.spawn(fixture('script.mjs'), { argv: [JSON.stringify(steps)], ...opts })
      const mine = (): Step[] => c.got.filter((s) => s.domainId === d.id)
      return {
        d,
        mine,
        step: (i: number) =>
          c.until(() => mine().find((s) => s.step === i), `step ${i} of domain ${d.id}`),
      }
    },
  }
}

/**
 * A session of `name` once a server of it serves (a domain serves once its serve
 * call is answered): opens are retried while they are SERVICE_DENIED, bounded.
 */
export function openWhenServed(
  rt: Runtime,
  name: string,
  opts?: Parameters<Runtime['session']>[1],
): Promise<Session> {
  return within(
    (async () => {
      for (;;) {
        try {
          return await rt.session(name, opts)
        } catch (err) {
          if (!KernelError.is(err, 'SERVICE_DENIED')) throw err
          await new Promise((r) => setTimeout(r, 2))
        }
      }
    })(),
    `'${name}' serves`,
  )
}
