/**
 * The ipc suite's worker tasks: one per thread of a measurement, handed in workerData
 * (bench/lib/rounds.ts adds `ctl` and `rounds`). Shared by the main side (suite.ts)
 * and the worker side (worker.ts).
 */
import type { MessagePort } from 'node:worker_threads'
import type { SessionEnd } from './pair.js'

export type RpcImpl = 'port' | 'postMessage' | 'comlink' | 'poll'
export type RpcMode = 'latency' | 'pipelined' | 'alloc'
export type StreamImpl = 'port' | 'postMessage'
export type StreamKind = 'values' | 'bytes'

export interface RpcTask {
  kind: 'rpc'
  impl: RpcImpl
  side: 'client' | 'server'
  mode: RpcMode
  /** Calls per round. */
  count: number
  /** Pipelined: calls in flight. */
  inflight: number
  /** Port: spin iterations before a wait sleeps (undefined: the default). */
  spin?: number
  end?: SessionEnd
  port?: MessagePort
  /** Server: an Int32 word set to the round number when a round starts (main-thread clients). */
  started?: SharedArrayBuffer
}

export interface StreamTask {
  kind: 'stream'
  impl: StreamImpl
  side: 'source' | 'sink'
  what: StreamKind
  /** Messages per round. */
  count: number
  /** Messages per publish (port) or per postMessage (peer). */
  batch: number
  /** postMessage: batches in flight at most (credit through `credit`). */
  window: number
  end?: SessionEnd
  port?: MessagePort
  credit?: SharedArrayBuffer
}

export type IpcTask = RpcTask | StreamTask

/** Size of a byte message in the byte-streaming figures. */
export const BYTES_PAYLOAD = 64
/** The small structured value of the value-streaming figures (a fresh seq each). */
export function smallValue(seq: number): { seq: number; kind: string; ok: boolean } {
  return { seq, kind: 'tick', ok: true }
}
