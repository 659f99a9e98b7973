/**
 * The main thread's handle on the bridge worker (workers/bridge.ts), started at
 * the first session that has one local and one remote end. Sessions handed to it
 * before it is connected wait in its port's queue.
 */
import { Worker } from 'node:worker_threads'
import { workerUrl } from '../protocol/spawnd_boot.js'
import { Channel } from '../ring/channel.js'
import { reasonToWord } from '../session/end_reason.js'
import type { BrokerOptions } from './broker.js'
import type { Secret } from './handshake.js'
import type { BridgeSpec } from './session_bridge.js'

/** A session whose carrier failed ends as one whose core failed. */
const CORE_FAILED = reasonToWord('core-failed')

export class BridgeWorker {
  private worker: Worker | null = null
  /** The channels it carries (pruned as they close): closed here if it dies. */
  private readonly carried = new Set<SharedArrayBuffer>()

  constructor(
    private readonly broker: BrokerOptions,
    private readonly secret: Secret,
    private readonly name: string,
  ) {}

  /** Carry a session end (the remote end's stand-in, on its side of the channel). */
  bridge(spec: BridgeSpec): void {
    for (const b of this.carried) if (new Channel(b, 'a', 0).closed) this.carried.delete(b)
    this.carried.add(spec.buffer)
    this.started().postMessage({ t: 'bridge', spec })
  }

  private started(): Worker {
    if (this.worker === null) {
      this.worker = new Worker(workerUrl('bridge'), {
        workerData: { broker: this.broker, secret: new Uint8Array(this.secret), name: this.name },
        name: 'multikernel-bridge',
      })
      // An open runtime keeps itself alive (the pump's handle); this worker need not.
      this.worker.unref()
      this.worker.on('error', () => {
        // Nobody relays its sessions any more: close them, so their ends hear of it.
        this.worker = null
        for (const b of this.carried) new Channel(b, 'a', 0).close(CORE_FAILED)
        this.carried.clear()
      })
    }
    return this.worker
  }

  /** Close the sessions it carries and end it. */
  async close(): Promise<void> {
    const w = this.worker
    this.worker = null
    if (w === null) return
    w.postMessage({ t: 'close' })
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => void w.terminate().then(() => resolve()), 1000)
      w.once('exit', () => {
        clearTimeout(t)
        resolve()
      })
    })
  }
}
