/**
 * What a spawnd does for each request from the process manager: the switch over
 * opcodes (PING, SPAWN / SPAN, KILL, TERM, CLEANUP, PS, RESULT, SHUTDOWN), loading
 * a program and starting its dispatcher, and the REPLY and EXIT frames that go
 * back up the reply ring. It keeps the ps table (the core's dispatchers) and what
 * the core hosts for its gauges. The loop that drains the request ring into these
 * handlers is the Spawnd (loop.ts), this class with the loop added.
 *
 * Every intrinsic called here is the spawnd's own reference (src/intrinsics.ts): a
 * domain that replaces JSON, Atomics, Promise or Map methods breaks only itself.
 * A domain's stray throw or rejection ends only that domain when it can be traced
 * to it (faults.ts).
 */
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
  PromiseThen,
  SafeAbortController,
  SafeMap,
  SafeTypeError,
} from '../src/intrinsics.js'
import { asDomainExit, runAs } from './faults.js'
import { CallTable } from './calls.js'
import { GaugeWriter } from './gauges.js'
import { restoreLoaderIntrinsics } from './loader_guard.js'
import { SpawndSessions } from './sessions.js'

export abstract class SpawndRequests implements DispatcherOwner {
  protected readonly chan: Channel
  protected readonly rx: SpscRing
  private readonly core: number
  private readonly token: number
  private readonly maxDispatchers: number
  protected readonly spin: number
  /** The ps table: dispatcher id -> dispatcher; ids from 1, reused after cleanup. */
  protected readonly ps = new SafeMap<number, Dispatcher>()
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
  protected running = 0
  protected inFlight = 0
  private nextId = 1
  /** Replies, EXITs and CALLs into the reply ring, or its outbox when full (TX_BUSY). */
  protected readonly port: FrameSender
  /** True while draining a batch: publish once at its end, not per frame. */
  protected inBatch = false
  /** The header requests are read into, and the one frames are written from. */
  protected readonly in = frameHeader()
  private readonly out = frameHeader()
  /** Domains' calls to the process manager awaiting a RESULT, by tag. */
  protected readonly calls: CallTable
  protected stopping = false
  /** The ends of sessions of this core's domains, and their handlers (sessions.ts). */
  readonly sessions: SpawndSessions

  constructor(boot: SpawndBoot) {
    this.core = boot.core
    this.token = boot.token
    this.maxDispatchers = boot.maxDispatchers
    this.spin = boot.spin
    this.chan = Channel.attach(boot.channel, { spin: boot.spin })
    this.rx = this.chan.rx
    // Publishing rings the process manager's doorbell, shared by every spawnd.
    this.port = new FrameSender(this.chan.tx, new Doorbell(boot.mainBell, boot.mainBellOffset))
    this.gauges = new GaugeWriter(boot.gauges)
    this.calls = new CallTable(this.port, this.core, () => this.inBatch)
    this.sessions = new SpawndSessions(
      boot.monitor,
      (tag, err, value, text) => this.reply(tag, err, value, text),
      (d, op, args) => this.calls.call(d, op as CallCode, args),
      boot.spin,
    )
  }

  /** Publish what this core hosts, after the requests handled so far (core_gauges.ts). */
  protected noteHosting(): void {
    const idle =
      this.ps.size === 0 && this.reserved === 0 && this.inFlight === 0 && this.calls.size === 0
    this.gauges.hosting(idle, this.handled)
  }

  protected handle(at: number): void {
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
      case Op.SESSION_OPEN:
      case Op.SESSION_CLOSE:
      case Op.SESSION_UPGRADE:
      case Op.RESOURCE_REQUEST:
      case Op.YIELD:
      case Op.UPDATE_PREPARE:
      case Op.UPDATE_RESUME:
      case Op.UPDATE_COMMIT:
      case Op.SESSION_ADOPT:
      case Op.UPDATE_START:
      case Op.UPDATE_ABORT:
        return this.sessions.request(
          this.byDomain.get(domainId),
          op,
          tag,
          h.value,
          readText(rx, at),
        )
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

  protected stopDispatcher(d: Dispatcher): void {
    if (d.state !== 'running') return
    d.state = 'stopped'
    this.running--
    this.sessions.dispatcherStopped(d)
    const ac = d.ac
    // Its abort listeners are the domain's code: run them in its context, so their
    // throws are traced to it (faults.ts), not to the spawnd.
    if (ac !== null) runAs(d, () => AbortControllerAbort(ac, KILLED))
  }

  protected reply(
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
