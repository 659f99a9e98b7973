/**
 * The spawnd's loop on one core: it drains its request ring, hands each request to
 * its handler (requests.ts), and publishes the replies once per batch; Barrelfish's
 * spawnd, with the process manager's channel as its only client.
 *
 * The worker's event loop is shared with the domains it hosts: their promises,
 * timers and I/O only progress while the loop turns. So the spawnd blocks in
 * Atomics.wait only when it hosts nothing and has nothing in flight; otherwise it
 * waits with Atomics.waitAsync and yields to the loop between drained batches
 * (piscina's "sync" atomics mode freezes its workers' loops: the trap avoided here).
 *
 * A request it cannot handle is answered PROTOCOL (the supervisor restarts a core
 * whose protocol keeps failing), so the loop never dies with every domain on it.
 */
import { Op } from '../src/protocol/opcodes.js'
import { encodeError } from '../src/protocol/error_text.js'
import type { SpawndBoot } from '../src/protocol/spawnd_boot.js'
import {
  SafeClearInterval,
  SafePromise,
  SafeSetImmediate,
  SafeSetInterval,
} from '../src/intrinsics.js'
import { SpawndRequests } from './requests.js'

const MAX_BATCH = 256

export class Spawnd extends SpawndRequests {
  private readonly readable: () => boolean
  private readonly closed: () => boolean

  constructor(boot: SpawndBoot) {
    super(boot)
    this.readable = () => !this.rx.isEmpty() || this.chan.closed
    this.closed = () => this.chan.closed
  }

  async run(): Promise<void> {
    // A pending Atomics.waitAsync does not keep a worker alive: hold a handle.
    const keepAlive = SafeSetInterval(() => {}, 1 << 30)
    this.gauges.start()
    while (!this.stopping) {
      const n = this.drain()
      if (this.stopping || this.chan.closed) break
      const busy =
        this.running > 0 ||
        this.inFlight > 0 ||
        this.port.backlog > 0 ||
        this.calls.size > 0 ||
        this.sessions.pending > 0
      if (n > 0) {
        // Let the domains' promises and timers run between batches.
        if (busy) await yieldToLoop()
        continue
      }
      if (busy) {
        // A full reply ring is retried soon; otherwise sleep until rung (bounded).
        await this.chan.rxBell.waitAsync(this.readable, this.spin, this.port.backlog > 0 ? 1 : 50)
      } else {
        this.chan.rxBell.waitSync(this.readable, this.spin, 1000)
      }
    }
    this.ps.forEach((d) => this.stopDispatcher(d))
    // Answers still waiting for room in the reply ring (SHUTDOWN's among them) must go
    // out before the worker ends, or their clients get SHUTDOWN for work that was done.
    while (this.port.backlog > 0 && !this.chan.closed) {
      this.port.flush()
      if (this.port.backlog > 0) await this.chan.rxBell.waitAsync(this.closed, this.spin, 1)
    }
    this.gauges.stop()
    this.sessions.close()
    SafeClearInterval(keepAlive)
  }

  /** Handle up to MAX_BATCH requests; release them, then publish the replies once. */
  private drain(): number {
    this.inBatch = true
    let n = 0
    try {
      this.port.pump()
      const rx = this.rx
      for (; n < MAX_BATCH; n++) {
        const at = rx.poll()
        if (at < 0) break
        this.guarded(at)
      }
      // poll() may have passed a wrap marker with no frame after it: release those
      // bytes too, or a request that needs them never fits (usedBytes is then > 0).
      if (n > 0 || rx.usedBytes() !== 0) this.chan.release()
    } finally {
      this.inBatch = false
    }
    this.port.flush()
    if (n > 0) this.noteHosting()
    return n
  }

  /**
   * Handle one request; one the spawnd cannot handle (a realm intrinsic it did not
   * take for itself broken by a domain, a bug) is answered PROTOCOL, so its client
   * hears of it and the supervisor can judge the core, instead of the loop dying
   * with every domain on it.
   */
  private guarded(at: number): void {
    const h = this.in
    h.op = 0
    h.tag = 0
    try {
      this.handle(at)
    } catch (err) {
      if (h.op === Op.RESULT) return this.calls.unreadable(h.tag)
      try {
        this.reply(h.tag, 'PROTOCOL', 0, encodeError(err, false))
      } catch {
        this.reply(h.tag, 'PROTOCOL', 0, null)
      }
    }
  }
}

function yieldToLoop(): Promise<void> {
  return new SafePromise((resolve) => SafeSetImmediate(resolve))
}
