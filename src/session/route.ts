/**
 * Labels and routes (Genode's session labels and init's routing policy).
 *
 * A client's identity is its label: a domain's own label (given at spawn, or its
 * service label), prefixed by its ancestors' as Genode's parents prefix a child's
 * session requests, with the label the client asked for last:
 * "parent -> child -> label". The process manager composes it from the table, so a
 * domain cannot forge it: whatever it asks for comes after its own identity.
 *
 * A route sends the sessions of a service whose composed label matches (exactly,
 * or by prefix) to the server with a given label. Without a matching route, the one
 * server of the name serves; several servers and no route, or none, is SERVICE_DENIED.
 */
export const LABEL_SEPARATOR = ' -> '

export interface Route {
  /** The service name the route is for. */
  service: string
  /** The composed client label must equal this... */
  label?: string
  /** ...or start with this (neither: every client). */
  labelPrefix?: string
  /** The label of the server domain (its service label) that gets these sessions. */
  server: string
}

/** Join label parts, leaving out empty ones. */
export function composeLabel(parts: readonly string[]): string {
  return parts.filter((p) => p !== '').join(LABEL_SEPARATOR)
}

function textField(r: Record<string, unknown>, k: string, required: boolean): void {
  const v = r[k]
  if (v === undefined && !required) return
  if (typeof v !== 'string' || (required && v === '')) {
    throw new TypeError(`route.${k} must be a${required ? ' non-empty' : ''} string`)
  }
}

/** A route given by a user, checked (TypeError for a bad field); a fresh, frozen copy. */
export function checkRoute(x: unknown): Readonly<Route> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) {
    throw new TypeError('a route is an object { service, label?, labelPrefix?, server }')
  }
  const r = x as Record<string, unknown>
  for (const k of Object.keys(r)) {
    if (!['service', 'label', 'labelPrefix', 'server'].includes(k)) {
      throw new TypeError(`route has an unknown field '${k}'`)
    }
  }
  textField(r, 'service', true)
  textField(r, 'server', true)
  textField(r, 'label', false)
  textField(r, 'labelPrefix', false)
  if (r.label !== undefined && r.labelPrefix !== undefined) {
    throw new TypeError('a route matches by label or by labelPrefix, not both')
  }
  const out: Route = { service: r.service as string, server: r.server as string }
  if (r.label !== undefined) out.label = r.label as string
  if (r.labelPrefix !== undefined) out.labelPrefix = r.labelPrefix as string
  return Object.freeze(out)
}

/** True when `route` applies to a session of `service` for `label`. */
export function routeMatches(route: Readonly<Route>, service: string, label: string): boolean {
  if (route.service !== service) return false
  if (route.label !== undefined) return route.label === label
  if (route.labelPrefix !== undefined) return label.startsWith(route.labelPrefix)
  return true
}
