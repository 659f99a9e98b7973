/**
 * How a spawnd is started: the worker entry point and the boot data it is handed
 * (its workerData), typed once for the boot path that sends it and the spawnd
 * that reads it.
 */

import type { MessagePort } from 'node:worker_threads'

/** What the process manager hands a new spawnd (workerData). */
export interface SpawndBoot {
  core: number
  /** The channel's buffer (Channel.create on the main thread, Channel.attach in the worker). */
  channel: SharedArrayBuffer
  /** The process manager's doorbell, shared by every spawnd: rung after each publish. */
  mainBell: SharedArrayBuffer
  mainBellOffset: number
  /** The process manager's secret: a request without it is refused (NOT_PROC_MNGR). */
  token: number
  maxDispatchers: number
  spin: number
  /** The core's gauges (core_gauges.ts): memory, modules loaded, idleness. */
  gauges: SharedArrayBuffer
  /**
   * The monitor's port (Barrelfish's monitor binds UMP channels): how the process
   * manager hands this core the buffer of a session's channel. Private to the
   * spawnd: unlike `parentPort`, no domain can listen on it.
   */
  monitor: MessagePort
}

/** What the monitor port carries: one session channel's buffer for this core. */
export interface ChannelBinding {
  session: number
  buffer: SharedArrayBuffer
}

/** The worker entry points of the package's top-level `workers/` folder. */
export type WorkerEntry = 'spawnd' | 'bridge'

/**
 * The URL of a worker entry point. The published layout puts this file at
 * dist/src/protocol/ and the workers at dist/workers/: the one place that knows it.
 */
export function workerUrl(entry: WorkerEntry): URL {
  return new URL(`../../workers/${entry}.js`, import.meta.url)
}
