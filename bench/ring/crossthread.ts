/**
 * Main-thread side of the cross-thread runs. Each `prepare*` function lays out the
 * shared buffers and ports of one contender (ours, ringbuf.js or postMessage) and says
 * how to turn its rounds into figures; `runInterleaved` opens every contender's workers
 * at once and runs their rounds in turn (a warm-up round each, then `runs` measured
 * rounds: ring, peer, peer, ring, peer, peer, ...), so ours and its peers meet the same
 * conditions on a shared, noisy machine. Medians are taken by the caller.
 */
import { MessageChannel, type MessagePort, type TransferListItem } from 'node:worker_threads'
import { RingBuffer } from 'ringbuf.js'
import { Channel, Doorbell, MpmcRing, SpscRing } from '../../src/ring/index.js'
import type { QuietGate } from '../lib/cpu.js'
import { RoundSession, type RoundData } from '../lib/rounds.js'
import { median } from '../lib/stats.js'
import { BARE_DATA_AT } from './oneway-bare.js'
import {
  ACK_STRIDE,
  BELL_DATA_AT,
  BELL_ROOM_AT,
  RING_AT,
  type MpmcTask,
  type OneWayImpl,
  type OneWayTask,
  type RoundTripImpl,
  type RoundTripTask,
} from './tasks.js'

const WORKER = new URL('./ring-worker.js', import.meta.url)
const ROUND_TIMEOUT_MS = 120_000

export interface Measured {
  /** The figure of each measured round (warm-up excluded): throughput or p50. */
  values: number[]
  /** Round trips: the p99 of each measured round. */
  p99?: number[]
  /** Medians over rounds of the counters the workers reported. */
  extra: Record<string, number>
}

/** One contender of an interleaved measurement. */
export interface Prepared {
  tasks: object[]
  transfers: TransferListItem[][]
  /** Turn the measured rounds (data[round][worker]) into figures; throws on bad data. */
  summarize: (data: RoundData[][]) => Measured
}

function medianOf(rounds: RoundData[], key: string): number {
  return median(rounds.map((r) => r[key] ?? 0))
}

function checkClean(rounds: RoundData[][], what: string): void {
  for (const round of rounds) {
    for (const w of round) {
      if ((w.bad ?? 0) !== 0) throw new Error(`${what}: ${w.bad} frames arrived out of order`)
    }
  }
}

/**
 * Run contenders' rounds in turn: warm-up round of each, then `runs` measured rounds
 * of each, interleaved. Every worker is terminated at the end, also on error.
 */
export async function runInterleaved(
  contenders: Prepared[],
  runs: number,
  quiet?: QuietGate,
): Promise<Measured[]> {
  const sessions: RoundSession[] = []
  try {
    for (const c of contenders) {
      sessions.push(
        new RoundSession({
          worker: WORKER,
          tasks: c.tasks,
          transfers: c.transfers,
          rounds: runs + 1,
          roundTimeoutMs: ROUND_TIMEOUT_MS,
        }),
      )
    }
    const data: RoundData[][][] = contenders.map(() => [])
    const others: number[][] = contenders.map(() => [])
    for (let r = 0; r <= runs; r++) {
      for (let i = 0; i < sessions.length; i++) {
        const res = await sessions[i].round(r === 0 ? undefined : quiet)
        if (r === 0) continue
        data[i].push(res.data)
        others[i].push(res.othersCpu)
      }
    }
    return contenders.map((c, i) => {
      const m = c.summarize(data[i])
      m.extra.othersCpuMax = Math.max(...others[i])
      return m
    })
  } finally {
    await Promise.all(sessions.map((s) => s.close()))
  }
}

// ------------------------------------------------------------------ one-way

export interface OneWayParams {
  impl: OneWayImpl
  payload: number
  batch: number
  frames: number
  spin: number
  releaseEvery: number
  backoff: number
  /** Data bytes of the ring (ours and ringbuf.js alike). */
  capacity: number
  /** postMessage: frames in flight at most. */
  window: number
}

