/**
 * The process manager (Barrelfish's proc_mgmt): owns the domain table and, per
 * spawnd, a send queue and a receive queue. It turns spawn / span / kill / wait
 * into requests to the spawnds, and their replies and exit notifications into
 * domain state transitions:
 *
 *   spawn:  request SPAWN; the entry is created (RUNNING) only when it succeeds.
 *   span:   request SPAN; the core counts as running from the request on, so the
 *           domain cannot reach STOPPED before the span is answered; on success
 *           the core is recorded once (the original answered twice and forgot it).
 *   kill / exit: exit status set, STOP_PEND, KILL to every running core; at the
 *           last answer STOPPED, killers and waiters answered, CLEANUP to every core
 *           holding resources; at the last cleanup answer CLEANED, entry kept.
 *   wait:   at once when STOPPED or CLEANED (also after cleanup: the original hung),
 *           at once with 'running' under nohang, else when STOPPED.
 *
 * Every request has exactly one answer, including when its core fails or the
 * runtime shuts down, so no client is left waiting.
 */
import { KernelError, type KernelErrorCode } from '../errors.js'
import { ERR_OK, errFromWire, errToWire } from '../protocol/errcodes.js'
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
import { errorFromText, errorToText, type ErrorText, type PsEntry } from '../protocol/messages.js'
import { EXIT_RELEASED, ExitHow, Op } from '../protocol/opcodes.js'
import { looksLikeCap, mintToken } from './cap.js'
import { DomainEntry, DomainTable, type WaitResult } from './domain_table.js'
import { HandleTable } from './handles.js'
import { ProcessTree, type TreeLimits } from './process_tree.js'
import { handleCall } from './calls.js'
import { RuntimeEvents } from './events.js'
import type { ReplyHandler } from './receive_queue.js'
import type { SpawndState } from './spawnd_state.js'

/** Exit status of a killed domain, as in Barrelfish. */
export const KILLED_EXIT_CODE = 9
/** Exit status of a domain whose core failed under it. */
export const CORE_FAILED_EXIT_CODE = 134

const ERR_CORE_FAILED = -1
const ERR_SHUTDOWN = -2

/** Held only by the runtime's boot path: add_spawnd refuses anyone else. */
export const BOOT_KEY: unique symbol = Symbol('multikernel.boot')

function parseErrorText(text: string | null): ErrorText | null {
  if (text === null || text[0] !== '{') return null
  try {
    return JSON.parse(text) as ErrorText
  } catch {
    return null
  }
}

export class ProcessManager {
  readonly spawnds: SpawndState[] = []
  readonly table = new DomainTable()
  /** Spawn and span requests not yet answered (shutdown waits for them). */
  pendingSpawns = 0
  private readonly onRequest: () => void
  readonly tree: ProcessTree
  readonly maxHandles: number
  readonly maxArgBytes: number
  /** Lifecycle events for the embedding server (and the supervisor). */
  readonly events = new RuntimeEvents()
  private nextCore = 0

  /** `onRequest` is called after every request is queued: the runtime schedules a flush. */
  constructor(
    onRequest: () => void,
    limits: TreeLimits & { maxHandles: number; maxArgBytes: number } = {
      maxChildren: 256,
      maxDepth: 16,
      maxHandles: 64,
      maxArgBytes: 2048,
    },
  ) {
    this.onRequest = onRequest
    this.tree = new ProcessTree(this.table, limits)
    this.maxHandles = limits.maxHandles
    this.maxArgBytes = limits.maxArgBytes
  }

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

  // ------------------------------------------------------------ lookups

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

  /** The entry a capability names; refuses made-up caps and unknown domains. */
  lookup(cap: unknown): DomainEntry {
    if (!looksLikeCap(cap)) {
      throw new KernelError('DOMAIN_CAP_INVALID', 'not a domain capability')
    }
    const e = this.table.get(cap.id)
    if (e === undefined) throw new KernelError('DOMAIN_NOTFOUND', `no domain ${cap.id}`)
    if (e.cap.token !== cap.token) {
      throw new KernelError(
        'DOMAIN_CAP_INVALID',
        `capability for domain ${cap.id} is forged or stale`,
      )
    }
    return e
  }

  // ------------------------------------------------------------ requests

