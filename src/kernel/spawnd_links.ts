/**
 * SpawndLinks: the process manager's links to its spawnds (Barrelfish keeps one
 * `spawnd_state` per core): registration (add_spawnd), the request path through
 * each spawnd's send queue into its ring, the reply path that matches answers to
 * the receive queue by tag, and the null and bookkeeping requests (ping, ps,
 * shutdown). What the replies mean for domains is the process manager's business:
 * EXIT and CALL frames are handed to its sink.
 */
import { KernelError, type KernelErrorCode } from '../errors.js'
import { ERR_OK, errFromWire } from '../protocol/errcodes.js'
import {
  W_AUX,
  W_DOMAIN,
  W_OP,
  W_TAG,
  W_TEXTLEN,
  W_VALUE,
  readText,
  wellFormed,
  word,
} from '../protocol/frame.js'
import { errorFromText, type ErrorText, type PsEntry } from '../protocol/messages.js'
import { Op } from '../protocol/opcodes.js'
import type { ReplyHandler } from './receive_queue.js'
import type { SpawndState } from './spawnd_state.js'

/** Reply codes for requests that never reached a live spawnd. */
export const ERR_CORE_FAILED = -1
export const ERR_SHUTDOWN = -2

/** Held only by the runtime's boot path: add_spawnd refuses anyone else. */
export const BOOT_KEY: unique symbol = Symbol('multikernel.boot')

/** Where unsolicited frames go: the process manager. */
export interface LinkSink {
  onExit(core: number, domainId: number, how: number, code: number, text: string | null): void
  onCall(s: SpawndState, tag: number, callerId: number, op: number, text: string | null): void
}

export function parseErrorText(text: string | null): ErrorText | null {
  if (text === null || text[0] !== '{') return null
  try {
    return JSON.parse(text) as ErrorText
  } catch {
    return null
  }
}

export class SpawndLinks {
  readonly spawnds: SpawndState[] = []
  private nextCore = 0

  /** `onRequest` runs after every request is queued: the runtime schedules a flush. */
  constructor(
    private readonly onRequest: () => void,
    private readonly sink: LinkSink,
  ) {}

  /** add_spawnd: only the runtime's boot path (which holds BOOT_KEY) registers a core. */
  addSpawnd(s: SpawndState, key: symbol): void {
    if (key !== BOOT_KEY) {
      throw new KernelError('NOT_PROC_MNGR', 'only the runtime boot path may register a spawnd')
    }
    const old = this.spawnds[s.core]
    if (old !== undefined && old.health === 'failed') {
      // The reincarnation path: a fresh spawnd on the number of a failed core.
      this.spawnds[s.core] = s
      return
    }
    if (old !== undefined) {
      throw new KernelError('SPAWND_EXISTS', `core ${s.core} already has a spawnd`)
    }
    this.spawnds[s.core] = s
  }

  /** The live link of `core`; INVALID_SPAWND for a core that does not exist. */
  spawnd(core: unknown): SpawndState {
    if (typeof core !== 'number' || !Number.isInteger(core)) {
      throw new KernelError('INVALID_SPAWND', `core must be an integer, got ${String(core)}`)
    }
    const s = this.spawnds[core]
    if (s === undefined) {
      throw new KernelError(
        'INVALID_SPAWND',
        `no spawnd on core ${core} (cores 0..${this.spawnds.length - 1})`,
      )
    }
    return s
  }

  // ------------------------------------------------------------ requests

  /** Tell the runtime a frame was queued outside send() (a RESULT): schedule a flush. */
  requested(): void {
    this.onRequest()
  }

  /** Queue a request for `s` (answered CORE_FAILED/SHUTDOWN at once if it is not up). */
  send(
    s: SpawndState,
    op: number,
    domainId: number,
    arg: number,
    text: string | null,
    h: ReplyHandler,
  ): void {
    if (s.health !== 'up') {
      // Answer asynchronously, like any reply, so callers never re-enter.
      const code = s.health === 'down' ? ERR_SHUTDOWN : ERR_CORE_FAILED
      queueMicrotask(() => h(code, 0, null))
      return
    }
    s.request(op, domainId, arg, text, h)
    this.onRequest()
  }

