/**
 * A node: spawnds on this host offered to a runtime through the NATS broker
 * (`multikernel node`). Free, it says hello every helloMs; joined by a runtime
 * (handshake.ts), it starts fresh spawnds and relays their frames (node_core.ts)
 * until the link ends: the runtime says bye, falls silent, the broker connection
 * drops, or a batch is missing. Then its spawnds are ended with every domain on
 * them (the runtime has failed those cores already, or will when it notices) and
 * it is free again, so a runtime rejoins it with fresh spawnds under its
 * supervisor's backoff. A node serves one runtime at a time.
 *
 * What it believes comes only from batches that verify under the epoch's key with
 * the next sequence number (wire.ts): a stranger on the broker can make it do nothing.
 */
import { randomInt } from 'node:crypto'
import type { NatsConnection, Msg, Subscription } from '@nats-io/transport-node'
import { DOORBELL_BYTES, Doorbell } from '../ring/doorbell.js'
import { startSpawnd, type LinkConfig } from '../link/spawnd_start.js'
import { connectBroker, subjectPrefix, type BrokerOptions } from './broker.js'
import { NodeCore } from './node_core.js'
import { SessionBridges } from './session_bridges.js'
import { Channel } from '../ring/channel.js'
import { reasonToWord } from '../session/end_reason.js'
import { Epoch } from './epoch.js'
import {
  epochKeys,
  nonce,
  seal,
  subjects,
  unseal,
  NAME_PATTERN,
  type Join,
  type Secret,
} from './handshake.js'
import { CONTROL } from './wire.js'

/** A session whose carrier failed ends as one whose core failed. */
const CORE_FAILED = reasonToWord('core-failed')

export interface NodeOptions {
  broker: BrokerOptions
  secret: Secret
  name: string
  cores: number
  /** Hello every this many ms while free (default 500). */
  helloMs?: number
  /** Spawnd rings and limits (the runtime's defaults otherwise). */
  link?: Partial<LinkConfig>
  /** Where the node says what happens (the CLI prints it). */
  log?: (line: string) => void
}

const DEFAULT_LINK: LinkConfig = {
  ringCapacity: 1 << 20,
  replyRingCapacity: 1 << 20,
  maxDispatchers: 1024,
  spin: 64,
  hotSpinMicros: 0,
}

/** How long the node polls a core's reply ring after handing it requests, ms. */
const HOT_SPIN_MS = 0.05

