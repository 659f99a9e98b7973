/**
 * RemoteLinks: the runtime's half of the wire to remote cores, the second
 * transport under the process manager beside the rings (links.ts). Nodes say
 * hello on the broker; the runtime joins the ones it wants (node_join.ts), and
 * their cores take numbers after the local ones, in the order nodes first join,
 * and keep them for good. Per core, requests are written into a batch (remote_core.ts)
 * and published once per flush (a microtask, like the rings' pump); replies,
 * EXITs and CALLs come back in batches and go to the same frame handler as a
 * ring's (reply_drain.ts).
 *
 * Faults are core failures, as for a local worker that dies: a node lost (silent,
 * a batch missing, the broker gone, it said bye) fails every core it had, each
 * request queued answered CORE_FAILED at once; the supervisor's restart of a core
 * rejoins its node with fresh spawnds (or restarts that one spawnd if the node
 * is still joined), under its backoff and intensity rules.
 */
import type { Msg, NatsConnection } from '@nats-io/transport-node'
import { KernelError } from '../errors.js'
import { frameHeader } from '../protocol/frame.js'
import { Op } from '../protocol/opcodes.js'
import {
  ERR_CORE_FAILED,
  ERR_SHUTDOWN,
  type CoreStats,
  type LinkHandlers,
  type NodeInfo,
} from '../link/link.js'
import type { ReplyHandler } from '../link/receive_queue.js'
import { deliver, refuseLater } from '../link/receive_queue.js'
import { handleFrame, NO_HANDLERS } from '../link/reply_drain.js'
import { withTimeout } from '../link/timers.js'
import { connectBroker, subjectPrefix } from './broker.js'
import { nonce, subjects, unseal } from './handshake.js'
import { NodeJoins } from './node_join.js'
import type { RemoteNode } from './remote_node.js'
import type { RemoteConfig } from './options.js'
import { RemoteCore } from './remote_core.js'
import { BridgeWorker } from './bridge_worker.js'
import type { BridgeSpec, SessionRole } from './session_bridge.js'
import { Channel } from '../ring/channel.js'
import { CONTROL, readFrameHeader, readFrameText } from './wire.js'

/** What a runtime hears of its nodes (published as events by the boot path). */
export type NodeEvent =
  | { type: 'node-joined'; node: string; cores: number[] }
  | { type: 'node-lost'; node: string; why: string }

const RESOLVED = Promise.resolve()

export class RemoteLinks {
  handlers: LinkHandlers = NO_HANDLERS
  onNode: (ev: NodeEvent) => void = () => {}
  /** Remote cores by (core number - firstCore); each slot holds its live incarnation. */
  readonly cores: RemoteCore[] = []
  private nc: NatsConnection | null = null
  private readonly prefix: string
  /** This runtime's id on the broker (its subjects' token). */
  readonly id = nonce()
  private readonly joins: NodeJoins
  private readonly dirty: RemoteCore[] = []
  private flushScheduled = false
  private closing = false
  private readonly h = frameHeader()
  private readonly bridges: BridgeWorker

  constructor(
    private readonly config: RemoteConfig,
    /** The first remote core's number: the local cores come first. */
    readonly firstCore: number,
  ) {
    this.prefix = subjectPrefix(config.broker)
    this.bridges = new BridgeWorker(config.broker, config.secret, `multikernel-bridge-${this.id}`)
    this.joins = new NodeJoins(config, this.prefix, this.id, {
      joined: (node, first) => this.joined(node, first),
      silent: (node) => this.lose(node, `node ${node.name} fell silent`),
      nextCore: () => this.nextCore(),
    })
  }

