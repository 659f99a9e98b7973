/**
 * NodeJoins: the runtime's side of the handshake (handshake.ts). It keeps a
 * RemoteNode per node it wants, takes their hellos, joins them (a fresh runtime
 * nonce per join, the node's hello nonce in it), and on a matching joined starts
 * the link epoch with keys from both nonces. A node is joined on its first hello
 * (at boot for the named ones, whenever for 'any'); after it is lost, only a
 * restart of one of its cores (the supervisor's) joins it again.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { KernelError } from '../errors.js'
import { Epoch } from './epoch.js'
import {
  epochKeys,
  nonce,
  seal,
  subjects,
  type Handshake,
  type Hello,
  type Joined,
} from './handshake.js'
import type { RemoteConfig } from './options.js'
import { RemoteNode } from './remote_node.js'
import { BATCH_HEADER_BYTES, FRAME_PREFIX_BYTES } from './wire.js'

export interface JoinEvents {
  /** A node joined (`first`: its first join, so its cores need numbers). */
  joined(node: RemoteNode, first: boolean): void
  /** A joined node fell silent. */
  silent(node: RemoteNode): void
  /** The number the next node to join for the first time gets for its first core. */
  nextCore(): number
}

interface PendingJoin {
  node: string
  nonce: string
  resolve: (m: Joined) => void
}

export class NodeJoins {
  nc: NatsConnection | null = null
  readonly runtimePrefix: string
  private readonly nodes = new Map<string, RemoteNode>()
  private readonly pending = new Map<string, PendingJoin>()
  private namedWaiter: (() => void) | null = null
  /** First joins one at a time: a join names the node's first core (Join.core). */
  private numbering: Promise<void> = Promise.resolve()
  private closed = false

  constructor(
    private readonly config: RemoteConfig,
    private readonly prefix: string,
    private readonly runtime: string,
    private readonly events: JoinEvents,
  ) {
    this.runtimePrefix = `${prefix}.rt.${runtime}.`
    if (config.nodes !== 'any') for (const n of config.nodes) this.nodes.set(n, new RemoteNode(n))
  }

  get(name: string): RemoteNode | undefined {
    return this.nodes.get(name)
  }

  all(): RemoteNode[] {
    return [...this.nodes.values()]
  }

  /** Resolves once every named node has joined (the caller bounds the wait). */
  named(): Promise<void> {
    if (this.config.nodes === 'any') return Promise.resolve()
    return new Promise((resolve) => {
      this.namedWaiter = () => {
        if (this.all().every((n) => n.cores.length > 0)) {
          this.namedWaiter = null
          resolve()
        }
      }
      this.namedWaiter()
    })
  }

  /** A verified hello (or null: refused). */
  hello(m: Handshake | null): void {
    if (m === null || m.t !== 'hello' || this.closed) return
    let node = this.nodes.get(m.name)
    if (node === undefined) {
      if (this.config.nodes !== 'any') return
      node = new RemoteNode(m.name)
      this.nodes.set(m.name, node)
    }
    // A joined node's hello is an old one replayed, or the node left and we have
    // not noticed yet: either way not a join.
    if (node.epoch !== null) return
    node.heard(m)
    if (node.cores.length === 0 && node.joining === null) void this.join(node).catch(() => {})
  }

  /** Join `node` (one join at a time per node); resolves when its epoch started. */
  join(node: RemoteNode): Promise<void> {
    node.joining ??= this.doJoin(node).finally(() => {
      node.joining = null
    })
    return node.joining
  }

  private async doJoin(node: RemoteNode): Promise<void> {
    const ms = this.config.joinTimeoutMs
    const hello: Hello = await node.nextHello(ms)
    if (node.cores.length > 0) return this.joinAs(node, hello, node.cores[0])
    // Cores are numbered when a node first joins, in join order: the number sent
    // must be the one it gets, so no other first join may come in between.
    const before = this.numbering
    let done = (): void => {}
    this.numbering = new Promise((resolve) => (done = resolve))
    try {
      await before
      await this.joinAs(node, hello, this.events.nextCore())
    } finally {
      done()
    }
  }

  private async joinAs(node: RemoteNode, hello: Hello, core: number): Promise<void> {
    const ms = this.config.joinTimeoutMs
    const nc = this.nc
    if (nc === null || this.closed) throw new KernelError('SHUTDOWN', 'the runtime is shut down')
    const mine = nonce()
    const answered = new Promise<Joined>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(mine)
        reject(
          new KernelError(
            'REMOTE_UNREACHABLE',
            `node ${node.name} did not answer a join within ${ms} ms`,
          ),
        )
      }, ms)
      this.pending.set(mine, {
        node: hello.nonce,
        nonce: mine,
        resolve: (m) => {
          clearTimeout(timer)
          resolve(m)
        },
      })
    })
    nc.publish(
      subjects.join(this.prefix, node.name),
      seal(this.config.secret, {
        t: 'join',
        runtime: this.runtime,
        nonce: mine,
        node: hello.nonce,
        heartbeatMs: this.config.heartbeatMs,
        core,
      }),
    )
    const m = await answered
    this.start(node, m, mine)
  }

  /** A verified joined (or null): the answer to a join of ours. */
  answer(m: Handshake | null): void {
    if (m === null || m.t !== 'joined') return
    const p = this.pending.get(m.nonce)
    if (p === undefined || p.node !== m.node) return
    this.pending.delete(m.nonce)
    p.resolve(m)
  }

  private start(node: RemoteNode, m: Joined, mine: string): void {
    // The node took a join on this hello: it hellos with a fresh nonce from now on.
    node.joinedOn(m.node)
    const nc = this.nc as NatsConnection
    const maxBatch = nc.info?.max_payload ?? 1 << 20
    const keys = epochKeys(this.config.secret, m.node, mine)
    const epoch = new Epoch({
      nc,
      send: keys.toNode,
      receive: keys.toRuntime,
      subject: (core) => subjects.toNode(this.prefix, node.name, core),
      heartbeatMs: this.config.heartbeatMs,
      maxBatch,
      silent: () => this.events.silent(node),
    })
    const first = node.cores.length === 0
    if (!first && m.cores !== node.coreCount) {
      epoch.control({ t: 'bye' })
      epoch.close()
      throw new KernelError(
        'REMOTE_UNREACHABLE',
        `node ${node.name} came back with ${m.cores} cores, not its ${node.coreCount}`,
      )
    }
    node.coreCount = m.cores
    node.maxFrame = Math.min(m.maxFrame, maxBatch - BATCH_HEADER_BYTES - FRAME_PREFIX_BYTES)
    node.epoch = epoch
    this.events.joined(node, first)
    this.namedWaiter?.()
  }

  /** End `node`'s epoch; false when it had none. */
  drop(node: RemoteNode, why: string): boolean {
    const e = node.epoch
    if (e === null) return false
    node.epoch = null
    // The node may still be listening (a lost batch, a restart of ours): free it now.
    e.control({ t: 'bye' })
    e.close()
    node.lost(why)
    return true
  }

  close(): void {
    this.closed = true
    this.pending.clear()
  }
}