export function prepareOneWay(p: OneWayParams): Prepared {
  const base = {
    kind: 'oneway' as const,
    impl: p.impl,
    payload: p.payload,
    batch: p.batch,
    frames: p.frames,
    spin: p.spin,
    releaseEvery: p.releaseEvery,
    backoff: p.backoff,
  }
  let producer: OneWayTask
  let consumer: OneWayTask
  const transfers: TransferListItem[][] = [[], []]
  if (p.impl === 'ring' || p.impl === 'ringMany') {
    const sab = new SharedArrayBuffer(RING_AT + SpscRing.byteLength(p.capacity))
    Doorbell.init(sab, BELL_DATA_AT)
    Doorbell.init(sab, BELL_ROOM_AT)
    SpscRing.init(sab, RING_AT, p.capacity)
    producer = { ...base, role: 'producer', sab }
    consumer = { ...base, role: 'consumer', sab }
  } else if (p.impl === 'bare') {
    const sab = new SharedArrayBuffer(BARE_DATA_AT + p.capacity)
    const bells = new SharedArrayBuffer(128)
    Doorbell.init(bells, BELL_DATA_AT)
    Doorbell.init(bells, BELL_ROOM_AT)
    producer = { ...base, role: 'producer', sab, bells }
    consumer = { ...base, role: 'consumer', sab, bells }
  } else if (p.impl === 'ringbuf') {
    const sab = RingBuffer.getStorageForCapacity(p.capacity >> 2, Int32Array)
    const bells = new SharedArrayBuffer(128)
    Doorbell.init(bells, BELL_DATA_AT)
    Doorbell.init(bells, BELL_ROOM_AT)
    producer = { ...base, role: 'producer', sab, bells }
    consumer = { ...base, role: 'consumer', sab, bells }
  } else {
    const { port1, port2 } = new MessageChannel()
    const acks = new SharedArrayBuffer(64)
    producer = { ...base, role: 'producer', port: port1, acks, window: p.window }
    consumer = { ...base, role: 'consumer', port: port2, acks, window: p.window }
    transfers[0].push(port1)
    transfers[1].push(port2)
  }
  return {
    tasks: [producer, consumer],
    transfers,
    summarize: (data) => {
      checkClean(data, `one-way ${p.impl}`)
      const producers = data.map((r) => r[0])
      const consumers = data.map((r) => r[1])
      for (const c of consumers) {
        if (c.frames !== p.frames) throw new Error(`one-way ${p.impl}: ${c.frames} of ${p.frames}`)
      }
      return {
        values: consumers.map((c) => c.frames / (c.ms / 1000)),
        extra: {
          consumerSleeps: medianOf(consumers, 'sleeps'),
          producerWaits: medianOf(producers, 'sleeps'),
          consumerEmpties: medianOf(consumers, 'empties'),
          producerFulls: medianOf(producers, 'fulls'),
        },
      }
    },
  }
}

// --------------------------------------------------------------- round trip

export interface RoundTripParams {
  impl: RoundTripImpl
  mode: 'spin' | 'sleep'
  count: number
  spin: number
  gapUs: number
}

export function prepareRoundTrip(p: RoundTripParams): Prepared {
  const base = {
    kind: 'roundtrip' as const,
    impl: p.impl,
    mode: p.mode,
    count: p.count,
    payload: 16,
    spin: p.spin,
    gapUs: p.gapUs,
  }
  let pinger: RoundTripTask
  let echo: RoundTripTask
  const transfers: TransferListItem[][] = [[], []]
  if (p.impl === 'ring') {
    const ch = Channel.create({ capacity: 4096 })
    pinger = { ...base, role: 'pinger', sab: ch.buffer }
    echo = { ...base, role: 'echo', sab: ch.buffer }
  } else if (p.impl === 'bare') {
    const sab = new SharedArrayBuffer(192)
    pinger = { ...base, role: 'pinger', sab }
    echo = { ...base, role: 'echo', sab }
  } else {
    const { port1, port2 } = new MessageChannel()
    pinger = { ...base, role: 'pinger', port: port1 }
    echo = { ...base, role: 'echo', port: port2 }
    transfers[0].push(port1)
    transfers[1].push(port2)
  }
  return {
    tasks: [pinger, echo],
    transfers,
    summarize: (data) => {
      checkClean(data, `round trip ${p.impl}`)
      const pings = data.map((r) => r[0])
      const echoes = data.map((r) => r[1])
      const extra: Record<string, number> = {
        meanUs: medianOf(pings, 'mean'),
        minUs: medianOf(pings, 'min'),
      }
      if (p.impl === 'ring' || p.impl === 'bare') {
        extra.echoSleepsPerRoundTrip = medianOf(echoes, 'echoSleeps') / p.count
      }
      if (p.impl === 'ring') {
        extra.notifiesPerRoundTrip = medianOf(pings, 'notifies') / p.count
        extra.pingerSleeps = medianOf(pings, 'pingerSleeps')
        if (p.mode === 'sleep' && p.gapUs > 0) extra.unslept = medianOf(pings, 'unslept')
      }
      return { values: pings.map((r) => r.p50), p99: pings.map((r) => r.p99), extra }
    },
  }
}

