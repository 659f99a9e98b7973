/**
 * RemoteNode: what a runtime knows of one node: its name, the core numbers it was
 * given on its first join (kept for good), its latest unused hello, and its link
 * epoch while joined. The handshake itself is node_join.ts.
 */
import { KernelError } from '../errors.js'
import type { Epoch } from './epoch.js'
import type { Hello } from './handshake.js'

export class RemoteNode {
  /** Core numbers in the runtime, by index on the node (empty until the first join). */
  readonly cores: number[] = []
  coreCount = 0
  /** Largest frame payload its request rings and the broker take. */
  maxFrame = 0
  epoch: Epoch | null = null
  /** The last hello not yet answered with a join (a nonce is good for one join). */
  hello: Hello | null = null
  joining: Promise<void> | null = null
  private helloWaiters: (() => void)[] = []
  /**
   * Nonces of hellos this runtime joined the node on, newest last (a few). A node
   * hellos with a fresh nonce after every join, so one of these is a replay: a
   * stranger sending them over and over would otherwise be taken for the node
   * and every rejoin would wait for a join the node ignores.
   */
  private readonly joinedNonces = new Set<string>()
  private readonly restarts = new Map<number, { resolve: () => void; reject: (e: Error) => void }>()

  constructor(readonly name: string) {}

  /** A join on the hello of `nonce` succeeded: a hello with it again is a replay. */
  joinedOn(nonce: string): void {
    this.joinedNonces.add(nonce)
    if (this.joinedNonces.size > 16) {
      for (const old of this.joinedNonces) {
        this.joinedNonces.delete(old)
        break
      }
    }
  }

  /** A fresh hello arrived (while not joined); one joined on before is ignored. */
  heard(h: Hello): void {
    if (this.joinedNonces.has(h.nonce)) return
    this.hello = h
    const w = this.helloWaiters
    this.helloWaiters = []
    for (const f of w) f()
  }

  /** The next unused hello, waiting at most `ms` for one. */
  nextHello(ms: number): Promise<Hello> {
    return new Promise((resolve, reject) => {
      const take = (): void => {
        const h = this.hello
        if (h === null) return void this.helloWaiters.push(take)
        this.hello = null
        clearTimeout(timer)
        resolve(h)
      }
      const timer = setTimeout(() => {
        this.helloWaiters = this.helloWaiters.filter((f) => f !== take)
        reject(
          new KernelError(
            'REMOTE_UNREACHABLE',
            `node ${this.name} has not said hello within ${ms} ms`,
          ),
        )
      }, ms)
      take()
    })
  }

  /** Ask the node to restart its spawnd `index` (it is joined); resolves when it says it is up. */
  restart(index: number, ms: number): Promise<void> {
    const e = this.epoch
    if (e === null)
      return Promise.reject(new KernelError('CORE_FAILED', `node ${this.name} is not joined`))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.restarts.delete(index)
        reject(
          new KernelError(
            'REMOTE_UNREACHABLE',
            `node ${this.name} did not restart core ${index} within ${ms} ms`,
          ),
        )
      }, ms)
      this.restarts.get(index)?.reject(new KernelError('CORE_FAILED', 'restarted again'))
      this.restarts.set(index, {
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
        reject: (err) => {
          clearTimeout(timer)
          reject(err)
        },
      })
      e.control({ t: 'restart', core: index })
    })
  }

  /** The node said spawnd `index` is up again. */
  restarted(index: number): void {
    const w = this.restarts.get(index)
    this.restarts.delete(index)
    w?.resolve()
  }

  /** The link ended: restarts waiting on it fail. */
  lost(why: string): void {
    for (const w of this.restarts.values()) w.reject(new KernelError('CORE_FAILED', why))
    this.restarts.clear()
  }
}
