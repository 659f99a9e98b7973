/**
 * Latency primitives of the process-manager suite: one function per kind of round
 * trip, for this library and for its peers (postMessage, comlink, the polling
 * postMessage peer, the bare Atomics hand-off), so that every figure and its peers
 * are taken the same way in the same process run.
 *
 * Every function starts what it needs and ends it before it returns (also on error),
 * so the process can exit: runtimes are shut down, workers terminated.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'
import { releaseProxy, wrap } from 'comlink'
import { boot, type BootOptions, type Runtime } from '../../src/index.js'
import { percentileSorted } from '../lib/stats.js'
import { nodeEndpoint } from './comlink-node.js'
import { ATOMICS_BYTES, PING_WORD, PONG_WORD, type PeerMode } from './peer-layout.js'

export const TRIVIAL_DOMAIN = new URL('./trivial-domain.js', import.meta.url)
const PEER_WORKER = new URL('./peer-worker.js', import.meta.url)

/** One latency run, in microseconds. */
export interface LatencyRun {
  p50: number
  p99: number
  mean: number
  max: number
  samples: number
}

/**
 * Percentiles of one run's round trips (ms in, microseconds out), nearest-rank.
 * Each variant writes its timing loop out itself (performance.now() around each
 * await), so that every loop's call site sees one callee and stays monomorphic.
 */
export function summarizeLatency(lat: Float64Array): LatencyRun {
  let sum = 0
  for (let i = 0; i < lat.length; i++) sum += lat[i]
  lat.sort()
  return {
    p50: percentileSorted(lat, 50) * 1000,
    p99: percentileSorted(lat, 99) * 1000,
    mean: (sum / lat.length) * 1000,
    max: lat[lat.length - 1] * 1000,
    samples: lat.length,
  }
}

/** Boot a runtime for one measurement, run `body`, and always shut it down. */
export async function withRuntime<T>(
  opts: BootOptions,
  body: (rt: Runtime) => Promise<T>,
): Promise<T> {
  const rt = await boot(opts)
  try {
    return await body(rt)
  } finally {
    await rt.shutdown()
  }
}

/** Ping round trips on core 0 of a runtime booted with `opts`. */
export function pingLatency(opts: BootOptions, count: number, warmup: number): Promise<LatencyRun> {
  return withRuntime(opts, async (rt) => {
    for (let i = 0; i < warmup; i++) await rt.ping(0)
    const lat = new Float64Array(count)
    for (let i = 0; i < count; i++) {
      const t0 = performance.now()
      await rt.ping(0)
      lat[i] = performance.now() - t0
    }
    return summarizeLatency(lat)
  })
}

// ------------------------------------------------------------------- peers

interface PeerData {
  mode: PeerMode
  port?: MessagePort
  sab?: SharedArrayBuffer
}

/** Start a peer worker and wait until it runs. */
export async function startPeer(data: PeerData): Promise<Worker> {
  const w = new Worker(PEER_WORKER, {
    workerData: data,
    transferList: data.port === undefined ? [] : [data.port],
  })
  await new Promise<void>((resolve, reject) => {
    w.once('online', () => resolve())
    w.once('error', reject)
  })
  return w
}

export async function withPeers<T>(
  mode: 'echo' | 'comlink',
  n: number,
  body: (ws: Worker[]) => Promise<T>,
): Promise<T> {
  const ws: Worker[] = []
  try {
    for (let i = 0; i < n; i++) ws.push(await startPeer({ mode }))
    return await body(ws)
  } finally {
    await Promise.all(ws.map((w) => w.terminate()))
  }
}

/** postMessage request/response round trips to an echo worker (both event-driven). */
export function postMessageLatency(count: number, warmup: number): Promise<LatencyRun> {
  return withPeers('echo', 1, async ([w]) => {
    let pending: (() => void) | null = null
    w.on('message', () => {
      const r = pending
      pending = null
      if (r !== null) r()
    })
    let i = 0
    const once = (): Promise<void> =>
      new Promise<void>((resolve) => {
        pending = resolve
        w.postMessage(i++)
      })
    for (let k = 0; k < warmup; k++) await once()
    const lat = new Float64Array(count)
    for (let k = 0; k < count; k++) {
      const t0 = performance.now()
      await once()
      lat[k] = performance.now() - t0
    }
    return summarizeLatency(lat)
  })
}

/** comlink proxy calls (`await api.ping(x)`) to a worker exposing { ping }. */
export function comlinkLatency(count: number, warmup: number): Promise<LatencyRun> {
  return withPeers('comlink', 1, async ([w]) => {
    const api = wrap<{ ping(x: number): number }>(nodeEndpoint(w))
    try {
      let i = 0
      for (let k = 0; k < warmup; k++) await api.ping(i++)
      const lat = new Float64Array(count)
      for (let k = 0; k < count; k++) {
        const t0 = performance.now()
        await api.ping(i++)
        lat[k] = performance.now() - t0
      }
      return summarizeLatency(lat)
    } finally {
      api[releaseProxy]()
    }
  })
}

const DONE = Promise.resolve()
/** After this long without an answer a polling peer counts as lost, ms. */
const LOST_MS = 5_000

/** Throws once a poll loop has waited LOST_MS (checked every 2^20 polls). */
function checkLost(k: number, t0: number, who: string): void {
  if ((k & 0xfffff) === 0 && performance.now() - t0 > LOST_MS) {
    throw new Error(`the ${who} peer did not answer`)
  }
}

/**
 * The polling postMessage peer: the main thread posts and polls its port with
 * receiveMessageOnPort until the reply comes; the worker polls its port the same way.
 */
export async function pollLatency(count: number, warmup: number): Promise<LatencyRun> {
  const { port1, port2 } = new MessageChannel()
  const w = await startPeer({ mode: 'poll', port: port2 })
  try {
    let i = 0
    const once = (): Promise<void> => {
      port1.postMessage(i++)
      const t0 = performance.now()
      let k = 0
      while (receiveMessageOnPort(port1) === undefined) checkLost(++k, t0, 'polling')
      return DONE
    }
    for (let k = 0; k < warmup; k++) await once()
    const lat = new Float64Array(count)
    for (let k = 0; k < count; k++) {
      const t0 = performance.now()
      await once()
      lat[k] = performance.now() - t0
    }
    return summarizeLatency(lat)
  } finally {
    port1.close()
    await w.terminate()
  }
}

/**
 * The bare Atomics hand-off with a worker: store a ping word, spin until the worker
 * stores it in the pong word. No queue, no frame: the limit of a polling round trip.
 */
export async function atomicsLatency(count: number, warmup: number): Promise<LatencyRun> {
  const sab = new SharedArrayBuffer(ATOMICS_BYTES)
  const a = new Int32Array(sab)
  const w = await startPeer({ mode: 'atomics', sab })
  try {
    let seq = 0
    const once = (): Promise<void> => {
      seq = (seq + 1) | 0
      Atomics.store(a, PING_WORD, seq)
      const t0 = performance.now()
      let k = 0
      while (Atomics.load(a, PONG_WORD) !== seq) checkLost(++k, t0, 'atomics')
      return DONE
    }
    for (let k = 0; k < warmup; k++) await once()
    const lat = new Float64Array(count)
    for (let k = 0; k < count; k++) {
      const t0 = performance.now()
      await once()
      lat[k] = performance.now() - t0
    }
    return summarizeLatency(lat)
  } finally {
    await w.terminate()
  }
}
