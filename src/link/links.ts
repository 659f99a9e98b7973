/**
 * SpawndLinks: the main thread's half of the wire to the local cores, one spawnd
 * worker per core over a SharedArrayBuffer channel (Barrelfish keeps one
 * `spawnd_state` per core). Requests go out by the request path (requests.ts) and
 * replies come back by the reply drain (reply_drain.ts), which hands EXIT and CALL
 * frames to the handlers the boot path wired. This file is the spawnds' lifecycle:
 * it starts and registers them (add_spawnd: no one else can), puts a fresh one in
 * a retired or failed one's place, and turns a dead or hung worker into answered
 * requests and a coreDown; and it shuts them down. What a request means for a
 * domain is the process manager's business, above this.
 */
import { randomInt } from 'node:crypto'
import { KernelError } from '../errors.js'
import { Op } from '../protocol/opcodes.js'
import {
  ERR_CORE_FAILED,
  ERR_SHUTDOWN,
  type CoreLinkView,
  type CoreStats,
  type KernelLinks,
  type NodeInfo,
  type LinkHandlers,
} from './link.js'
import { deliver } from './receive_queue.js'
import { NO_HANDLERS } from './reply_drain.js'
import { LinkRequests } from './requests.js'
import type { SpawndLink, SpawndHealth } from './spawnd_link.js'
import { startSpawnd, workerErrorWhy, type LinkConfig } from './spawnd_start.js'
import { withTimeout } from './timers.js'

export type { LinkConfig } from './spawnd_start.js'

export type { CoreStats } from './link.js'

export class SpawndLinks extends LinkRequests implements KernelLinks {
  /** Shutdown began: a worker that ends now is 'down', not 'failed'. */
  private closing = false
  /** Shutdown ended: late worker events change nothing. */
  private closed = false
  /** The process manager's secret, stamped on every request. */
  private readonly token = randomInt(1, 0x7fffffff)

  constructor(private readonly config: LinkConfig) {
    super(config.hotSpinMicros)
  }

  /** Wire EXIT, CALL and core-down to the domain side (the boot path does, once). */
  attach(handlers: LinkHandlers): void {
    if (this.replies.handlers !== NO_HANDLERS) throw new Error('link handlers are already attached')
    this.replies.handlers = handlers
  }

  /** Start `cores` spawnds and the pump; resolves once every one answered a ping. */
  start(cores: number): Promise<void> {
    for (let core = 0; core < cores; core++)
      this.register(startSpawnd(core, this.config, this.bellBuffer, this.token))
    this.pump.start()
    return Promise.all(this.spawnds.map((s) => this.ping(s.core))).then(() => undefined)
  }

  /**
   * Start a fresh spawnd on a failed core's number (the reincarnation path).
   * Resolves once it answered a ping.
   */
  async restart(core: number): Promise<void> {
    if (this.closing) throw new KernelError('SHUTDOWN', 'restartCore: the runtime is shut down')
    const old = this.spawnd(core)
    if (old.health !== 'failed') {
      throw new KernelError('SPAWND_EXISTS', `core ${core} is ${old.health}, not failed`)
    }
    this.register(startSpawnd(core, this.config, this.bellBuffer, this.token))
    await this.ping(core)
  }

  /**
   * Retire `core`'s spawnd and put a fresh one in its place at once (the module
   * cache bound): requests made from now on go to the fresh one's ring and wait
   * there while it boots. Only for a core that hosts nothing and has answered every
   * request (the caller checks the gauges), so nobody is lost with the old worker,
   * whose channel is closed and worker ended. Resolves once the fresh one answered a ping.
   */
  async retire(core: number): Promise<void> {
    const old = this.spawnd(core)
    if (this.closing || old.health !== 'up') return
    // What it published before it went idle (an EXIT, say) is read now, before its
    // ring is dropped: it publishes before it stores IDLE.
    this.replies.drain(old)
    old.health = 'failed'
    old.failure = 'retired'
    this.register(startSpawnd(core, this.config, this.bellBuffer, this.token))
    old.chan.close()
    void old.worker.terminate()
    await this.ping(core)
  }

