/**
 * A server end a spawnd holds for one of its domains: the session's port (in the
 * end), the dispatcher that serves it, and the handlers its close and upgrade run.
 */
import type { ServeHandlers, ServerEnd } from '../src/session/serve.js'
import type { Dispatcher } from './dispatcher.js'

export interface Served {
  end: ServerEnd
  d: Dispatcher
  handlers: Readonly<ServeHandlers>
}
