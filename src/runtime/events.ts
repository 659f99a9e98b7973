/**
 * The runtime's one event bus: the kernel's events and the supervisor's, each
 * layer publishing its own (kernel/events.ts, supervisor/events.ts).
 */
import { EventBus, type KernelEvent } from '../kernel/events.js'
import type { SupervisorEvent } from '../supervisor/events.js'

export type RuntimeEvent = KernelEvent | SupervisorEvent

export type RuntimeEventType = RuntimeEvent['type']

export {
  DEFAULT_EVENT_BUFFER,
  EventIterator,
  type EventIteratorOptions,
} from '../kernel/event_iterator.js'

/** rt.events: an EventEmitter (one event name per type, and 'event') and an async iterator. */
export class RuntimeEvents extends EventBus<RuntimeEvent> {}
