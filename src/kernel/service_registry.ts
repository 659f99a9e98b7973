/**
 * Who serves what (Genode's service announcements) and the routes that choose
 * between servers of one name (init's routing policy, session/route.ts). A server
 * is a domain on one core (the dispatcher that called ctx.serve) or the main
 * thread (rt.serve, domainId 0).
 */
import { KernelError } from '../errors.js'
import { checkRoute, routeMatches, type Route } from '../session/route.js'
import type { ServeHandlers } from '../session/serve.js'

export type { ServeHandlers, SessionRequest } from '../session/serve.js'

export interface ServerEnd {
  service: string
  /** 0: the main thread. */
  domainId: number
  /** -1: the main thread. */
  core: number
  /** Its label, as routes name it (a service label, or the domain's own). */
  label: string
  /** A main-thread server's handlers. */
  handlers: ServeHandlers | null
  /** A new incarnation's, during a live update: routing skips it until the update commits. */
  standby?: boolean
}

export class ServiceRegistry {
  private readonly byName = new Map<string, ServerEnd[]>()
  private readonly routes: Readonly<Route>[] = []
  /** Domains serving anything, by how many names (a quick no for the stop path). */
  private readonly serving = new Map<number, number>()

  serves(domainId: number): boolean {
    return this.serving.has(domainId)
  }

  add(end: ServerEnd): void {
    const list = this.byName.get(end.service) ?? []
    if (list.some((s) => s.domainId === end.domainId)) {
      throw new KernelError(
        'SERVICE_EXISTS',
        `${end.domainId === 0 ? 'the main thread' : `domain ${end.domainId}`} already serves '${end.service}'`,
      )
    }
    list.push(end)
    this.byName.set(end.service, list)
    this.serving.set(end.domainId, (this.serving.get(end.domainId) ?? 0) + 1)
  }

  /** Stop `domainId` serving `service` (or everything, with no service); what it removed. */
  remove(domainId: number, service?: string): ServerEnd[] {
    const gone: ServerEnd[] = []
    for (const [name, list] of this.byName) {
      if (service !== undefined && name !== service) continue
      const keep = list.filter((s) => {
        if (s.domainId !== domainId) return true
        gone.push(s)
        return false
      })
      if (keep.length === 0) this.byName.delete(name)
      else this.byName.set(name, keep)
    }
    const left = (this.serving.get(domainId) ?? 0) - gone.length
    if (left > 0) this.serving.set(domainId, left)
    else this.serving.delete(domainId)
    return gone
  }

  /** A new incarnation's services go live (its live update committed). */
  activate(domainId: number): void {
    for (const list of this.byName.values())
      for (const s of list) if (s.domainId === domainId) s.standby = false
  }

  /** Every standby service of a label goes live (a live update of that label ended). */
  activateLabel(label: string): void {
    for (const list of this.byName.values())
      for (const s of list) if (s.label === label) s.standby = false
  }

  addRoute(r: unknown): void {
    this.routes.push(checkRoute(r))
  }

  /** The server of a session of `service` for a client labelled `label` (SERVICE_DENIED). */
  route(service: string, label: string): ServerEnd {
    const list = (this.byName.get(service) ?? []).filter((s) => s.standby !== true)
    for (const r of this.routes) {
      if (!routeMatches(r, service, label)) continue
      const s = list.find((x) => x.label === r.server)
      if (s === undefined) {
        throw new KernelError(
          'SERVICE_DENIED',
          `'${service}' for '${label}' is routed to '${r.server}', which does not serve it`,
        )
      }
      return s
    }
    if (list.length === 1) return list[0]
    if (list.length === 0) throw new KernelError('SERVICE_DENIED', `nobody serves '${service}'`)
    throw new KernelError(
      'SERVICE_DENIED',
      `${list.length} servers of '${service}' and no route for '${label}' chooses one`,
    )
  }

  /** Every server, for display. */
  list(): ServerEnd[] {
    return [...this.byName.values()].flat()
  }
}
