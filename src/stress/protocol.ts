/**
 * What the main thread hands each stress worker (workerData) and what each worker
 * posts back when it is done. Plain data: it crosses threads by structured clone.
 */
import type { WaitStrategy } from './wait.js'

/** Test-only faults, applied by producer 0 to one frame, that the verifier must catch. */
export const FAULTS = ['corrupt', 'drop', 'duplicate'] as const
export type Fault = (typeof FAULTS)[number]

export interface WorkerSetup {
  role: 'producer' | 'consumer'
  /** Producer or consumer number, from 0. */
  index: number
  producers: number
  consumers: number
  ring: SharedArrayBuffer
  control: SharedArrayBuffer
  frameSize: number
  wait: WaitStrategy
  spin: number
  /** The main thread's performance.timeOrigin: every thread's clock is made relative to it. */
  origin: number
  /** Producers: frames to send, or -1 to send until the stop word is set. */
  quota: number
  /** Producer 0 only: the fault to inject, and at which sequence number. */
  fault: Fault | null
  faultSeq: number
}

export interface ProducerReport {
  role: 'producer'
  index: number
  /** Sequence numbers issued (0..sent-1): the frames the consumers must see. */
  sent: number
  /** Frames written into the ring (differs from sent only under a fault). */
  written: number
  casRetries: number
  fullSpins: number
  /** Times a claim found the ring full and the producer had to wait. */
  fullStalls: number
  sleeps: number
  yields: number
  notifies: number
  faultApplied: boolean
  startMs: number
  endMs: number
}

export interface ConsumerReport {
  role: 'consumer'
  index: number
  /** Frames taken from the ring, whatever their state. */
  received: number
  /** Frames whose checksum, length or producer id was wrong. */
  corrupt: number
  /** A sequence number this consumer had already seen from that producer. */
  duplicates: number
  /** A sequence number lower than the last one this consumer saw from that producer. */
  outOfOrder: number
  /** Per producer, a bitmap of the sequence numbers seen: bit s of word s >> 5. */
  seen: ArrayBuffer[]
  /** Latency histogram in ns, hdr-histogram-js compressed base64. */
  histogram: string
  casRetries: number
  emptySpins: number
  /** Times a poll found the ring empty and the consumer had to wait. */
  emptyStalls: number
  sleeps: number
  yields: number
  notifies: number
  /** The first few problems, in words. */
  problems: string[]
  startMs: number
  endMs: number
}

export type WorkerReport = ProducerReport | ConsumerReport

/** The first message of every worker: it is set up and waits for the start word. */
export interface ReadyMessage {
  role: 'ready'
}

/** A clock in ms, relative to the main thread's time origin, the same in every thread. */
export function sharedClock(origin: number): () => number {
  const skew = performance.timeOrigin - origin
  return () => performance.now() + skew
}
