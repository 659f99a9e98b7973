/**
 * spawnd: the loop on one core (one worker_thread). It drains its request ring,
 * runs domains as dispatchers, and answers on its reply ring; Barrelfish's spawnd,
 * with the process manager's channel as its only client.
 *
 * The worker's event loop is shared with the domains it hosts: their promises,
 * timers and I/O only progress while the loop turns. So the spawnd blocks in
 * Atomics.wait only when it hosts nothing and has nothing in flight; otherwise it
 * waits with Atomics.waitAsync and yields to the loop between drained batches
 * (piscina's "sync" atomics mode freezes its workers' loops: the trap avoided here).
 *
 * Uses ring, protocol and domain only; never kernel. Every intrinsic it calls is
 * its own reference, taken at load before any domain runs (src/intrinsics.ts): a
 * domain that replaces JSON, Atomics, Promise or Map methods breaks only itself.
 * A request it cannot handle is answered PROTOCOL (the supervisor restarts a core
 * whose protocol keeps failing); a domain's stray throw or rejection ends only that
 * domain when it can be traced to it (faults.ts).
 */
import { workerData } from 'node:worker_threads'
import { Channel } from '../src/ring/channel.js'
import { Doorbell } from '../src/ring/doorbell.js'
import type { SpscRing } from '../src/ring/spsc.js'
import { Dispatcher, KILLED, type DispatcherOwner } from './dispatcher.js'
import { Op, ExitHow, EXIT_RELEASED, type CallCode } from '../src/protocol/opcodes.js'
import { ERR_OK, errToWire } from '../src/protocol/errcodes.js'
import { encodeError } from '../src/protocol/error_text.js'
import { frameHeader, readHeader, readText, wellFormed } from '../src/protocol/frame.js'
import type { PsEntry, SpawnText } from '../src/protocol/messages.js'
import { FrameSender } from '../src/protocol/sender.js'
import { SpawnDecoder } from '../src/protocol/spawn_frame.js'
import type { SpawndBoot } from '../src/protocol/spawnd_boot.js'
import type { KernelErrorCode } from '../src/errors.js'
import {
  badExitCode,
  isExitCode,
  makeContext,
  type DomainContext,
  type DomainMain,
} from '../src/domain/context.js'
import {
  ArrayPush,
  AbortControllerAbort,
  JSONStringify,
  ObjectKeys,
  PromiseThen,
  SafeAbortController,
  SafeClearInterval,
  SafeMap,
  SafePromise,
  SafeSetImmediate,
  SafeSetInterval,
  SafeTypeError,
} from '../src/intrinsics.js'
import { asDomainExit, installFaultHandlers, runAs } from './faults.js'
import { CallTable } from './calls.js'
import { GaugeWriter } from './gauges.js'
import { restoreLoaderIntrinsics } from './loader_guard.js'

const MAX_BATCH = 256

class Spawnd implements DispatcherOwner {
  private readonly chan: Channel
  private readonly rx: SpscRing
  private readonly core: number
  private readonly token: number
  private readonly maxDispatchers: number
  private readonly spin: number
  /** The ps table: dispatcher id -> dispatcher; ids from 1, reused after cleanup. */
  private readonly ps = new SafeMap<number, Dispatcher>()
  private readonly byDomain = new SafeMap<number, Dispatcher>()
  /** Program URLs the process manager interned on this core (binary SPAWN / SPAN). */
  private readonly programs = new SpawnDecoder()
  /** Loaded programs' main functions, by URL (ESM caches the modules anyway). */
  private readonly mains = new SafeMap<string, DomainMain>()
  /** Requests handled (RESULTs are answers, not requests): the gauges' HANDLED. */
  private handled = 0
  readonly gauges: GaugeWriter
  /** Table slots promised to spawns whose module is still loading. */
  private reserved = 0
  private running = 0
  private inFlight = 0
  private nextId = 1
  /** Replies, EXITs and CALLs into the reply ring, or its outbox when full (TX_BUSY). */
  private readonly port: FrameSender
  /** True while draining a batch: publish once at its end, not per frame. */
  private inBatch = false
  /** The header requests are read into, and the one frames are written from. */
  private readonly in = frameHeader()
  private readonly out = frameHeader()
  /** Domains' calls to the process manager awaiting a RESULT, by tag. */
  private readonly calls: CallTable
  private stopping = false
  private readonly readable: () => boolean
  private readonly closed: () => boolean

  constructor(boot: SpawndBoot) {
    this.core = boot.core
    this.token = boot.token
    this.maxDispatchers = boot.maxDispatchers
    this.spin = boot.spin
    this.chan = Channel.attach(boot.channel, { spin: boot.spin })
    this.rx = this.chan.rx
    // Publishing rings the process manager's doorbell, shared by every spawnd.
    this.port = new FrameSender(this.chan.tx, new Doorbell(boot.mainBell, boot.mainBellOffset))
    this.readable = () => !this.rx.isEmpty() || this.chan.closed
    this.closed = () => this.chan.closed
    this.gauges = new GaugeWriter(boot.gauges)
    this.calls = new CallTable(this.port, this.core, () => this.inBatch)
  }

