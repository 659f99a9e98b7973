/**
 * The request path of the spawnd links: which core a request goes to, sending it
 * through that core's SpawndLink (its sender into the request ring, its client
 * parked in the receive queue) and scheduling the pump that publishes it, or
 * answering it at once when the core is not up; and turning a failed reply into
 * the KernelError it stands for. SpawndLinks (links.ts), which starts, replaces
 * and fails the spawnds, is this class with their lifecycle added.
 */
import type { Worker } from 'node:worker_threads'
import { KernelError } from '../errors.js'
import { DOORBELL_BYTES, Doorbell } from '../ring/doorbell.js'
import { errFromWire } from '../protocol/errcodes.js'
import { decodeError } from '../protocol/error_text.js'
import type { PsEntry } from '../protocol/messages.js'
import { Op } from '../protocol/opcodes.js'
import {
  ERR_CORE_FAILED,
  ERR_SHUTDOWN,
  type CoreLinks,
  type ReplyHandler,
  type SessionEnd,
} from './link.js'
import { refuseLater } from './receive_queue.js'
import { ping, pingMany, ps } from './link_calls.js'
import { Pump } from './pump.js'
import { ReplyDrain } from './reply_drain.js'
import type { SpawndLink } from './spawnd_link.js'

export abstract class LinkRequests implements CoreLinks {
  /** Each core's link, by core number (add_spawnd fills it: links.ts). */
  readonly spawnds: SpawndLink[] = []
  readonly pump: Pump
  /** Reads every reply ring (the pump runs it). */
  protected readonly replies: ReplyDrain
  /** The doorbell every spawnd rings when it publishes (slot 0 of this buffer). */
  protected readonly bellBuffer = new SharedArrayBuffer(DOORBELL_BYTES)
  private nextCore = 0

  constructor(hotSpinMicros: number) {
    this.replies = new ReplyDrain(this.spawnds)
    this.pump = new Pump(this.replies, Doorbell.init(this.bellBuffer, 0), hotSpinMicros / 1000)
  }

  get cores(): number {
    return this.spawnds.length
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

  /** The worker running `core`'s spawnd. */
  worker(core: number): Worker {
    return this.spawnd(core).worker
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
    refuseLater(h, s.health === 'down' ? ERR_SHUTDOWN : ERR_CORE_FAILED)
  }

  answer(core: number, tag: number, callerId: number, err: number, text: string | null): void {
    const s = this.spawnds[core]
    if (s === undefined || s.health !== 'up') return
    s.answer(Op.RESULT, tag, callerId, err, text)
    this.pump.schedule()
  }

  bind(core: number, session: number, buffer: SharedArrayBuffer, _end: SessionEnd): boolean {
    const s = this.spawnds[core]
    if (s === undefined || s.health !== 'up') return false
    s.bind(session, buffer)
    return true
  }

  /** `failure`: why the core failed, when it is not one of these links' own (a remote core). */
  replyError(
    err: number,
    text: string | null,
    what: string,
    core: number,
    failure?: string,
  ): KernelError {
    if (err === ERR_CORE_FAILED) {
      const why = failure ?? this.spawnds[core]?.failure ?? ''
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
    return ping(this, core, value)
  }

  pingMany(core: number, count: number, window: number): Promise<void> {
    return pingMany(this, core, count, window)
  }

  ps(core: number): Promise<PsEntry[]> {
    return ps(this, core)
  }
}