  /** add_spawnd: a fresh spawnd takes its core number (a new one, or a failed one's). */
  private register(s: SpawndLink): void {
    const old = this.spawnds[s.core]
    if (old !== undefined && old.health !== 'failed') {
      throw new KernelError('SPAWND_EXISTS', `core ${s.core} already has a spawnd`)
    }
    this.spawnds[s.core] = s
    // A replaced worker's late events must not touch its successor: check identity.
    const failed = (why: string): void => {
      if (this.spawnds[s.core] === s && !this.closed) {
        this.fail(s.core, this.closing ? 'down' : 'failed', why)
      }
    }
    s.worker.on('error', (err: Error) => failed(workerErrorWhy(err)))
    s.worker.on('exit', (code: number) => failed(`worker exited with code ${code}`))
  }

  /** What the supervisor's watchers read of a core that is up (its gauges); else null. */
  coreLink(core: number): CoreLinkView | null {
    const s = this.spawnds[core]
    return s === undefined || s.health !== 'up' ? null : s
  }

  /** Read every reply ring now (before judging a core silent). */
  pollReplies(): void {
    this.pump.drainAll()
  }

  // ------------------------------------------------------------ failure and shutdown

  /**
   * Mark a core failed (or down at shutdown), answer everything queued on it, then
   * tell the domain side. Replies it published before it ended are taken first, so
   * only unanswered requests fail. False when it was not up.
   */
  fail(core: number, health: 'failed' | 'down', why = 'worker ended'): boolean {
    const s = this.spawnds[core]
    if (s === undefined || s.health !== 'up') return false
    this.replies.drain(s)
    s.health = health
    s.failure = why
    s.sender.clear()
    const code = health === 'down' ? ERR_SHUTDOWN : ERR_CORE_FAILED
    for (const h of s.receiveQueue.takeAll()) deliver(h, code, 0, null)
    this.replies.handlers.coreDown(core, health, why)
    return true
  }

  /** Declare a core failed (hung) and end its worker. */
  async terminate(core: number, why: string): Promise<void> {
    const s = this.spawnd(core)
    this.fail(core, 'failed', why)
    s.chan.close()
    await s.worker.terminate()
  }

  /** Shutdown has begun: a worker ending from now on is 'down'. */
  beginClose(): void {
    this.closing = true
  }

  /**
   * Stop every spawnd (waiting at most `timeoutMs` for their answers), answer what
   * is left SHUTDOWN, end the pump and the workers.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true
    const byes = this.spawnds.map((s) => this.stopSpawnd(s))
    await withTimeout(Promise.all(byes), timeoutMs)
    for (const s of this.spawnds) this.fail(s.core, 'down')
    this.closed = true
    const pumpStopped = this.pump.stop()
    await Promise.all(
      this.spawnds.map(async (s) => {
        s.chan.close()
        await s.worker.terminate()
      }),
    )
    await pumpStopped
  }

  /** Ask a spawnd to end its loop; resolves when it answered (or cannot). */
  private stopSpawnd(s: SpawndLink): Promise<void> {
    return new Promise((resolve) => this.request(s.core, Op.SHUTDOWN, 0, 0, null, () => resolve()))
  }

  // ------------------------------------------------------------ health and counters

  /** Local links have no nodes. */
  nodes(): NodeInfo[] {
    return []
  }

  /** Health of every core. */
  health(): SpawndHealth[] {
    return this.spawnds.map((s) => s.health)
  }

  /** Counters per core. */
  stats(): CoreStats[] {
    return this.spawnds.map((s) => ({
      core: s.core,
      health: s.health,
      sendQueue: s.sender.backlog,
      receiveQueue: s.receiveQueue.size,
      requests: s.requests,
      replies: s.replies,
      notifications: s.notifications,
      strayReplies: s.receiveQueue.strayReplies,
      requestRingBytes: s.chan.tx.usedBytes(),
      replyRingBytes: s.chan.rx.usedBytes(),
      lastSeenAgoMs: Date.now() - s.lastSeen,
      protocolFailures: s.protocolFailures,
    }))
  }
}
