/**
 * Live update of a service (MINIX 3's RS_UPDATE): replace the running incarnation's
 * code while its clients keep calling it.
 *
 *   1. prepare   the old incarnation reaches a quiescent point (every call it took
 *                answered, its sessions paused) and hands over its state (ctx.onUpdate);
 *                not in time, and it is not touched
 *   2. start     the new program, labelled as the service; it reads the state
 *                (ctx.inheritedState()), serves (on standby) and calls ctx.ready()
 *   3. adopt     it opens every session of the old one again, on the same channels
 *   4. commit    the old one lets go, the new one reads on, the old one is ended
 *
 * Any failure before the commit (the program does not load, throws while starting,
 * rejects the state, misses initTimeoutMs or the update's timeoutMs, refuses a
 * session) rolls back: the new one is ended and the old one resumes where it was,
 * with its state and sessions. Calls made meanwhile wait in the rings: answered once,
 * by whichever incarnation serves afterwards.
 */
import { KernelError } from '../errors.js'
import type { DomainCap } from '../kernel/cap.js'
import type { WaitResult } from '../kernel/domain_table.js'
import { msOption, optionsObject } from '../kernel/options.js'
import { orTimeout } from '../link/timers.js'
import type { SupervisorHost } from './host.js'
import type { Service, ServiceInfo } from './service.js'

export interface UpdateOptions {
  /** The whole update, from the request to the new incarnation serving. Default 10 s. */
  timeoutMs?: number
  /** The new incarnation must call ctx.ready() within this. Default: the service's, else 5 s. */
  initTimeoutMs?: number
}

export function checkUpdateOptions(
  o: UpdateOptions | undefined,
  svc: Service,
): Required<UpdateOptions> {
  const x = optionsObject('update options', o, ['timeoutMs', 'initTimeoutMs'])
  return {
    timeoutMs: msOption('timeoutMs', x.timeoutMs, 10_000),
    initTimeoutMs: msOption('initTimeoutMs', x.initTimeoutMs, svc.opts.initTimeoutMs ?? 5_000),
  }
}

/** What an update needs of the service table (services.ts). */
export interface UpdateHooks {
  host: SupervisorHost
  awaitReady(
    d: DomainCap,
    ms: number,
    ended: Promise<WaitResult>,
  ): Promise<'ready' | 'ended' | 'timeout'>
  /** The new incarnation is the service's now: watch it as any incarnation. */
  adopt(d: DomainCap, ended: Promise<WaitResult>): void
  info(): ServiceInfo
}

export async function updateService(
  svc: Service,
  url: string,
  o: Required<UpdateOptions>,
  hooks: UpdateHooks,
): Promise<ServiceInfo> {
  const { host } = hooks
  const label = svc.label
  if (host.isShutdown) throw new KernelError('SHUTDOWN', 'the runtime is shut down')
  if (svc.updating) throw new KernelError('UPDATE_FAILED', `'${label}' is being updated already`)
  const old = svc.domain
  if (svc.state !== 'running' || old === null) {
    throw new KernelError(
      'UPDATE_FAILED',
      `'${label}' is ${svc.state}: only a running service updates`,
    )
  }
  svc.updating = true
  const deadline = Date.now() + o.timeoutMs
  const left = (): number => deadline - Date.now()
  const rolledBack = (why: string, cause: unknown): KernelError => {
    host.events.publish({ type: 'update-rolled-back', label, why })
    return new KernelError('UPDATE_FAILED', `'${label}' was not updated: ${why}`, { cause })
  }
  host.events.publish({ type: 'update-started', label, program: url })
  try {
    try {
      await host.update.prepare(old, o.timeoutMs)
    } catch (err) {
      throw rolledBack(`no quiescent point or state (${(err as Error).message})`, err)
    }
    let neu: DomainCap | null = null
    let ended: Promise<WaitResult> | null = null
    try {
      neu = await orTimeout(
        host.spawn(url, { core: svc.opts.core, argv: svc.opts.argv, env: svc.opts.env, label }),
        left(),
        'start',
      )
      ended = host.wait(neu, { reap: true })
      const ready = await hooks.awaitReady(neu, Math.min(o.initTimeoutMs, left()), ended)
      if (ready !== 'ready') {
        const r = ready === 'ended' ? await ended : null
        throw new KernelError(
          'UPDATE_FAILED',
          ready === 'timeout'
            ? `the new incarnation was not ready within ${Math.min(o.initTimeoutMs, o.timeoutMs)} ms`
            : `the new incarnation ended before it was ready (${r?.status === 'running' ? '' : `${r?.reason}, exit code ${r?.exitCode}`})`,
          { cause: r !== null && r.status !== 'running' ? r.error : undefined },
        )
      }
      await orTimeout(host.update.adopt(old, neu), left(), 'adopting the sessions')
    } catch (err) {
      // The new one lets go of what it adopted first: ending it must close nothing.
      await host.update.rollback(old, neu)
      if (neu !== null) await host.kill(neu).catch(() => undefined)
      throw rolledBack((err as Error).message, err)
    }
    await host.update.commit(old, neu)
    svc.url = url
    svc.updates++
    hooks.adopt(neu, ended)
    // Its sessions moved: ending the old incarnation closes none of them.
    await host.kill(old).catch(() => undefined)
    host.events.publish({ type: 'updated', label, domainId: neu.id, version: svc.updates })
    return hooks.info()
  } finally {
    host.update.end(label)
    svc.updating = false
  }
}