// --------------------------------------------------------------------- mpmc

export interface MpmcParams {
  impl: 'ring' | 'postMessage'
  mode: 'spin' | 'sleep'
  producers: number
  /** Frames per producer per round. */
  frames: number
  slots: number
  spin: number
  window: number
}

export function prepareMpmc(p: MpmcParams): Prepared {
  const base = {
    kind: 'mpmc' as const,
    impl: p.impl,
    mode: p.mode,
    producers: p.producers,
    frames: p.frames,
    payload: 16,
    spin: p.spin,
  }
  const tasks: MpmcTask[] = []
  const transfers: TransferListItem[][] = []
  if (p.impl === 'ring') {
    const sab = new SharedArrayBuffer(RING_AT + MpmcRing.byteLength(p.slots, 64))
    Doorbell.init(sab, BELL_DATA_AT)
    Doorbell.init(sab, BELL_ROOM_AT)
    MpmcRing.init(sab, RING_AT, { slots: p.slots, slotBytes: 64 })
    tasks.push({ ...base, role: 'consumer', id: -1, sab })
    transfers.push([])
    for (let id = 0; id < p.producers; id++) {
      tasks.push({ ...base, role: 'producer', id, sab })
      transfers.push([])
    }
  } else {
    const acks = new SharedArrayBuffer(p.producers * ACK_STRIDE * 4)
    const ends: MessagePort[] = []
    const producerTasks: MpmcTask[] = []
    const producerTransfers: TransferListItem[][] = []
    for (let id = 0; id < p.producers; id++) {
      const { port1, port2 } = new MessageChannel()
      ends.push(port2)
      producerTasks.push({ ...base, role: 'producer', id, port: port1, acks, window: p.window })
      producerTransfers.push([port1])
    }
    tasks.push({ ...base, role: 'consumer', id: -1, ports: ends, acks, window: p.window })
    transfers.push(ends)
    tasks.push(...producerTasks)
    transfers.push(...producerTransfers)
  }
  return {
    tasks,
    transfers,
    summarize: (data) => {
      checkClean(data, `mpmc ${p.impl} ${p.mode}`)
      const consumers = data.map((r) => r[0])
      const sum = (round: RoundData[], key: string): number =>
        round.slice(1).reduce((s, w) => s + (w[key] ?? 0), 0)
      const extra: Record<string, number> = {}
      if (p.impl === 'ring') {
        extra.producerCasRetries = median(data.map((r) => sum(r, 'casRetries')))
        extra.fullSpins = median(data.map((r) => sum(r, 'fullSpins')))
        extra.emptySpins = medianOf(consumers, 'emptySpins')
        extra.consumerCasRetries = medianOf(consumers, 'consumerCasRetries')
        extra.producerSleeps = median(data.map((r) => sum(r, 'sleeps')))
        extra.consumerSleeps = medianOf(consumers, 'sleeps')
        if (p.mode === 'spin')
          extra.spinStalls = median(data.map((r) => sum(r, 'stalls') + (r[0].stalls ?? 0)))
      } else {
        extra.producerWaits = median(data.map((r) => sum(r, 'sleeps')))
      }
      return { values: consumers.map((c) => c.frames / (c.ms / 1000)), extra }
    },
  }
}
