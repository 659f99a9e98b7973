/**
 * The peers' worker (dist/bench/pm/peer-worker.js): with workerData.mode 'echo' it
 * answers every message with the same message (the postMessage request/response
 * peer); with 'comlink' it exposes { ping(x) } through comlink's node adapter.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { expose } from 'comlink'
import { nodeEndpoint } from './comlink-node.js'

export type PeerMode = 'echo' | 'comlink'

const port = parentPort
if (port === null) throw new Error('peer-worker runs inside a worker')
const mode = (workerData as { mode: PeerMode }).mode

if (mode === 'echo') {
  port.on('message', (m: unknown) => port.postMessage(m))
} else {
  expose({ ping: (x: number): number => x }, nodeEndpoint(port))
}