  private send(
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

  private replyError(err: number, text: string | null, what: string, core: number): KernelError {
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

  /**
   * Spawn a domain as a child of `parent` (null: the root). `handles` is the
   * child's table, already filled with the caps it inherits. The entry is created,
   * linked into the tree, only when the spawnd confirms.
   */
  spawn(
    core: number,
    url: string,
    argv: string[],
    env: Record<string, string>,
    parent: DomainEntry | null = null,
    opts: {
      noreap?: boolean
      handles?: HandleTable
      /** Called as the child is linked, before anything (its exit, its cleanup) can free it. */
      onLink?: (e: DomainEntry) => void
    } = {},
  ): Promise<DomainEntry> {
    const s = this.spawnd(core)
    this.tree.checkSpawn(parent)
    const id = this.table.allocateId()
    const text = JSON.stringify({ url, argv, env })
    const handles = opts.handles ?? new HandleTable(this.maxHandles)
    return new Promise((resolve, reject) => {
      this.send(s, Op.SPAWN, id, 0, text, (err, _v, t) => {
        this.pendingSpawns--
        this.tree.spawnAnswered(parent)
        if (err !== ERR_OK)
          return reject(this.replyError(err, t, `spawn ${url} on core ${core}`, core))
        const e = new DomainEntry(
          id,
          mintToken(),
          core,
          { program: url, argv, env },
          {
            parentId: parent === null ? 0 : parent.id,
            depth: parent === null ? 1 : parent.depth + 1,
            noreap: opts.noreap === true,
            handles,
          },
        )
        this.table.add(e)
        this.tree.link(e)
        opts.onLink?.(e)
        this.events.publish({
          type: 'spawned',
          domainId: id,
          core,
          program: url,
          parent: parent === null ? null : parent.id,
        })
        // Its parent is being killed with its subtree (filicide): so is it, at once.
        if (parent !== null && this.tree.isDoomed(parent)) void this.kill(e)
        resolve(e)
      })
      // Counted only once sent: a refused request (FRAME_TOO_LARGE) has no answer to wait for.
      this.pendingSpawns++
      this.tree.spawnSent(parent)
    })
  }

  span(e: DomainEntry, core: number): Promise<void> {
    const s = this.spawnd(core)
    if (e.state !== 'RUNNING') {
      return Promise.reject(new KernelError('DOMAIN_NOT_RUNNING', `domain ${e.id} is ${e.state}`))
    }
    if (e.running.has(core) || e.resources.has(core)) {
      return Promise.reject(
        new KernelError('ALREADY_SPANNED', `domain ${e.id} already runs on core ${core}`),
      )
    }
    e.running.add(core)
    e.spanning.add(core)
    this.pendingSpawns++
    const text = JSON.stringify({ url: e.program, argv: e.argv, env: e.env })
    return new Promise((resolve, reject) => {
      this.send(s, Op.SPAN, e.id, core, text, (err, _v, t) => {
        this.pendingSpawns--
        e.spanning.delete(core)
        if (err !== ERR_OK) {
          e.running.delete(core)
          reject(this.replyError(err, t, `span domain ${e.id} to core ${core}`, core))
          this.checkStopped(e)
          return
        }
        e.resources.add(core)
        if (e.state === 'RUNNING') return resolve()
        // The domain began stopping while this span was in flight: stop it here too.
        this.stopOn(e, core)
        reject(
          new KernelError(
            'DOMAIN_NOT_RUNNING',
            `domain ${e.id} stopped while spanning to core ${core}`,
          ),
        )
      })
    })
  }

  kill(e: DomainEntry): Promise<void> {
    if (e.state === 'STOPPED' || e.state === 'CLEANED') {
      return Promise.reject(
        new KernelError('DOMAIN_NOT_RUNNING', `domain ${e.id} is already ${e.state}`),
      )
    }
    return new Promise((resolve) => {
      // A second concurrent kill joins the first and is answered with it.
      e.onStopped.push(resolve)
      if (e.state === 'RUNNING') {
        e.exitCode = KILLED_EXIT_CODE
        e.reason = 'killed'
        this.beginStop(e)
      }
    })
  }

  wait(e: DomainEntry, nohang: boolean): Promise<WaitResult> {
    if (e.state === 'STOPPED' || e.state === 'CLEANED' || nohang) {
      return Promise.resolve(e.waitResult())
    }
    return new Promise((resolve) => e.onStopped.push(() => resolve(e.waitResult())))
  }

  /**
   * Ask every dispatcher of a running domain to stop gracefully (TERM: its
   * stopSignal fires). Resolves when every core has been told; the domain ends
   * when its main returns (or when the caller kills it after a timeout).
   */
  term(e: DomainEntry): Promise<void> {
    if (e.state !== 'RUNNING') return Promise.resolve()
    const cores = [...e.running].filter((c) => !e.spanning.has(c))
    return Promise.all(
      cores.map(
        (core) =>
          new Promise<void>((resolve) =>
            this.send(this.spawnds[core], Op.TERM, e.id, 0, null, () => resolve()),
          ),
      ),
    ).then(() => undefined)
  }

  /** Resolves once the domain is CLEANED. */
  cleaned(e: DomainEntry): Promise<void> {
    if (e.state === 'CLEANED') return Promise.resolve()
    return new Promise((resolve) => e.onCleaned.push(resolve))
  }

  // ------------------------------------------------------------ transitions

  /** STOP_PEND, and a KILL to every core it runs on (a pending span is killed when answered). */
  private beginStop(e: DomainEntry): void {
    e.state = 'STOP_PEND'
    for (const core of e.running) if (!e.spanning.has(core)) this.stopOn(e, core)
    this.checkStopped(e)
  }

  private stopOn(e: DomainEntry, core: number): void {
    this.send(this.spawnds[core], Op.KILL, e.id, 0, null, () => {
      // OK, already stopped, or the core failed: the dispatcher runs no more.
      e.running.delete(core)
      this.checkStopped(e)
    })
  }

  private checkStopped(e: DomainEntry): void {
    if (e.state !== 'STOP_PEND' || e.running.size > 0) return
    e.state = 'STOPPED'
    for (const done of e.onStopped.splice(0)) done()
    this.publishStopped(e)
    this.tree.onStopped(e)
    if (e.resources.size === 0) return this.markCleaned(e)
    for (const core of [...e.resources]) {
      this.send(this.spawnds[core], Op.CLEANUP, e.id, 0, null, () => {
        e.resources.delete(core)
        if (e.resources.size === 0 && e.state === 'STOPPED') this.markCleaned(e)
      })
    }
  }

  private publishStopped(e: DomainEntry): void {
    const exitCode = e.exitCode ?? 0
    if (e.reason === 'killed') {
      this.events.publish({ type: 'killed', domainId: e.id, exitCode })
      return
    }
    const reason = e.reason ?? 'exited'
    if (e.error !== null) {
      this.events.publish({ type: 'exited', domainId: e.id, exitCode, reason, error: e.error })
    } else {
      this.events.publish({ type: 'exited', domainId: e.id, exitCode, reason })
    }
  }

  private markCleaned(e: DomainEntry): void {
    e.state = 'CLEANED'
    for (const done of e.onCleaned.splice(0)) done()
    this.events.publish({ type: 'cleaned', domainId: e.id })
    this.tree.onCleaned(e)
  }

  /** A dispatcher's main ended on `core`: the whole domain exits (Barrelfish exit). */
  private onExit(
    core: number,
    domainId: number,
    how: number,
    code: number,
    text: string | null,
  ): void {
    const e = this.table.get(domainId)
    if (e === undefined) return
    e.running.delete(core)
    // The spawnd freed that dispatcher itself: nothing to clean up there.
    if ((how & EXIT_RELEASED) !== 0) e.resources.delete(core)
    if (e.state === 'RUNNING') {
      e.exitCode = code
      e.reason = (how & ~EXIT_RELEASED) === ExitHow.THREW ? 'error' : 'exited'
      e.error = parseErrorText(text)
      this.beginStop(e)
    } else {
      this.checkStopped(e)
    }
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
        this.onCall(s, word(rx, at, W_TAG), word(rx, at, W_DOMAIN), word(rx, at, W_VALUE), text)
      } else if (op === Op.EXIT) {
        s.notifications++
        this.onExit(
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
   * A core's worker died or hung: answer everything queued for it with
   * CORE_FAILED, and stop every domain that had a dispatcher there.
   */
  coreFailed(core: number, health: 'failed' | 'down', why = 'worker ended'): void {
    const s = this.spawnds[core]
    if (s === undefined || s.health !== 'up') return
    // Answers the spawnd published before it ended may still be in its reply ring (the
    // worker's exit can be seen first): take them, so only unanswered requests fail.
    this.drain(s)
    s.health = health
    s.failure = why
    if (health === 'failed') this.events.publish({ type: 'core-failed', core, why })
    s.sendQueue.drainAll()
    const code = health === 'down' ? ERR_SHUTDOWN : ERR_CORE_FAILED
    for (const h of s.receiveQueue.takeAll()) h(code, 0, null)
    for (const e of this.table.values()) {
      if (!e.running.has(core) && !e.resources.has(core)) continue
      e.running.delete(core)
      e.spanning.delete(core)
      e.resources.delete(core)
      if (e.state === 'RUNNING') {
        e.exitCode = CORE_FAILED_EXIT_CODE
        e.reason = 'core-failed'
        this.beginStop(e)
      } else if (e.state === 'STOP_PEND') {
        this.checkStopped(e)
      } else if (e.state === 'STOPPED' && e.resources.size === 0) {
        this.markCleaned(e)
      }
    }
  }

  /** Barrelfish's limit on argv and env: each at most maxArgBytes of UTF-8. */
  checkArgs(argv: string[], env: Record<string, string>): void {
    let argvBytes = 0
    for (const a of argv) argvBytes += Buffer.byteLength(a) + 1
    let envBytes = 0
    for (const [k, v] of Object.entries(env))
      envBytes += Buffer.byteLength(k) + Buffer.byteLength(v) + 2
    if (argvBytes > this.maxArgBytes || envBytes > this.maxArgBytes) {
      throw new KernelError(
        'ARGS_TOO_LARGE',
        `argv is ${argvBytes} bytes and env ${envBytes}; each may be at most ${this.maxArgBytes}`,
      )
    }
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

  /** Kill `e` and every descendant, deepest first (Camellia's filicide). */
  async killTree(e: DomainEntry): Promise<void> {
    // A parent still running while its children die may replace them, and spawns may
    // be in flight: so no domain of the subtree may spawn from here on, a child that
    // lands under one is killed at once (spawn), and the sweep repeats until nothing
    // of the subtree lives or is on its way.
    for (;;) {
      const order = this.tree.descendantsDeepestFirst(e)
      const members = [e, ...order]
      for (const d of members) this.tree.doom(d)
      const alive = order.filter((d) => d.alive)
      const spawning = members.filter((d) => this.tree.spawnsInFlight(d) > 0)
      if (alive.length === 0 && spawning.length === 0) break
      // Level by level from the leaves: a parent is stopped only after its children.
      const byDepth = new Map<number, DomainEntry[]>()
      for (const d of alive) {
        const list = byDepth.get(d.depth) ?? []
        list.push(d)
        byDepth.set(d.depth, list)
      }
      const depths = [...byDepth.keys()].sort((a, b) => b - a)
      for (const depth of depths) {
        await Promise.all(
          byDepth
            .get(depth)!
            .filter((d) => d.alive)
            .map((d) => this.kill(d)),
        )
      }
      await Promise.all(spawning.map((d) => this.tree.spawnsSettled(d)))
    }
    if (e.alive) await this.kill(e)
  }

  /**
   * A domain's call arrived on `s`'s reply ring, stamped by the spawnd with the
   * caller's id. The answer goes back as a RESULT frame with the call's tag.
   */
  private onCall(
    s: SpawndState,
    tag: number,
    callerId: number,
    op: number,
    text: string | null,
  ): void {
    const answer = (err: unknown, result: unknown): void => {
      if (s.health !== 'up') return
      if (err === null) {
        s.post(Op.RESULT, tag, callerId, ERR_OK, JSON.stringify(result ?? null))
      } else {
        const code = err instanceof KernelError ? err.code : 'PROTOCOL'
        s.post(Op.RESULT, tag, callerId, errToWire(code), JSON.stringify(errorToText(err)))
      }
      this.onRequest()
    }
    let p: Promise<unknown>
    try {
      const caller = this.table.get(callerId)
      if (caller === undefined || !caller.running.has(s.core) || caller.state !== 'RUNNING') {
        throw new KernelError(
          'DOMAIN_NOT_RUNNING',
          `caller ${callerId} does not run on core ${s.core}`,
        )
      }
      p = handleCall(this, caller, op, JSON.parse(text ?? 'null') as unknown)
    } catch (err) {
      p = Promise.reject(err)
    }
    p.then(
      (v) => answer(null, v),
      (err: unknown) => answer(err, null),
    )
  }

  /** Requests not yet answered on every core. */
  outstanding(): number {
    let n = 0
    for (const s of this.spawnds) n += s.receiveQueue.size
    return n
  }
}
