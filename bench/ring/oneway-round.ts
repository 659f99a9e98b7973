/**
 * What every one-way peer (oneway-*.ts) shares: the frame payload each writes and
 * checks (a sequence number, then filler words), the producer's batched, timed round,
 * the consumer's backoff burn, and the bound of one sleep. The sides themselves are
 * in one file per peer, each hot loop a function of its own.
 */
import type { Doorbell } from '../../src/ring/index.js'
import type { RoundFn } from '../lib/rounds.js'
import type { OneWayTask } from './tasks.js'

/** Upper bound of one Atomics.wait while a round runs, ms (re-checks afterwards). */
export const SLEEP_MS = 20

let burnSink = 0

/** Burn a few cycles without touching shared memory. */
export function burn(rounds: number): void {
  let x = burnSink
  for (let i = 0; i < rounds; i++) x = (Math.imul(x, 1103515245) + 12345) | 0
  burnSink = x
}

/**
 * Write one frame's payload: the sequence number, then filler words. A 16-byte
 * payload is written as four explicit stores, as a codec writes a fixed header.
 */
export function encode(i32: Int32Array, w: number, words: number, seq: number): void {
  if (words === 4) {
    i32[w] = seq
    i32[w + 1] = 1
    i32[w + 2] = 2
    i32[w + 3] = 3
  } else {
    i32[w] = seq
    for (let j = 1; j < words; j++) i32[w + j] = j
  }
}

export function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`one-way task lacks ${what}`)
  return v
}

/**
 * A producer's round: t.frames frames in batches of t.batch through `sendBatch`
 * (each producer's own hot loop, kept a function of its own so V8 optimizes it
 * whole), timed, with the sleeps on `roomBell` and the full-ring stalls it caused.
 */
export function batchedRound(
  t: OneWayTask,
  sendBatch: (n: number) => void,
  roomBell: Doorbell,
  fulls: () => number,
): RoundFn {
  return () => {
    const sleeps0 = roomBell.sleeps
    const fulls0 = fulls()
    const t0 = performance.now()
    const batch = t.batch
    let left = t.frames
    while (left > 0) {
      const n = left < batch ? left : batch
      sendBatch(n)
      left -= n
    }
    return {
      ms: performance.now() - t0,
      sleeps: roomBell.sleeps - sleeps0,
      fulls: fulls() - fulls0,
    }
  }
}
