/**
 * SpawndLinks: the main thread's half of the wire to the local cores, one spawnd
 * worker per core over a SharedArrayBuffer channel (Barrelfish keeps one
 * `spawnd_state` per core). It starts and registers the spawnds (add_spawnd: no
 * one else can), sends requests through each core's sender into its ring,
 * matches replies to the receive queue by tag, hands EXIT and CALL frames to the
 * handlers the boot path wired, and turns a dead or hung worker into answered
 * requests and a coreDown. What a request means for a domain is the process
 * manager's business, above this.
 */
import { randomInt } from 'node:crypto'
import type { Worker } from 'node:worker_threads'
import { KernelError } from '../errors.js'
import { DOORBELL_BYTES, Doorbell } from '../ring/doorbell.js'
import { ERR_OK, errFromWire, errToWire } from '../protocol/errcodes.js'
import { decodeError } from '../protocol/error_text.js'
import { frameHeader, readHeader, readText, wellFormed } from '../protocol/frame.js'
import type { PsEntry } from '../protocol/messages.js'
import { Op } from '../protocol/opcodes.js'
import {
  ERR_CORE_FAILED,
  ERR_SHUTDOWN,
  type CoreLinks,
  type LinkHandlers,
  type ReplyHandler,
} from './link.js'
import { Pump } from './pump.js'
import { deliver } from './receive_queue.js'
import type { SpawndLink, SpawndHealth } from './spawnd_link.js'
import { startSpawnd, workerErrorWhy, type LinkConfig } from './spawnd_start.js'
import { withTimeout } from './timers.js'

export type { LinkConfig } from './spawnd_start.js'

/** Per-core counters, for dashboards and benchmarks. */
export interface CoreStats {
  core: number
  health: SpawndHealth
  /** Requests waiting for ring room (the send queue). */
  sendQueue: number
  /** Clients waiting for replies (the receive queue). */
  receiveQueue: number
  requests: number
  replies: number
  notifications: number
  /** Replies whose tag named no waiting client: counted and dropped, never read. */
  strayReplies: number
  /** Bytes published and not yet consumed in the request ring (PM -> spawnd). */
  requestRingBytes: number
  /** Bytes published and not yet consumed in the reply ring (spawnd -> PM). */
  replyRingBytes: number
  /** Milliseconds since the core last answered anything. */
  lastSeenAgoMs: number
  /** Replies in a row that said the core could not follow the protocol (PROTOCOL, malformed). */
  protocolFailures: number
}

const ERR_PROTOCOL = errToWire('PROTOCOL')

const NO_HANDLERS: LinkHandlers = {
  exit() {},
  call() {},
  coreDown() {},
}

export class SpawndLinks implements CoreLinks {
  readonly spawnds: SpawndLink[] = []
  readonly pump: Pump
  private handlers = NO_HANDLERS
  private nextCore = 0
  /** Shutdown began: a worker that ends now is 'down', not 'failed'. */
  private closing = false
  /** Shutdown ended: late worker events change nothing. */
  private closed = false
  private readonly bellBuffer = new SharedArrayBuffer(DOORBELL_BYTES)
  /** The process manager's secret, stamped on every request. */
  private readonly token = randomInt(1, 0x7fffffff)
  /** The one header replies are read into. */
  private readonly in = frameHeader()

  constructor(private readonly config: LinkConfig) {
    const mainBell = Doorbell.init(this.bellBuffer, 0)
    this.pump = new Pump(this, mainBell, config.hotSpinMicros / 1000)
  }

  get cores(): number {
    return this.spawnds.length
  }

