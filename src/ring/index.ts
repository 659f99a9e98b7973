/**
 * multikernel/ring: the shared-memory layer, public for users who build their own
 * throughput benchmarks and contention tests. Bytes only; it knows nothing of
 * processes.
 */
export { SpscRing, frameBytes, FRAME_HEADER_BYTES, RING_MAGIC, RING_VERSION } from './spsc.js'
export { MpmcRing, type MpmcOptions, MPMC_MAGIC, MPMC_VERSION } from './mpmc.js'
export {
  Doorbell,
  DOORBELL_BYTES,
  DEFAULT_SPIN,
  DEFAULT_ASYNC_TIMEOUT_MS,
  type ReadyCheck,
} from './doorbell.js'
export {
  Channel,
  type ChannelOptions,
  type ChannelSide,
  CHANNEL_MAGIC,
  CHANNEL_VERSION,
} from './channel.js'
export { KernelError, type KernelErrorCode } from '../errors.js'
