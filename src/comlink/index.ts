/**
 * multikernel/comlink: comlink over the rings. `Comlink.wrap(endpoint(session))`
 * and `Comlink.expose(obj, endpoint(session))` between the main thread and a domain
 * or between two domains; callbacks passed with `Comlink.proxy` travel as
 * sub-channels of the same session; pending calls reject SESSION_CLOSED when the
 * session ends. Loading this module puts the ring proxy handler in place.
 */
import { installProxyHandler } from './proxy_handler.js'

installProxyHandler()

export { RingEndpoint, type RingEndpointStats, type MessageListener } from './endpoint.js'
export {
  endpoint,
  wrapSession,
  exposeSession,
  exposeService,
  comlinkStats,
  type ServeHost,
  type ServiceFactory,
  type ExposeServiceOptions,
} from './service.js'
export { installProxyHandler, uninstallProxyHandler } from './proxy_handler.js'
export { comlinkQuiet } from './quiet.js'
