/**
 * multikernel: a multikernel process runtime for Node.js. The public API.
 */
export { boot, Runtime } from './kernel/runtime.js'
export type { BootOptions, SpawnOptions, WaitOptions, CoreStats } from './kernel/runtime.js'
export { DomainCap } from './kernel/cap.js'
export type { DomainState, DomainStatus, ExitReason, WaitResult } from './kernel/domain_table.js'
export { KILLED_EXIT_CODE, CORE_FAILED_EXIT_CODE } from './kernel/process_manager.js'
export type { PsEntry, ErrorText } from './protocol/messages.js'
export type { DomainContext, DomainMain } from './domain/context.js'
export { DomainExit } from './domain/context.js'
export { KernelError, type KernelErrorCode } from './errors.js'