/** Is this host little-endian? The wire copies ring frames as they are (wire.ts). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

export class Node {
  private nc: NatsConnection | null = null
  private sub: Subscription | null = null
  private readonly prefix: string
  private readonly config: LinkConfig
  private helloNonce = nonce()
  private helloTimer: NodeJS.Timeout | null = null
  private epoch: Epoch | null = null
  private cores: NodeCore[] = []
  /** The runtime's number of core 0 here (the join says): spawnd i is core base + i. */
  private base = 0
  private readonly bellBuffer = new SharedArrayBuffer(DOORBELL_BYTES)
  private readonly bell = Doorbell.init(this.bellBuffer, 0)
  private readonly token = randomInt(1, 0x7fffffff)
  private pumping = false
  private bridges: SessionBridges | null = null
  private closed = false
  private readonly log: (line: string) => void

  constructor(private readonly o: NodeOptions) {
    if (!LITTLE_ENDIAN) throw new Error('multikernel node: this host is not little-endian')
    if (!NAME_PATTERN.test(o.name)) {
      throw new TypeError('node name must be 1-64 letters, digits, _ or -')
    }
    if (!Number.isInteger(o.cores) || o.cores < 1 || o.cores > 256) {
      throw new RangeError('cores must be an integer from 1 to 256')
    }
    this.prefix = subjectPrefix(o.broker)
    this.config = { ...DEFAULT_LINK, ...o.link }
    this.log = o.log ?? (() => {})
  }

  /** Connect and start saying hello. */
  async start(): Promise<void> {
    const nc = await connectBroker(this.o.broker, `multikernel-node-${this.o.name}`, 10_000)
    this.nc = nc
    this.bridges = new SessionBridges(nc, this.o.secret, this.prefix)
    this.sub = nc.subscribe(subjects.nodeAll(this.prefix, this.o.name), {
      callback: (_err, msg) => this.onMessage(msg),
    })
    void this.watchStatus(nc)
    this.helloTimer = setInterval(() => this.hello(), this.o.helloMs ?? 500)
    this.hello()
    this.log(`node ${this.o.name} up: ${this.o.cores} cores on ${nc.getServer()}`)
  }

  /** Leave the runtime (if joined), end the spawnds and close the connection. */
  async stop(): Promise<void> {
    this.closed = true
    if (this.helloTimer !== null) clearInterval(this.helloTimer)
    await this.endEpoch('node stopping', true)
    this.sub?.unsubscribe()
    await this.nc?.close()
  }

  /** The broker went away: whatever was in flight is gone, so the link is too. */
  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') void this.endEpoch('broker connection lost', false)
      if (s.type === 'reconnect') {
        this.log(`node ${this.o.name} reconnected to ${s.server}`)
        this.hello()
      }
    }
  }

  private hello(): void {
    if (this.epoch !== null || this.closed || this.nc === null || this.nc.isClosed()) return
    this.nc.publish(
      subjects.hello(this.prefix),
      seal(this.o.secret, {
        t: 'hello',
        name: this.o.name,
        cores: this.o.cores,
        nonce: this.helloNonce,
      }),
    )
  }

  private onMessage(msg: Msg): void {
    if (this.closed) return
    const last = msg.subject.slice(msg.subject.lastIndexOf('.') + 1)
    if (last === 'join') {
      const m = unseal(this.o.secret, msg.data)
      if (m !== null && m.t === 'join') this.join(m)
      return
    }
    const e = this.epoch
    if (e === null) return
    const b = e.receive(msg.data)
    if (b === null) return
    if (b === 'gap') return void this.endEpoch('a batch from the runtime was lost', false)
    if (b.core === CONTROL) return e.eachControl(msg.data, (c) => this.control(c))
    const core = this.cores[b.core]
    if (core === undefined) return
    e.eachFrame(msg.data, (at, len) => core.request(msg.data, at, len))
    core.flush()
    this.awaitReply(core, e)
  }

  /**
   * Poll `core`'s reply ring for a bounded while after handing it requests, and
   * relay what comes at once: a spawnd answers a ping in microseconds, and waking
   * this thread through its doorbell and event loop costs more than that (the
   * rings' pump does the same, hotSpinMicros). Bounded, so an oversubscribed host
   * loses at most HOT_SPIN_MS per batch.
   */
  private awaitReply(core: NodeCore, e: Epoch): void {
    const end = performance.now() + HOT_SPIN_MS
    for (let k = 1; ; k++) {
      if (core.readable) {
        core.drain((full) => e.publish(full.index, full.out))
        if (core.out.frames > 0) e.publish(core.index, core.out)
        return
      }
      if ((k & 15) === 0 && performance.now() > end) return
    }
  }

  /** A join with our current nonce, while free: start fresh spawnds and say joined. */
  private join(m: Join): void {
    if (this.epoch !== null || m.node !== this.helloNonce || this.nc === null) return
    const nc = this.nc
    const keys = epochKeys(this.o.secret, m.node, m.nonce)
    // The next hello is a fresh one: this join cannot be replayed.
    this.helloNonce = nonce()
    const maxBatch = nc.info?.max_payload ?? 1 << 20
    this.base = m.core
    const cores: NodeCore[] = []
    for (let i = 0; i < this.o.cores; i++) cores.push(this.startCore(i, maxBatch))
    this.cores = cores
    this.epoch = new Epoch({
      nc,
      send: keys.toRuntime,
      receive: keys.toNode,
      subject: (core) => subjects.toRuntime(this.prefix, m.runtime, this.o.name, core),
      heartbeatMs: m.heartbeatMs,
      maxBatch,
      silent: () => void this.endEpoch('the runtime fell silent', false),
    })
    nc.publish(
      subjects.joined(this.prefix, m.runtime),
      seal(this.o.secret, {
        t: 'joined',
        name: this.o.name,
        node: m.node,
        nonce: m.nonce,
        cores: this.o.cores,
        maxFrame: Math.min(cores[0].maxFrame, maxBatch - 64),
      }),
    )
    this.log(`node ${this.o.name} joined runtime ${m.runtime}`)
    this.pump()
  }

  private startCore(i: number, maxBatch: number): NodeCore {
    const link = startSpawnd(this.base + i, this.config, this.bellBuffer, this.token)
    const c = new NodeCore(i, link, this.token, maxBatch)
    const ended = (why: string): void => {
      // Only the live incarnation of core i speaks for it.
      if (this.cores[i] !== c || this.epoch === null) return
      this.epoch.control({ t: 'down', core: i, why })
    }
    link.worker.on('error', (err: Error) => ended(`worker error: ${err.message}`))
    link.worker.on('exit', (code: number) => ended(`worker exited with code ${code}`))
    return c
  }

  private control(c: Record<string, unknown>): void {
    if (c.t === 'bye') return void this.endEpoch('the runtime left', false)
    if (c.t === 'bind') return this.bindSession(c)
    if (c.t === 'restart' && typeof c.core === 'number') {
      const i = c.core
      const old = this.cores[i]
      if (old === undefined || this.epoch === null) return
      const fresh = this.startCore(i, old.out.maxBytes)
      this.cores[i] = fresh
      old.clear()
      old.link.chan.close()
      void old.link.worker.terminate()
      this.epoch.control({ t: 'up', core: i })
    }
  }

  /**
   * A session end on one of our cores: a channel of the runtime's capacities for
   * its spawnd, and a bridge standing in for the far end (session_bridge.ts).
   */
  private bindSession(c: Record<string, unknown>): void {
    const core = typeof c.core === 'number' ? this.cores[c.core] : undefined
    const { session, nonce, role, capacity, replyCapacity } = c
    if (
      core === undefined ||
      this.bridges === null ||
      typeof session !== 'number' ||
      typeof nonce !== 'string' ||
      (role !== 'client' && role !== 'server') ||
      typeof capacity !== 'number' ||
      typeof replyCapacity !== 'number'
    ) {
      return
    }
    let chan: Channel
    try {
      chan = Channel.create({ capacity, replyCapacity })
    } catch {
      return
    }
    this.bridges.add({ nonce, far: role === 'client' ? 'server' : 'client', buffer: chan.buffer })
    core.link.bind(session, chan.buffer)
  }

  /** End the link: end every spawnd (and the domains on them), be free again. */
  private async endEpoch(why: string, sayBye: boolean): Promise<void> {
    const e = this.epoch
    if (e === null) return
    this.epoch = null
    if (sayBye) e.control({ t: 'bye' })
    e.close()
    const cores = this.cores
    this.cores = []
    // Their sessions end with them (the reason a dead core's sessions have).
    this.bridges?.closeAll(CORE_FAILED)
    this.log(`node ${this.o.name} left the runtime: ${why}`)
    await Promise.all(
      cores.map(async (c) => {
        c.clear()
        c.link.chan.close()
        await c.link.worker.terminate()
      }),
    )
    this.hello()
  }

  /** Relay replies: drain every reply ring, publish a batch per core, sleep on the bell. */
  private pump(): void {
    if (this.pumping) return
    this.pumping = true
    const anyReply = (): boolean => this.epoch === null || this.cores.some((c) => c.readable)
    const step = (): void => {
      const e = this.epoch
      if (e === null) {
        this.pumping = false
        return
      }
      let n = 0
      for (const c of this.cores) {
        n += c.drain((full) => e.publish(full.index, full.out))
        if (c.out.frames > 0) e.publish(c.index, c.out)
        if (c.backlog > 0) c.flush()
      }
      if (n > 0) return void setImmediate(step)
      void this.bell.waitAsync(anyReply, 0, 20).then(step)
    }
    step()
  }
}
