/**
 * AllCores: the local cores (rings to spawnd workers, links.ts) and the remote
 * ones (NATS to nodes, remote_links.ts) as one set of cores for the kernel and
 * the supervisor: core numbers below `local.cores` are local, the rest remote.
 * Only a runtime booted with `remote` has one; without it the kernel talks to
 * the local links directly, and the local hot path pays nothing for this.
 *
 * What stays local: a request with no core (a spawn, a service) goes to a local
 * core; remote cores are used when named. Gauges (the memory watcher, the module
 * bound) and workers exist only for local cores.
 */
import { randomBytes } from 'node:crypto'
import type { Worker } from 'node:worker_threads'
import { KernelError } from '../errors.js'
import type { PsEntry } from '../protocol/messages.js'
import type {
  CoreLinkView,
  CoreStats,
  KernelLinks,
  NodeInfo,
  ReplyHandler,
  SessionEnd,
  SpawndHealth,
} from '../link/link.js'
import { ping, pingMany, ps } from '../link/link_calls.js'
import type { SpawndLinks } from '../link/links.js'
import type { RemoteLinks } from './remote_links.js'
import { SessionBridge } from './session_bridge.js'

export class AllCores implements KernelLinks {
  /** Each session's nonce (its subjects and keys over NATS), by its channel. */
  private readonly nonces = new WeakMap<SharedArrayBuffer, string>()

  constructor(
    private readonly local: SpawndLinks,
    private readonly remote: RemoteLinks,
  ) {}

  get cores(): number {
    return this.local.cores + this.remote.cores.length
  }

  private isRemote(core: number): boolean {
    return core >= this.local.cores
  }

  check(core: unknown): number {
    if (typeof core === 'number' && Number.isInteger(core) && core >= this.local.cores) {
      if (core < this.cores) return core
      throw new KernelError(
        'INVALID_SPAWND',
        `no spawnd on core ${core} (cores 0..${this.cores - 1}, remote from ${this.local.cores})`,
      )
    }
    return this.local.check(core)
  }

  isUp(core: number): boolean {
    return this.isRemote(core) ? this.remote.core(core)?.health === 'up' : this.local.isUp(core)
  }

  pickCore(): number {
    return this.local.pickCore()
  }

  request(
    core: number,
    op: number,
    domainId: number,
    arg: number,
    text: string | null,
    h: ReplyHandler,
  ): void {
    if (this.isRemote(core)) this.remote.request(core, op, domainId, arg, text, h)
    else this.local.request(core, op, domainId, arg, text, h)
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
    if (this.isRemote(core)) this.remote.requestSpawn(core, op, domainId, url, argv, env, h)
    else this.local.requestSpawn(core, op, domainId, url, argv, env, h)
  }

  /**
   * A session end on a local core binds as ever. One on a remote core is carried
   * by its node over NATS; if the other end is local (a core, or the main thread),
   * the runtime's bridge worker stands in for the remote end on its side of the
   * channel. Two remote ends talk node to node. The runtime learns nothing of the
   * traffic either way, and the main thread carries none of it.
   */
  bind(core: number, session: number, buffer: SharedArrayBuffer, end: SessionEnd): boolean {
    const remote = this.isRemote(core)
    const peerRemote = end.peerCore >= this.local.cores
    if (end.rebind === true && (remote || peerRemote || this.nonces.has(buffer))) {
      throw new KernelError(
        'INVALID_SPAWND',
        'a session with an end on a remote core cannot move (attach, live update): not across machines',
      )
    }
    if (!remote) return this.local.bind(core, session, buffer, end)
    if (SessionBridge.tooLarge(buffer, this.remote.maxBatch)) {
      throw new KernelError(
        'FRAME_TOO_LARGE',
        `session ${session}: its channel's frames could not fit the broker's ${this.remote.maxBatch}-byte messages`,
      )
    }
    let nonce = this.nonces.get(buffer)
    if (nonce === undefined) {
      nonce = randomBytes(12).toString('hex')
      this.nonces.set(buffer, nonce)
    }
    if (!this.remote.bindSession(core, session, nonce, end.role, buffer)) return false
    if (!peerRemote) this.remote.bridge({ nonce, far: end.role, buffer })
    return true
  }

  answer(core: number, tag: number, callerId: number, err: number, text: string | null): void {
    if (this.isRemote(core)) this.remote.answer(core, tag, callerId, err, text)
    else this.local.answer(core, tag, callerId, err, text)
  }

  replyError(err: number, text: string | null, what: string, core: number): KernelError {
    if (!this.isRemote(core)) return this.local.replyError(err, text, what, core)
    const failure = this.remote.core(core)?.failure ?? ''
    return this.local.replyError(err, text, what, core, failure)
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

  stats(): CoreStats[] {
    return [...this.local.stats(), ...this.remote.stats()]
  }

  health(): SpawndHealth[] {
    return [...this.local.health(), ...this.remote.cores.map((c) => c.health)]
  }

  nodes(): NodeInfo[] {
    return this.remote.nodes()
  }

  worker(core: number): Worker {
    if (!this.isRemote(core)) return this.local.worker(core)
    this.check(core)
    const node = this.remote.core(core).node
    throw new KernelError(
      'INVALID_SPAWND',
      `core ${core} is remote: its worker runs on node ${node}`,
    )
  }

  coreLink(core: number): CoreLinkView | null {
    return this.isRemote(core) ? null : this.local.coreLink(core)
  }

  pollReplies(): void {
    this.local.pollReplies()
  }

  async terminate(core: number, why: string): Promise<void> {
    if (this.isRemote(core)) this.remote.fail(core, 'failed', why)
    else await this.local.terminate(core, why)
  }

  restart(core: number): Promise<void> {
    if (!this.isRemote(core)) return this.local.restart(core)
    return this.remote.restart(core).then(() => this.ping(core).then(() => undefined))
  }

  retire(core: number): Promise<void> {
    return this.isRemote(core) ? Promise.resolve() : this.local.retire(core)
  }

  beginClose(): void {
    this.local.beginClose()
    this.remote.beginClose()
  }

  async close(timeoutMs: number): Promise<void> {
    await Promise.all([this.remote.close(timeoutMs), this.local.close(timeoutMs)])
  }
}