  /** The KernelError a failed reply stands for. */
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
    const code: KernelErrorCode = errFromWire(err)
    const t = parseErrorText(text)
    if (t !== null) {
      const cause = errorFromText(t)
      return new KernelError(code, `${what}: ${t.message}`, { cause })
    }
    return new KernelError(code, `${what}: ${text ?? 'refused'}`)
  }

  ping(core: number, value = 0): Promise<number> {
    const s = this.spawnd(core)
    return new Promise((resolve, reject) => {
      this.send(s, Op.PING, 0, value, null, (err, v, text) => {
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
    const s = this.spawnd(core)
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
          this.send(s, Op.PING, 0, unsent, null, h)
        }
        if (--unanswered === 0 && !failed) resolve()
        if (failed && unsent > 0) {
          unanswered -= unsent
          unsent = 0
        }
      }
      const first = Math.min(window, count)
      unsent = count - first
      for (let i = 0; i < first; i++) this.send(s, Op.PING, 0, i, null, h)
    })
  }

  /** Ask a spawnd to end its loop; resolves when it answered (or cannot). */
  stopSpawnd(core: number): Promise<void> {
    const s = this.spawnd(core)
    return new Promise((resolve) => this.send(s, Op.SHUTDOWN, 0, 0, null, () => resolve()))
  }

  /** The spawnd's dispatcher table (its ps). */
  coreStatus(core: number): Promise<PsEntry[]> {
    const s = this.spawnd(core)
    return new Promise((resolve, reject) => {
      this.send(s, Op.STATUS, 0, 0, null, (err, _v, text) => {
        if (err === ERR_OK) resolve(JSON.parse(text ?? '[]') as PsEntry[])
        else reject(this.replyError(err, text, 'status', core))
      })
    })
  }

  // ------------------------------------------------------------ replies

  /** Handle every frame in `s`'s reply ring; release once. Returns frames handled. */
  drain(s: SpawndState): number {
    const rx = s.chan.rx
    let n = 0
    for (;;) {
      const at = rx.poll()
      if (at < 0) break
      n++
      if (!wellFormed(rx, at)) continue
      const op = word(rx, at, W_OP)
      const text = word(rx, at, W_TEXTLEN) > 0 ? readText(rx, at) : null
      if (op === Op.REPLY) {
        s.replies++
        const h = s.receiveQueue.take(word(rx, at, W_TAG))
        if (h !== null) h(word(rx, at, W_AUX), word(rx, at, W_VALUE), text)
      } else if (op === Op.CALL) {
        this.sink.onCall(
          s,
          word(rx, at, W_TAG),
          word(rx, at, W_DOMAIN),
          word(rx, at, W_VALUE),
          text,
        )
      } else if (op === Op.EXIT) {
        s.notifications++
        this.sink.onExit(
          s.core,
          word(rx, at, W_DOMAIN),
          word(rx, at, W_AUX),
          word(rx, at, W_VALUE),
          text,
        )
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

  /**
   * Mark a link failed (or down at shutdown) and answer everything queued on it.
   * Replies it published before it ended are taken first, so only unanswered
   * requests fail. False when it was not up.
   */
  fail(core: number, health: 'failed' | 'down', why: string): boolean {
    const s = this.spawnds[core]
    if (s === undefined || s.health !== 'up') return false
    this.drain(s)
    s.health = health
    s.failure = why
    s.sendQueue.drainAll()
    const code = health === 'down' ? ERR_SHUTDOWN : ERR_CORE_FAILED
    for (const h of s.receiveQueue.takeAll()) h(code, 0, null)
    return true
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
}
