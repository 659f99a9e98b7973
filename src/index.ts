/**
 * multikernel: a multikernel process runtime for Node.js. The public API.
 */
import { boot as bootKernel } from './kernel/boot.js'
import type { BootOptions } from './kernel/runtime.js'
import type { Runtime } from './kernel/runtime.js'
import { attachSupervisor, type SupervisorOptions } from './supervisor/index.js'

export interface MultikernelOptions extends BootOptions {
  /** Supervision (heartbeats, restarts). */
  supervisor?: SupervisorOptions
}

/**
 * Start a runtime: one spawnd worker per core, the process manager on this
 * thread, and the reincarnation server watching the cores.
 */
export async function boot(opts: MultikernelOptions = {}): Promise<Runtime> {
  const { supervisor, ...kernel } = opts
  const rt = await bootKernel(kernel)
  try {
    attachSupervisor(rt, supervisor)
  } catch (err) {
    await rt.shutdown()
    throw err
  }
  return rt
}

export { Runtime } from './kernel/runtime.js'
export type {
  BootOptions,
  SpawnOptions,
  WaitOptions,
  KillOptions,
  CoreStats,
} from './kernel/runtime.js'
export { DomainCap } from './kernel/cap.js'
export type {
  DomainState,
  DomainStatus,
  ExitReason,
  TreeState,
  WaitResult,
} from './kernel/domain_table.js'
export type { TreeNode } from './kernel/process_tree.js'
export { RuntimeEvents, type RuntimeEvent, type RuntimeEventType } from './kernel/events.js'
export { KILLED_EXIT_CODE, CORE_FAILED_EXIT_CODE } from './kernel/process_manager.js'
export type { PsEntry, ErrorText } from './protocol/messages.js'
export type {
  DomainContext,
  DomainMain,
  DomainInfo,
  ChildSpawnOptions,
  ChildExit,
  ChildInfo,
  Handle,
  HandleInfo,
} from './domain/context.js'
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
} from './supervisor/index.js'
export { KernelError, type KernelErrorCode } from './errors.js'