  /** Connect; resolves once every named node joined (the caller bounds it). */
  async start(timeoutMs: number): Promise<void> {
    const nc = await connectBroker(this.config.broker, `multikernel-runtime-${this.id}`, timeoutMs)
    this.nc = nc
    this.joins.nc = nc
    nc.subscribe(subjects.hello(this.prefix), {
      callback: (_e, m) => this.joins.hello(unseal(this.config.secret, m.data)),
    })
    nc.subscribe(subjects.runtimeAll(this.prefix, this.id), {
      callback: (_e, m) => this.onMessage(m),
    })
    void this.watchStatus(nc)
    // The broker has our subscriptions before boot returns: a hello sent right
    // after (a node joining an 'any' runtime) is not missed.
    await withTimeout(nc.flush(), timeoutMs)
    if ((await withTimeout(this.joins.named(), timeoutMs)) === 'timeout') {
      const missing = this.joins.all().filter((n) => n.cores.length === 0)
      throw new KernelError(
        'REMOTE_UNREACHABLE',
        `node ${missing.map((n) => n.name).join(', ')} did not join within ${timeoutMs} ms`,
      )
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        for (const node of this.joins.all()) this.lose(node, 'the broker connection was lost')
      }
    }
  }

  /** A node joined: fresh incarnations of its cores, numbered on its first join. */
  private joined(node: RemoteNode, first: boolean): void {
    const maxBatch = this.nc?.info?.max_payload ?? 1 << 20
    if (first) {
      const next = this.nextCore()
      for (let i = 0; i < node.coreCount; i++) node.cores.push(next + i)
      for (const core of node.cores) this.cores.push(this.incarnation(node, core, maxBatch))
    } else {
      for (const core of node.cores)
        this.cores[core - this.firstCore] = this.incarnation(node, core, maxBatch)
    }
    this.onNode({ type: 'node-joined', node: node.name, cores: [...node.cores] })
  }

  /** The number the next node's first core gets. */
  private nextCore(): number {
    return this.firstCore + this.cores.length
  }

  private incarnation(node: RemoteNode, core: number, maxBatch: number): RemoteCore {
    const index = node.cores.indexOf(core)
    return new RemoteCore(
      core,
      node.name,
      index,
      node.maxFrame,
      maxBatch,
      (c) => this.publish(c),
      this.config.joinTimeoutMs,
    )
  }

  // ------------------------------------------------------------------ receiving

  private onMessage(m: Msg): void {
    const rest = m.subject.slice(this.joins.runtimePrefix.length)
    if (rest === 'join') return this.joins.answer(unseal(this.config.secret, m.data))
    const node = this.joins.get(rest.slice(0, rest.indexOf('.')))
    const e = node?.epoch
    if (node === undefined || e == null) return
    const b = e.receive(m.data)
    if (b === null) return
    if (b === 'gap') return this.lose(node, `a batch from node ${node.name} was lost`)
    if (b.core === CONTROL) return e.eachControl(m.data, (c) => this.control(node, c))
    const core = node.cores[b.core]
    const c = core === undefined ? undefined : this.cores[core - this.firstCore]
    if (c === undefined || c.health !== 'up') return
    c.lastSeen = Date.now()
    const h = this.h
    const data = m.data
    e.eachFrame(data, (at, _len, v) => {
      readFrameHeader(v, at, h)
      handleFrame(c, h, readFrameText(data, v, at), this.handlers)
    })
  }

  private control(node: RemoteNode, c: Record<string, unknown>): void {
    if (c.t === 'bye') return this.lose(node, `node ${node.name} left`)
    const core = typeof c.core === 'number' ? node.cores[c.core] : undefined
    if (core === undefined) return
    if (c.t === 'down') {
      // At shutdown a spawnd ends because it was told to: not a fault.
      this.fail(
        core,
        this.closing ? 'down' : 'failed',
        `node ${node.name}: ${typeof c.why === 'string' ? c.why : 'spawnd ended'}`,
      )
    } else if (c.t === 'up') {
      node.restarted(c.core as number)
    }
  }

  // ------------------------------------------------------------------ sending

  core(core: number): RemoteCore {
    return this.cores[core - this.firstCore]
  }

  request(
    core: number,
    op: number,
    domainId: number,
    arg: number,
    text: string | null,
    h: ReplyHandler,
  ): void {
    const c = this.core(core)
    if (c.health !== 'up') return refuse(c, h)
    c.request(op, domainId, arg, text, h)
    this.dirtied(c)
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
    const c = this.core(core)
    if (c.health !== 'up') return refuse(c, h)
    c.requestSpawn(op, domainId, url, argv, env, h)
    this.dirtied(c)
  }

  answer(core: number, tag: number, callerId: number, err: number, text: string | null): void {
    const c = this.core(core)
    if (c === undefined || c.health !== 'up') return
    c.answer(Op.RESULT, tag, callerId, err, text)
    this.dirtied(c)
  }

  private dirtied(c: RemoteCore): void {
    if (c.dirty) return
    c.dirty = true
    this.dirty.push(c)
    if (this.flushScheduled) return
    this.flushScheduled = true
    void RESOLVED.then(this.flush)
  }

  /** One publish per core written to since the last flush. */
  private readonly flush = (): void => {
    this.flushScheduled = false
    const d = this.dirty
    for (let i = 0; i < d.length; i++) {
      d[i].dirty = false
      if (d[i].out.frames > 0) this.publish(d[i])
    }
    d.length = 0
  }

  private publish(c: RemoteCore): void {
    const e = this.joins.get(c.node)?.epoch
    if (c.health !== 'up' || e == null) return c.out.discard()
    e.publish(c.index, c.out)
  }

  // ------------------------------------------------------------------ faults

  /** A node is lost: every core it had fails. */
  private lose(node: RemoteNode, why: string): void {
    if (!this.joins.drop(node, why)) return
    this.onNode({ type: 'node-lost', node: node.name, why })
    for (const core of node.cores) this.fail(core, this.closing ? 'down' : 'failed', why)
  }

  /** Fail one core: everything waiting on it answered, then the domain side told. */
  fail(core: number, health: 'failed' | 'down', why: string): boolean {
    const c = this.core(core)
    if (c === undefined || c.health !== 'up') return false
    c.health = health
    c.failure = why
    c.out.discard()
    const code = health === 'down' ? ERR_SHUTDOWN : ERR_CORE_FAILED
    for (const h of c.receiveQueue.takeAll()) deliver(h, code, 0, null)
    this.handlers.coreDown(core, health, why)
    return true
  }

  /**
   * Bring a failed remote core back: its node rejoined (fresh spawnds on every
   * core it has), or, when the node is still joined, that one spawnd restarted.
   */
  async restart(core: number): Promise<void> {
    if (this.closing) throw new KernelError('SHUTDOWN', 'restartCore: the runtime is shut down')
    const c = this.core(core)
    if (c.health === 'up') return
    const node = this.joins.get(c.node)
    if (node === undefined) throw new KernelError('INVALID_SPAWND', `no node for core ${core}`)
    if (node.epoch === null) await this.joins.join(node)
    else {
      await node.restart(c.index, this.config.joinTimeoutMs)
      this.cores[core - this.firstCore] = this.incarnation(node, core, c.out.maxBytes)
    }
  }

  /**
   * Bind a session's end on remote core `core`: its node makes a channel of the
   * same capacities for its spawnd, and carries the end over NATS (session_bridge.ts).
   */
  bindSession(
    core: number,
    session: number,
    nonce: string,
    role: SessionRole,
    buffer: SharedArrayBuffer,
  ): boolean {
    const c = this.core(core)
    const e = c === undefined ? null : this.joins.get(c.node)?.epoch
    if (c === undefined || c.health !== 'up' || e == null) return false
    const probe = new Channel(buffer, 'a', 0)
    e.control({
      t: 'bind',
      core: c.index,
      session,
      nonce,
      role,
      capacity: probe.tx.capacity,
      replyCapacity: probe.rx.capacity,
    })
    return true
  }

  /** Carry a remote end's stand-in on this host (the bridge worker). */
  bridge(spec: BridgeSpec): void {
    this.bridges.bridge(spec)
  }

  /** The largest message the broker takes. */
  get maxBatch(): number {
    return this.nc?.info?.max_payload ?? 1 << 20
  }

  beginClose(): void {
    this.closing = true
  }

  /** Stop every remote spawnd (bounded), leave the nodes, close the connection. */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true
    const byes = this.cores.map(
      (c) =>
        new Promise<void>((resolve) =>
          this.request(c.core, Op.SHUTDOWN, 0, 0, null, () => resolve()),
        ),
    )
    await withTimeout(Promise.all(byes), timeoutMs)
    for (const node of this.joins.all()) this.lose(node, 'the runtime shut down')
    this.joins.close()
    await this.bridges.close()
    const nc = this.nc
    this.nc = null
    if (nc !== null) await withTimeout(nc.close(), 1000)
  }

  stats(): CoreStats[] {
    return this.cores.map((c) => ({
      core: c.core,
      node: c.node,
      health: c.health,
      sendQueue: 0,
      receiveQueue: c.receiveQueue.size,
      requests: c.requests,
      replies: c.replies,
      notifications: c.notifications,
      strayReplies: c.receiveQueue.strayReplies,
      requestRingBytes: c.out.bytes,
      replyRingBytes: 0,
      // (Ahead of now while a fresh spawnd boots: see RemoteCore.lastSeen.)
      lastSeenAgoMs: Math.max(0, Date.now() - c.lastSeen),
      protocolFailures: c.protocolFailures,
    }))
  }

  /** The nodes and their cores. */
  nodes(): NodeInfo[] {
    return this.joins.all().map((n) => ({
      name: n.name,
      cores: [...n.cores],
      joined: n.epoch !== null,
      refused: n.epoch?.refused ?? 0,
    }))
  }
}

/** A request for a core that is not up: answered asynchronously, like any reply. */
function refuse(c: RemoteCore, h: ReplyHandler): void {
  refuseLater(h, c.health === 'down' ? ERR_SHUTDOWN : ERR_CORE_FAILED)
}
