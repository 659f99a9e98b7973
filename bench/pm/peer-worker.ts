/**
 * The peers' worker (dist/bench/pm/peer-worker.js), by workerData.mode:
 *   echo     answers every message with the same message (event-driven postMessage);
 *   comlink  exposes { ping(x) } through comlink's node adapter;
 *   poll     polls a MessagePort (workerData.port) with receiveMessageOnPort and posts
 *            each message back: the polling postMessage peer of a hot core;
 *   atomics  the bare Atomics hand-off: spins on a ping word (workerData.sab) and
 *            answers in a pong word, the limit a hot core's round trip is held to.
 * Pollers spin SPIN times, then nap NAP_MS, and poll again until terminated.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads'
import { expose } from 'comlink'
import { nodeEndpoint } from './comlink-node.js'
import { PING_WORD, PONG_WORD, type PeerMode } from './peer-layout.js'

const SPIN = 1 << 16
const NAP_MS = 0.05

const port = parentPort
if (port === null) throw new Error('peer-worker runs inside a worker')
const data = workerData as { mode: PeerMode; port?: MessagePort; sab?: SharedArrayBuffer }

function pollLoop(p: MessagePort): void {
  const nap = new Int32Array(new SharedArrayBuffer(4))
  let spins = 0
  for (;;) {
    const r = receiveMessageOnPort(p)
    if (r !== undefined) {
      p.postMessage(r.message)
      spins = 0
    } else if (++spins >= SPIN) {
      spins = 0
      Atomics.wait(nap, 0, 0, NAP_MS)
    }
  }
}

function atomicsLoop(a: Int32Array): void {
  // The buffer starts at 0: a ping stored before this thread got here is still seen.
  let last = 0
  let spins = 0
  for (;;) {
    const v = Atomics.load(a, PING_WORD)
    if (v !== last) {
      last = v
      Atomics.store(a, PONG_WORD, v)
      spins = 0
    } else if (++spins >= SPIN) {
      spins = 0
      Atomics.wait(a, PING_WORD, last, NAP_MS)
    }
  }
}

if (data.mode === 'echo') {
  port.on('message', (m: unknown) => port.postMessage(m))
} else if (data.mode === 'comlink') {
  expose({ ping: (x: number): number => x }, nodeEndpoint(port))
} else if (data.mode === 'poll') {
  if (data.port === undefined) throw new Error('poll mode needs a port')
  pollLoop(data.port)
} else {
  if (data.sab === undefined) throw new Error('atomics mode needs a buffer')
  atomicsLoop(new Int32Array(data.sab))
}
