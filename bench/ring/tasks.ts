/**
 * What the main thread asks a ring benchmark worker to do (its `workerData`).
 * Shared layouts used by the worker roles are defined here too.
 */
import type { MessagePort } from 'node:worker_threads'
import type { RoundTask } from '../lib/rounds.js'

/** One-way and MPMC buffers: [0,64) data doorbell, [64,128) room doorbell, ring at +128. */
export const BELL_DATA_AT = 0
export const BELL_ROOM_AT = 64
export const RING_AT = 128

/** Credit words for postMessage producers: producer i's word is acks[i * ACK_STRIDE]. */
export const ACK_STRIDE = 16

/**
 * ring: SpscRing, reserve() per frame; ringMany: SpscRing, reserveMany() per batch;
 * bare: the same bytes in fixed slots, frame by frame, no ring bookkeeping (oneway-bare.ts);
 * postMessagePoll: postMessage with a consumer polling receiveMessageOnPort (roles-poll.ts).
 */
export type OneWayImpl =
  'ring' | 'ringMany' | 'ringbuf' | 'postMessage' | 'postMessagePoll' | 'bare'

export interface OneWayTask {
  kind: 'oneway'
  role: 'producer' | 'consumer'
  impl: OneWayImpl
  /** Payload bytes per frame (a multiple of 4). */
  payload: number
  /** Frames per publish (per postMessage message for postMessage). */
  batch: number
  /** Frames per round. */
  frames: number
  /** Spin iterations before a waiting side sleeps. */
  spin: number
  /** ring: channel-like buffer (bells + SpscRing); ringbuf: the RingBuffer storage. */
  sab?: SharedArrayBuffer
  /** ringbuf, bare: the two doorbells (data at 0, room at 64). */
  bells?: SharedArrayBuffer
  /** Consumer: release the ring after this many frames (and whenever it runs dry). */
  releaseEvery: number
  /**
   * Consumer: rounds of a register-only busy loop between two looks at an empty ring
   * (0: look again at once). Each look pulls the line the producer publishes on; looking
   * less often lets the producer publish without losing that line every frame.
   */
  backoff: number
  /** postMessage: its end of the MessageChannel, credit words, window in frames. */
  port?: MessagePort
  acks?: SharedArrayBuffer
  window?: number
}

export type RoundTripImpl = 'ring' | 'postMessage' | 'postMessagePoll' | 'bare'

export interface RoundTripTask {
  kind: 'roundtrip'
  role: 'pinger' | 'echo'
  /**
   * bare: one Int32 word each way, the floor (roles-latency.ts); postMessage: both
   * event loops idle between messages; postMessagePoll: both sides poll
   * receiveMessageOnPort (roles-poll.ts).
   */
  impl: RoundTripImpl
  /** spin: both sides spin (bounded); sleep: the echo side spins zero and sleeps each time. */
  mode: 'spin' | 'sleep'
  /** Round trips per round. */
  count: number
  /** Payload bytes per message. */
  payload: number
  /**
   * Spin iterations before a waiting side sleeps: both sides in spin mode, the pinger
   * in sleep mode (0: the pinger sleeps too).
   */
  spin: number
  /**
   * sleep mode: microseconds the pinger lets pass after the echo announced sleep
   * (0: ping back to back, without waiting for the echo to be asleep).
   */
  gapUs: number
  /** ring: a Channel buffer (the pinger is side a, the echo side b); bare: 64 bytes. */
  sab?: SharedArrayBuffer
  port?: MessagePort
}

export interface MpmcTask {
  kind: 'mpmc'
  role: 'producer' | 'consumer'
  impl: 'ring' | 'postMessage'
  /** spin: spin only (no doorbells); sleep: spin `spin` times, then sleep on a doorbell. */
  mode: 'spin' | 'sleep'
  producers: number
  /** Producer number, 0..producers-1. */
  id: number
  /** Frames per producer per round. */
  frames: number
  payload: number
  spin: number
  /** ring: bells + MpmcRing at RING_AT. */
  sab?: SharedArrayBuffer
  /** postMessage: a producer's port, or the consumer's ports (one per producer). */
  port?: MessagePort
  ports?: MessagePort[]
  acks?: SharedArrayBuffer
  window?: number
}

export type RingBenchTask = (OneWayTask | RoundTripTask | MpmcTask) & RoundTask
