/**
 * SessionBridges: the session ends one host carries over NATS (session_bridge.ts),
 * on a node (its main thread) or in a runtime's bridge worker (bridge_worker.ts).
 */
import type { NatsConnection } from '@nats-io/transport-node'
import type { Secret } from './handshake.js'
import { SessionBridge, type BridgeSpec } from './session_bridge.js'

export class SessionBridges {
  private readonly live = new Set<SessionBridge>()

  constructor(
    private readonly nc: NatsConnection,
    private readonly secret: Secret,
    private readonly prefix: string,
  ) {}

  /** Carry one session end. */
  add(spec: BridgeSpec): void {
    this.live.add(
      new SessionBridge(this.nc, this.secret, this.prefix, spec, (b) => this.live.delete(b)),
    )
  }

  get size(): number {
    return this.live.size
  }

  /** Close every session carried here (the link they depend on ended), with `reason`. */
  closeAll(reason: number): void {
    for (const b of [...this.live]) b.close(reason)
  }
}
