/**
 * Starting a spawnd: a fresh channel and gauge block, and a worker running
 * workers/spawnd.ts handed its typed boot data, with its V8 heap bounded
 * (resourceLimits). The only code that makes spawnd workers.
 */
import { MessageChannel, Worker } from 'node:worker_threads'
import { Channel } from '../ring/channel.js'
import { OUT_OF_MEMORY } from '../protocol/core_fault.js'
import { gaugeBuffer } from '../protocol/core_gauges.js'
import { workerUrl, type SpawndBoot } from '../protocol/spawnd_boot.js'
import { SpawndLink } from './spawnd_link.js'

/** How the spawnds and their channels are made. */
export interface LinkConfig {
  /** Bytes of each request ring (process manager -> spawnd), a power of two. */
  ringCapacity: number
  /** Bytes of each reply ring (spawnd -> process manager), a power of two. */
  replyRingCapacity: number
  /** Dispatcher table size of each spawnd (its ps table). */
  maxDispatchers: number
  /** Doorbell spin iterations before sleeping, on both sides. */
  spin: number
  /** How long the main thread polls for replies after publishing requests. */
  hotSpinMicros: number
  /** Node flags of the spawnd workers; undefined inherits the parent's (runtime/exec_argv.ts). */
  execArgv?: string[]
  /**
   * Each core's hard V8 heap limit, MiB (its worker's maxOldGenerationSizeMb); the
   * supervisor's memory watcher ends a core well before it. Absent: Node's default.
   */
  heapLimitMb?: number
}

/** Start `core`'s spawnd; `bell` is the process manager's doorbell, `token` its secret. */
export function startSpawnd(
  core: number,
  config: LinkConfig,
  bell: SharedArrayBuffer,
  token: number,
): SpawndLink {
  const chan = Channel.create({
    capacity: config.ringCapacity,
    replyCapacity: config.replyRingCapacity,
    spin: config.spin,
  })
  const gauges = gaugeBuffer()
  const monitor = new MessageChannel()
  const workerData: SpawndBoot = {
    core,
    channel: chan.buffer,
    mainBell: bell,
    mainBellOffset: 0,
    token,
    maxDispatchers: config.maxDispatchers,
    spin: config.spin,
    gauges,
    monitor: monitor.port2,
  }
  const worker = new Worker(workerUrl('spawnd'), {
    workerData,
    transferList: [monitor.port2],
    name: `spawnd-${core}`,
    execArgv: config.execArgv,
    resourceLimits:
      config.heapLimitMb === undefined ? undefined : { maxOldGenerationSizeMb: config.heapLimitMb },
  })
  // The main thread's end never keeps the process alive.
  monitor.port1.unref()
  return new SpawndLink(core, chan, worker, token, new Int32Array(gauges), monitor.port1)
}

/** Why a worker's 'error' ended its core: out of memory says so (the first words are the rule). */
export function workerErrorWhy(err: Error): string {
  const code = (err as Error & { code?: unknown }).code
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return `${OUT_OF_MEMORY}: V8 heap limit (${err.message})`
  return `worker error: ${err.message}`
}
