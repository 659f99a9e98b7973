/**
 * The supervisor's own events, published into the runtime's one event bus beside
 * the kernel's (kernel/events.ts).
 */
export type SupervisorEvent = { time: number } & (
  | { type: 'core-hung'; core: number; silentMs: number }
  | { type: 'core-restarted'; core: number; attempt: number }
  | { type: 'core-out-of-memory'; core: number; why: string }
  | { type: 'core-unhealthy'; core: number; protocolFailures: number }
  | { type: 'core-retired'; core: number; modules: number }
  | { type: 'domain-hung'; domainId: number; label: string; skippedBeats: number }
  | { type: 'restart-scheduled'; label: string; delayMs: number; attempt: number; why: string }
  | { type: 'restarted'; label: string; domainId: number; attempt: number }
  | { type: 'gave-up'; label: string; restarts: number; withinMs: number }
  | { type: 'service-up'; label: string; domainId: number }
  | { type: 'service-down'; label: string }
  | { type: 'update-started'; label: string; program: string }
  | { type: 'updated'; label: string; domainId: number; version: number }
  | { type: 'update-rolled-back'; label: string; why: string }
)
