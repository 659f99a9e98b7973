/**
 * The boot path: the only code that starts spawnd workers and registers them with
 * the process manager (add_spawnd), at boot and when a failed core is restarted.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { randomInt } from 'node:crypto'
import { KernelError } from '../errors.js'
import { Channel } from '../ring/channel.js'
import { DEFAULT_SPIN, DOORBELL_BYTES, Doorbell } from '../ring/doorbell.js'
import { SpawndState } from './spawnd_state.js'
import { Runtime, type BootOptions } from './runtime.js'
import { positiveInt, withTimeout } from './util.js'

const SPAWND_URL = new URL('../../workers/spawnd.js', import.meta.url)

/** Start a runtime: one spawnd worker per core, each answering a first ping. */
export async function boot(opts: BootOptions = {}): Promise<Runtime> {
  const cores = positiveInt('cores', opts.cores, availableParallelism())
  const full = {
    cores,
    ringCapacity: positiveInt('ringCapacity', opts.ringCapacity, 65536),
    replyRingCapacity: positiveInt('replyRingCapacity', opts.replyRingCapacity, 1 << 20),
    maxDispatchers: positiveInt('maxDispatchers', opts.maxDispatchers, 1024),
    spin: opts.spin ?? DEFAULT_SPIN,
    hotSpinMicros: opts.hotSpinMicros ?? 20,
    maxArgBytes: positiveInt('maxArgBytes', opts.maxArgBytes, 2048),
    maxChildren: positiveInt('maxChildren', opts.maxChildren, 256),
    retainCleaned: positiveInt('retainCleaned', opts.retainCleaned, 10_000),
    maxDepth: positiveInt('maxDepth', opts.maxDepth, 16),
    maxHandles: positiveInt('maxHandles', opts.maxHandles, 64),
    shutdownTimeoutMs: positiveInt('shutdownTimeoutMs', opts.shutdownTimeoutMs, 5000),
  }
  const bootTimeoutMs = positiveInt('bootTimeoutMs', opts.bootTimeoutMs, 10_000)
  if (full.spin < 0 || !Number.isInteger(full.spin))
    throw new RangeError('spin must be a non-negative integer')
  if (full.hotSpinMicros < 0) throw new RangeError('hotSpinMicros must be non-negative')
  const bellBuffer = new SharedArrayBuffer(DOORBELL_BYTES)
  const mainBell = Doorbell.init(bellBuffer, 0)
  const rt = new Runtime(full, mainBell)
  // The process manager's secret, stamped on every request.
  const token = randomInt(1, 0x7fffffff)
  const startSpawnd = (core: number): SpawndState => {
    const chan = Channel.create({
      capacity: full.ringCapacity,
      replyCapacity: full.replyRingCapacity,
      spin: full.spin,
    })
    const worker = new Worker(SPAWND_URL, {
      workerData: {
        core,
        channel: chan.buffer,
        mainBell: bellBuffer,
        mainBellOffset: 0,
        token,
        maxDispatchers: full.maxDispatchers,
        spin: full.spin,
      },
      name: `spawnd-${core}`,
    })
    return new SpawndState(core, chan, worker, token)
  }
  for (let core = 0; core < cores; core++) rt.register(startSpawnd(core))
  rt.setSpawndFactory(startSpawnd)
  rt.start()
  const up = await withTimeout(
    Promise.all(Array.from({ length: cores }, (_, core) => rt.ping(core))).then(
      () => 'up' as const,
      (err: unknown) => err,
    ),
    bootTimeoutMs,
  )
  if (up !== 'up') {
    await rt.shutdown()
    if (up === 'timeout')
      throw new KernelError('TIMEOUT', `spawnds did not answer within ${bootTimeoutMs} ms`)
    throw KernelError.push(up, 'INVALID_SPAWND', 'a spawnd failed to boot')
  }
  return rt
}
