/**
 * The runtime's bridge worker: it carries the runtime's side of every session
 * between a local end (a domain on a local core, or the main thread) and a remote
 * one, over its own NATS connection, so their traffic does not pass through the
 * main thread (src/remote/bridge_worker.ts starts it and hands it the sessions).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { connectBroker, subjectPrefix, type BrokerOptions } from '../src/remote/broker.js'
import { SessionBridges } from '../src/remote/session_bridges.js'
import type { BridgeSpec } from '../src/remote/session_bridge.js'

interface BridgeBoot {
  broker: BrokerOptions
  secret: Uint8Array
  name: string
}

const boot = workerData as BridgeBoot
const port = parentPort
if (port === null) throw new Error('the bridge worker runs as a worker')
const nc = await connectBroker(boot.broker, boot.name, 10_000)
const bridges = new SessionBridges(nc, Buffer.from(boot.secret), subjectPrefix(boot.broker))
port.on('message', (m: { t: 'bridge'; spec: BridgeSpec } | { t: 'close' }) => {
  if (m.t === 'bridge') bridges.add(m.spec)
  else {
    bridges.closeAll(1)
    void nc.close().then(() => port.close())
  }
})
port.postMessage({ t: 'ready' })