  async run(): Promise<void> {
    // A pending Atomics.waitAsync does not keep a worker alive: hold a handle.
    const keepAlive = SafeSetInterval(() => {}, 1 << 30)
    this.gauges.start()
    while (!this.stopping) {
      const n = this.drain()
      if (this.stopping || this.chan.closed) break
      const busy =
        this.running > 0 || this.inFlight > 0 || this.port.backlog > 0 || this.calls.size > 0
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

  /** Publish what this core hosts, after the requests handled so far (core_gauges.ts). */
  private noteHosting(): void {
    const idle =
      this.ps.size === 0 && this.reserved === 0 && this.inFlight === 0 && this.calls.size === 0
    this.gauges.hosting(idle, this.handled)
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

  private handle(at: number): void {
    const rx = this.rx
    if (!wellFormed(rx, at)) return this.reply(0, 'PROTOCOL', 0, 'malformed request frame')
    const h = this.in
    readHeader(rx, at, h)
    const { op, tag, domainId } = h
    if (op !== Op.RESULT) this.handled = (this.handled + 1) | 0
    if (h.aux !== this.token) {
      // Barrelfish's spawnd checks the caller holds the process manager's cap.
      return this.reply(tag, 'NOT_PROC_MNGR', 0, 'request not from the process manager')
    }
    switch (op) {
      case Op.PING:
        return this.reply(tag, null, h.value, null)
      case Op.SPAWN:
      case Op.SPAN:
        return this.spawn(tag, domainId, h.value, readText(rx, at))
      case Op.KILL: {
        const d = this.byDomain.get(domainId)
        if (d === undefined)
          return this.reply(tag, 'DOMAIN_NOTFOUND', 0, `no dispatcher of domain ${domainId}`)
        const wasRunning = d.state === 'running'
        this.stopDispatcher(d)
        return this.reply(tag, null, wasRunning ? 1 : 0, null)
      }
      case Op.TERM: {
        const d = this.byDomain.get(domainId)
        if (d === undefined) {
          return this.reply(tag, 'DOMAIN_NOTFOUND', 0, `no dispatcher of domain ${domainId}`)
        }
        // Made now if the domain has not read ctx.stopSignal yet: it finds it aborted.
        if (d.state === 'running') {
          const term = (d.term ??= new SafeAbortController())
          runAs(d, () => AbortControllerAbort(term))
        }
        return this.reply(tag, null, d.state === 'running' ? 1 : 0, null)
      }
      case Op.CLEANUP: {
        const d = this.byDomain.get(domainId)
        if (d === undefined)
          return this.reply(tag, 'DOMAIN_NOTFOUND', 0, `no dispatcher of domain ${domainId}`)
        this.stopDispatcher(d)
        this.ps.delete(d.id)
        this.byDomain.delete(domainId)
        return this.reply(tag, null, 0, null)
      }
      case Op.PS: {
        const rows: PsEntry[] = []
        this.ps.forEach((d) => ArrayPush(rows, d.row()))
        return this.reply(tag, null, rows.length, JSONStringify(rows))
      }
      case Op.RESULT:
        return this.calls.result(tag, h.value, readText(rx, at))
      case Op.SHUTDOWN:
        this.stopping = true
        return this.reply(tag, null, 0, null)
      default:
        return this.reply(tag, 'PROTOCOL', 0, `unknown opcode ${op}`)
    }
  }

  private spawn(tag: number, domainId: number, value: number, text: string | null): void {
    let req: SpawnText
    try {
      req = this.programs.decode(value, text)
    } catch (err) {
      return this.reply(tag, 'PROTOCOL', 0, encodeError(err))
    }
    if (this.byDomain.has(domainId)) {
      return this.reply(
        tag,
        'ALREADY_SPANNED',
        0,
        `domain ${domainId} already runs on core ${this.core}`,
      )
    }
    if (this.ps.size + this.reserved >= this.maxDispatchers) {
      return this.reply(
        tag,
        'DOMAIN_ALLOCATE',
        0,
        `dispatcher table of core ${this.core} is full (${this.maxDispatchers})`,
      )
    }
    // A module already loaded starts at once: import() of a cached module still
    // costs a promise round and a module-map lookup per spawn.
    const known = this.mains.get(req.url)
    if (known !== undefined) return this.start(tag, domainId, req, known)
    this.reserved++
    this.inFlight++
    this.gauges.imported(req.url)
    restoreLoaderIntrinsics()
    PromiseThen(
      import(req.url) as Promise<{ default?: unknown }>,
      (mod: { default?: unknown }) => {
        this.reserved--
        this.inFlight--
        if (typeof mod.default !== 'function') {
          return this.reply(tag, 'LOAD', 0, `${req.url} has no default export function main(ctx)`)
        }
        this.mains.set(req.url, mod.default as DomainMain)
        this.start(tag, domainId, req, mod.default as DomainMain)
      },
      (err: unknown) => {
        this.reserved--
        this.inFlight--
        this.reply(tag, 'LOAD', 0, encodeError(err))
      },
    )
  }

  /** A domain's call goes up the reply ring (calls.ts). */
  callFor(d: Dispatcher, op: CallCode, args: unknown): Promise<string> {
    return this.calls.call(d, op, args)
  }

  private start(tag: number, domainId: number, req: SpawnText, main: DomainMain): void {
    if (this.byDomain.has(domainId)) {
      return this.reply(
        tag,
        'ALREADY_SPANNED',
        0,
        `domain ${domainId} already runs on core ${this.core}`,
      )
    }
    let id = this.nextId
    while (this.ps.has(id)) id = id >= this.maxDispatchers ? 1 : id + 1
    this.nextId = id >= this.maxDispatchers ? 1 : id + 1
    const d = new Dispatcher(this, id, domainId, req.url)
    this.ps.set(id, d)
    this.byDomain.set(domainId, d)
    this.running++
    // The REPLY goes into the ring before main can run, so the process manager has
    // created the domain entry before any EXIT of it arrives (ring order).
    this.reply(tag, null, id, null)
    const ctx = makeContext({
      argv: req.argv,
      env: req.env,
      core: this.core,
      domainId,
      program: req.url,
      host: d,
    })
    runAs(d, () => void this.runMain(d, main, ctx))
  }

  /**
   * Run main after the current batch is published; its end is the dispatcher's.
   * Runs inside `d`'s async context (faults.ts), so a stray throw is traced to it.
   */
  private async runMain(d: Dispatcher, main: DomainMain, ctx: DomainContext): Promise<void> {
    await null
    try {
      const v: unknown = await main(ctx)
      // The exit-code rule (README): nothing returned is 0, an int32 integer is the
      // code, anything else is a misuse: exit 1, reason 'error', as ctx.exit(bad).
      if (v === undefined) this.finish(d, ExitHow.RETURNED, 0, null)
      else if (isExitCode(v)) this.finish(d, ExitHow.RETURNED, v, null)
      else this.finish(d, ExitHow.THREW, 1, new SafeTypeError(`main returned ${badExitCode(v)}`))
    } catch (err) {
      const exit = asDomainExit(err)
      if (exit !== null) this.finish(d, ExitHow.EXIT_CALLED, exit.exitCode, null)
      else this.finish(d, ExitHow.THREW, 1, err)
    }
  }

  /** main ended on this core: tell the process manager, once. */
  finish(d: Dispatcher, how: number, code: number, err: unknown): void {
    if (d.state !== 'running') return
    this.stopDispatcher(d)
    this.ps.delete(d.id)
    this.byDomain.delete(d.domainId)
    const h = this.out
    h.op = Op.EXIT
    h.tag = 0
    h.aux = how | EXIT_RELEASED
    h.domainId = d.domainId
    h.value = code
    this.port.answer(h, err === null ? null : encodeError(err), null)
    if (!this.inBatch) {
      this.port.flush()
      this.noteHosting()
    }
  }

  private stopDispatcher(d: Dispatcher): void {
    if (d.state !== 'running') return
    d.state = 'stopped'
    this.running--
    const ac = d.ac
    // Its abort listeners are the domain's code: run them in its context, so their
    // throws are traced to it (faults.ts), not to the spawnd.
    if (ac !== null) runAs(d, () => AbortControllerAbort(ac, KILLED))
  }

  private reply(
    tag: number,
    err: KernelErrorCode | null,
    value: number,
    text: string | null,
  ): void {
    const h = this.out
    h.op = Op.REPLY
    h.tag = tag
    h.aux = err === null ? ERR_OK : errToWire(err)
    h.domainId = 0
    h.value = value
    this.port.answer(h, text, 'aux')
    if (!this.inBatch) this.port.flush()
  }
}

function yieldToLoop(): Promise<void> {
  return new SafePromise((resolve) => SafeSetImmediate(resolve))
}

// Read the boot data, then drop it from workerData: domains share this realm, and
// the rings must not be one import away from them.
const boot: SpawndBoot = { ...(workerData as SpawndBoot) }
for (const k of ObjectKeys(workerData as object)) delete (workerData as Record<string, unknown>)[k]
const spawnd = new Spawnd(boot)
// A stray throw or rejection traced to a domain ends that domain (exit 1, 'error').
installFaultHandlers((d, err) => spawnd.finish(d, ExitHow.THREW, 1, err))
await spawnd.run()