  /** Wire EXIT, CALL and core-down to the domain side (the boot path does, once). */
  attach(handlers: LinkHandlers): void {
    if (this.handlers !== NO_HANDLERS) throw new Error('link handlers are already attached')
    this.handlers = handlers
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
    this.drain(old)
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

  /** The live link of `core`; INVALID_SPAWND for a core that does not exist. */
  spawnd(core: unknown): SpawndLink {
    return this.spawnds[this.check(core)]
  }

  check(core: unknown): number {
    if (typeof core !== 'number' || !Number.isInteger(core)) {
      throw new KernelError('INVALID_SPAWND', `core must be an integer, got ${String(core)}`)
    }
    if (this.spawnds[core] === undefined) {
      throw new KernelError(
        'INVALID_SPAWND',
        `no spawnd on core ${core} (cores 0..${this.spawnds.length - 1})`,
      )
    }
    return core
  }

  isUp(core: number): boolean {
    return this.spawnds[core]?.health === 'up'
  }

  /** Health of every core. */
  health(): SpawndHealth[] {
    return this.spawnds.map((s) => s.health)
  }

  /** The worker running `core`'s spawnd. */
  worker(core: number): Worker {
    return this.spawnd(core).worker
  }

  // ------------------------------------------------------------ requests

  /** Queue a request for `core` (answered CORE_FAILED/SHUTDOWN at once if it is not up). */
  request(
    core: number,
    op: number,
    domainId: number,
    arg: number,
    text: string | null,
    h: ReplyHandler,
  ): void {
    const s = this.spawnds[core]
    if (s.health !== 'up') return this.refuse(s, h)
    s.request(op, domainId, arg, text, h)
    this.pump.schedule()
  }

  requestSpawn(
    core: number,
    op: number,
    domainId: number,
    url: string,
    argv: readonly string[],
    env: Readonly<Record<string, string>>,
    h: ReplyHandler,
  ): void {
    const s = this.spawnds[core]
    if (s.health !== 'up') return this.refuse(s, h)
    s.requestSpawn(op, domainId, url, argv, env, h)
    this.pump.schedule()
  }

  /** A request for a core that is not up: answered asynchronously, like any reply, so callers never re-enter. */
  private refuse(s: SpawndLink, h: ReplyHandler): void {
    const code = s.health === 'down' ? ERR_SHUTDOWN : ERR_CORE_FAILED
    queueMicrotask(() => deliver(h, code, 0, null))
  }

  answer(core: number, tag: number, callerId: number, err: number, text: string | null): void {
    const s = this.spawnds[core]
    if (s === undefined || s.health !== 'up') return
    s.answer(Op.RESULT, tag, callerId, err, text)
    this.pump.schedule()
  }

  replyError(err: number, text: string | null, what: string, core: number): KernelError {
    if (err === ERR_CORE_FAILED) {
      const why = this.spawnds[core]?.failure ?? ''
      return new KernelError(
        'CORE_FAILED',
        `${what}: core ${core} failed${why === '' ? '' : ` (${why})`}`,
      )
    }
    if (err === ERR_SHUTDOWN)
      return new KernelError('SHUTDOWN', `${what}: the runtime is shut down`)
    return decodeError(errFromWire(err), text, what)
  }

  ping(core: number, value = 0): Promise<number> {
    this.check(core)
    return new Promise((resolve, reject) => {
      this.request(core, Op.PING, 0, value, null, (err, v, text) => {
        if (err === ERR_OK) resolve(v)
        else reject(this.replyError(err, text, 'ping', core))
      })
    })
  }

  /**
   * `count` pings pipelined on one core with at most `window` in flight, answered
   * together (the throughput path). Each reply sends the next request from inside
   * the drain, so a whole batch of replies refills the ring with one publish.
   */
  pingMany(core: number, count: number, window: number): Promise<void> {
    this.check(core)
    return new Promise((resolve, reject) => {
      let unsent = count
      let unanswered = count
      let failed = false
      if (count === 0) return resolve()
      const h: ReplyHandler = (err, _v, text) => {
        if (err !== ERR_OK) {
          if (!failed) reject(this.replyError(err, text, 'ping', core))
          failed = true
        }
        if (unsent > 0 && !failed) {
          unsent--
          this.request(core, Op.PING, 0, unsent, null, h)
        }
        if (--unanswered === 0 && !failed) resolve()
        if (failed && unsent > 0) {
          unanswered -= unsent
          unsent = 0
        }
      }
      const first = Math.min(window, count)
      unsent = count - first
      for (let i = 0; i < first; i++) this.request(core, Op.PING, 0, i, null, h)
    })
  }

  /** The spawnd's dispatcher table (its ps). */
  ps(core: number): Promise<PsEntry[]> {
    this.check(core)
    return new Promise((resolve, reject) => {
      this.request(core, Op.PS, 0, 0, null, (err, _v, text) => {
        if (err === ERR_OK) resolve(JSON.parse(text ?? '[]') as PsEntry[])
        else reject(this.replyError(err, text, 'ps', core))
      })
    })
  }

  /** Round-robin over the cores that are up. */
  pickCore(): number {
    const n = this.spawnds.length
    for (let i = 0; i < n; i++) {
      const core = this.nextCore
      this.nextCore = (this.nextCore + 1) % n
      if (this.spawnds[core].health === 'up') return core
    }
    throw new KernelError('INVALID_SPAWND', 'no core is up')
  }

  /** Requests not yet answered on every core. */
  outstanding(): number {
    let n = 0
    for (const s of this.spawnds) n += s.receiveQueue.size
    return n
  }

  // ------------------------------------------------------------ replies

  /** Handle every frame in `s`'s reply ring; release once. Returns frames handled. */
  drain(s: SpawndLink): number {
    const rx = s.chan.rx
    const h = this.in
    let n = 0
    for (;;) {
      const at = rx.poll()
      if (at < 0) break
      n++
      if (!wellFormed(rx, at)) {
        s.protocolFailures++
        continue
      }
      readHeader(rx, at, h)
      const text = readText(rx, at)
      if (h.op === Op.REPLY) {
        s.replies++
        // A core that keeps answering PROTOCOL is judged unhealthy by the supervisor.
        if (h.aux === ERR_PROTOCOL) s.protocolFailures++
        else if (h.aux === ERR_OK) s.protocolFailures = 0
        const handler = s.receiveQueue.take(h.tag)
        if (handler !== null) deliver(handler, h.aux, h.value, text)
      } else if (h.op === Op.CALL) {
        this.handlers.call(s.core, h.tag, h.domainId, h.value, text)
      } else if (h.op === Op.EXIT) {
        s.notifications++
        this.handlers.exit(s.core, h.domainId, h.aux, h.value, text)
      }
    }
    if (n > 0) {
      s.chan.release()
      s.lastSeen = Date.now()
    } else if (rx.usedBytes() !== 0) {
      // poll() passed a wrap marker with no frame after it: release those bytes, or a
      // reply that needs them never fits and the spawnd's outbox waits forever.
      s.chan.release()
    }
    return n
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
    this.drain(s)
    s.health = health
    s.failure = why
    s.sender.clear()
    const code = health === 'down' ? ERR_SHUTDOWN : ERR_CORE_FAILED
    for (const h of s.receiveQueue.takeAll()) deliver(h, code, 0, null)
    this.handlers.coreDown(core, health, why)
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
