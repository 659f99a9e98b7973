/**
 * multikernel: a multikernel process runtime for Node.js. The public API.
 */
export { boot, type BootOptions } from './runtime/boot.js'
export { Runtime } from './runtime/runtime.js'
export {
  RuntimeEvents,
  EventIterator,
  DEFAULT_EVENT_BUFFER,
  type EventIteratorOptions,
  type RuntimeEvent,
  type RuntimeEventType,
} from './runtime/events.js'
export type { SpawnOptions, WaitOptions, KillOptions } from './kernel/kernel.js'
export type { CoreStats, NodeInfo } from './link/link.js'
export type { RemoteOptions } from './remote/options.js'
export type { BrokerOptions } from './remote/broker.js'
export type { SpawndHealth } from './link/spawnd_link.js'
export { DomainCap } from './kernel/cap.js'
export type {
  DomainState,
  DomainStatus,
  ExitReason,
  TreeState,
  WaitResult,
} from './kernel/domain_table.js'
export type { TreeNode } from './kernel/process_tree.js'
export { KILLED_EXIT_CODE, CORE_FAILED_EXIT_CODE } from './protocol/opcodes.js'
export type { PsEntry } from './protocol/messages.js'
export type { ErrorText } from './protocol/error_text.js'
export type {
  DomainContext,
  DomainMain,
  DomainInfo,
  ChildSpawnOptions,
  ChildExit,
  ChildInfo,
  Handle,
  HandleInfo,
  SessionOptions,
  UpdateHandler,
  ResourceRequestHandler,
  YieldRequestHandler,
} from './domain/context.js'
export type { Session } from './session/session.js'
export type { SessionRequest, ServeHandlers } from './session/serve.js'
export type { SessionEndReason } from './session/end_reason.js'
export type { SessionState } from './session/state.js'
export type { Quota } from './session/quota.js'
export type { Route } from './session/route.js'
export type { SessionInfo } from './kernel/sessions.js'
export type {
  QuotaTotals,
  RootResourceRequest,
  RootServeOptions,
  RootSessionOptions,
} from './kernel/session_root.js'
export { DomainExit } from './domain/context.js'
export {
  Services,
  MINIX_BACKOFF,
  type SupervisorOptions,
  type ServiceOptions,
  type ServiceInfo,
  type RestartPolicy,
  type ServiceState,
  type RestartLimits,
  type CoreMemoryOptions,
} from './supervisor/index.js'
export type { UpdateOptions } from './supervisor/update.js'
export { KernelError, type KernelErrorCode } from './errors.js'

/** The boot options under their older name. */
export type { BootOptions as MultikernelOptions } from './runtime/boot.js'
