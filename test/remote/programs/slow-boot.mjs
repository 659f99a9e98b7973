// Preloaded into a node (NODE_OPTIONS=--import): in every worker thread, so in every
// spawnd, a synchronous wait before anything else runs: a spawnd that takes long to
// boot, as on a loaded host. The node's own thread is left alone.
import { isMainThread } from 'node:worker_threads'

if (!isMainThread) {
  const end = Date.now() + Number(process.env.SLOW_BOOT_MS ?? 1500)
  while (Date.now() < end) {
    // Busy: the worker cannot answer anything meanwhile.
  }
}
