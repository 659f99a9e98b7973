/**
 * The RPC contenders, both ends, on any thread (a worker under bench/lib/rounds.ts,
 * or the main thread as client). Each call hands a small integer over and gets it back.
 *
 *   port         SessionPort call(0, [i]) -> the server's method returns i
 *   postMessage  an echo worker posts back what it receives (event-driven both sides)
 *   comlink      Comlink.wrap over a MessagePort (node adapter); the server exposes echo(i)
 *   poll         postMessage both ways, each side spinning receiveMessageOnPort (polling)
 *
 * Client modes: latency (one call in flight: p50/p99 of performance.now() per call),
 * pipelined (`inflight` lanes, each calling again as soon as its call resolves:
 * calls/s), alloc (one call in flight after a full GC: heap growth per call and GCs).
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { wrap, expose, type Remote } from 'comlink'
import { getHeapStatistics } from 'node:v8'
import { summarizeRoundTrips } from '../lib/stats.js'
import type { RoundData, RoundFn } from '../lib/rounds.js'
import { nodeEndpoint } from '../pm/comlink-node.js'
import { openEnd } from './pair.js'
import type { RpcTask } from './tasks.js'
import { forceGc, GcCounter } from './gc.js'

interface EchoApi {
  echo(v: number): number
}

/** One call: resolves with what came back. */
export type Caller = (v: number) => Promise<number>

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`rpc task lacks ${what}`)
  return v
}

/** The client's call function for `t.impl` (poll has its own loop: see pollClient). */
export function makeCaller(t: RpcTask): Caller {
  if (t.impl === 'port') {
    const port = openEnd(need(t.end, 'end'), { spin: t.spin })
    return (v) => port.call(0, [v]) as Promise<number>
  }
  if (t.impl === 'comlink') {
    const api: Remote<EchoApi> = wrap<EchoApi>(nodeEndpoint(need(t.port, 'port')))
    return (v) => api.echo(v)
  }
  // postMessage: replies come back in order, so a FIFO of resolvers matches them.
  const port = need(t.port, 'port')
  const waiting: ((v: number) => void)[] = []
  let head = 0
  port.on('message', (v: number) => {
    const r = waiting[head]
    waiting[head++] = undefined as unknown as (v: number) => void
    if (head === waiting.length) {
      waiting.length = 0
      head = 0
    }
    r(v)
  })
  return (v) =>
    new Promise<number>((resolve) => {
      waiting.push(resolve)
      port.postMessage(v)
    })
}

export async function latency(call: Caller, count: number): Promise<RoundData> {
  const samples = new Float64Array(count)
  let bad = 0
  for (let i = 0; i < count; i++) {
    const t0 = performance.now()
    const v = await call(i)
    samples[i] = performance.now() - t0
    if (v !== i) bad++
  }
  return { ...summarizeRoundTrips(samples), bad }
}

export async function pipelined(call: Caller, count: number, inflight: number): Promise<RoundData> {
  let next = 0
  let bad = 0
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      if ((await call(i)) !== i) bad++
    }
  }
  const t0 = performance.now()
  const lanes: Promise<void>[] = []
  for (let k = 0; k < inflight; k++) lanes.push(lane())
  await Promise.all(lanes)
  const ms = performance.now() - t0
  return { rate: (count / ms) * 1000, bad }
}

let gc: (() => void) | null = null

async function alloc(call: Caller, count: number): Promise<RoundData> {
  gc ??= forceGc()
  const counter = new GcCounter()
  for (let i = 0; i < 2000; i++) await call(i) // warm, then start from a clean heap
  gc()
  await new Promise((r) => setTimeout(r, 10))
  const gcs0 = await counter.settled()
  const before = getHeapStatistics().used_heap_size
  for (let i = 0; i < count; i++) await call(i)
  const after = getHeapStatistics().used_heap_size
  const gcs = (await counter.settled()) - gcs0
  return { bytesPerCall: Math.max(0, after - before) / count, gcs }
}

/** The client's round: `t.count` calls in `t.mode`. */
export function rpcClient(t: RpcTask): RoundFn {
  if (t.impl === 'poll') return pollClient(t)
  const call = makeCaller(t)
  return () =>
    t.mode === 'latency'
      ? latency(call, t.count)
      : t.mode === 'pipelined'
        ? pipelined(call, t.count, t.inflight)
        : alloc(call, t.count)
}

function pollClient(t: RpcTask): RoundFn {
  const port = need(t.port, 'port')
  const samples = new Float64Array(t.count)
  return () => {
    let bad = 0
    for (let i = 0; i < t.count; i++) {
      const t0 = performance.now()
      port.postMessage(i)
      let m = receiveMessageOnPort(port)
      while (m === undefined) m = receiveMessageOnPort(port)
      samples[i] = performance.now() - t0
      if (m.message !== i) bad++
    }
    return { ...summarizeRoundTrips(samples), bad }
  }
}

/**
 * The server: serves until it has answered `t.count` calls in this round (the
 * client's round is exactly that many; alloc rounds make 2000 warm-up calls more).
 */
export function rpcServer(t: RpcTask): RoundFn {
  const serve = serverRound(t)
  if (t.started === undefined) return serve
  // A main-thread client starts its loop when this word says the round began.
  const started = new Int32Array(t.started)
  return (round) => {
    Atomics.store(started, 0, round)
    Atomics.notify(started, 0)
    return serve(round)
  }
}

function serverRound(t: RpcTask): RoundFn {
  const perRound = t.count + (t.mode === 'alloc' ? 2000 : 0)
  let served = 0
  let target = 0
  let done: (() => void) | null = null
  const echo = (v: unknown): unknown => {
    if (++served === target && done !== null) {
      const d = done
      done = null
      // After this answer leaves (comlink posts it a few microtasks later): the
      // round's end blocks this thread until the next round.
      setImmediate(d)
    }
    return v
  }
  if (t.impl === 'port') openEnd(need(t.end, 'end'), { methods: [echo], spin: t.spin })
  else if (t.impl === 'comlink') expose({ echo }, nodeEndpoint(need(t.port, 'port')))
  else if (t.impl === 'postMessage') {
    const port: MessagePort = need(t.port, 'port')
    port.on('message', (v: number) => port.postMessage(echo(v)))
  } else {
    const port = need(t.port, 'port')
    return () => {
      for (let i = 0; i < t.count; i++) {
        let m = receiveMessageOnPort(port)
        while (m === undefined) m = receiveMessageOnPort(port)
        port.postMessage(m.message)
      }
      return {}
    }
  }
  return () => {
    target += perRound
    if (served >= target) return {}
    return new Promise<RoundData>((resolve) => {
      done = () => resolve({})
    })
  }
}
