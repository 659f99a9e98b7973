// Shared by the ring test workers: result reporting, bounded waits that turn a lost
// wake-up into a failure (never a hang), and the deterministic frame generators the
// producer and consumer sides both run, so the consumer can check every frame.
import { parentPort } from 'node:worker_threads'

/** Run a worker's body and report { type: 'done', ...result } or { type: 'fail', error }. */
export function run(body) {
  const report = (err) =>
    parentPort.postMessage({
      type: 'fail',
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    })
  try {
    Promise.resolve(body()).then(
      (result) => parentPort.postMessage({ type: 'done', ...result }),
      report,
    )
  } catch (err) {
    report(err)
  }
}

/**
 * Sleep on `bell` until `ready()`, through Doorbell.waitSync with a finite timeout.
 * waitSync also returns (false) when woken for an earlier event or for another
 * sleeper, so this loops. Reaching the timeout is a failure, reported, never a hang:
 * either nothing came (the peer stalled or its wake-up was lost), or the data came
 * and nobody woke us (a lost wake-up that the timeout merely masked). The timeout is
 * far beyond any scheduling delay, so a healthy run never comes near it.
 */
export function waitReady(bell, ready, spin, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = bell.waitSync(ready, spin, Math.max(1, deadline - Date.now()))
    if (Date.now() >= deadline) {
      throw new Error(
        ok
          ? `${what}: slept until the ${timeoutMs} ms timeout although data came (lost wake-up)`
          : `${what}: not ready after ${timeoutMs} ms (peer stalled or lost wake-up)`,
      )
    }
    if (ok) return
  }
}

const scratch = new Int32Array(new SharedArrayBuffer(4))

/** Sleep `ms` (fractions allowed) without a doorbell: gives other threads the CPU. */
export function pause(ms) {
  Atomics.wait(scratch, 0, 0, ms)
}

/** Busy-check `cond`, then check it between short sleeps; throw after `timeoutMs`. */
export function spinUntil(cond, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs
  for (let i = 0; !cond(); i++) {
    if (i < 200) continue
    // Yield the CPU to the thread we wait for (2 CPUs, several threads).
    Atomics.wait(scratch, 0, 0, 0.05)
    if (Date.now() > deadline) throw new Error(`${what}: not true after ${timeoutMs} ms`)
  }
}

/** xorshift32: small, fast, and the same sequence on every thread for a seed. */
export class Rng {
  constructor(seed) {
    this.s = seed | 0 || 0x9e3779b9
  }
  next() {
    let x = this.s
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.s = x
    return x >>> 0
  }
}

/**
 * Frame lengths for the SPSC stress: mostly small, some up to 1 KiB, and now and
 * then exactly maxPayload, which only fits an empty ring at offset 0 (so the wrap
 * marker path and the "wait for the consumer to pass it" path run often).
 */
export class Lengths {
  constructor(seed, maxPayload, min) {
    this.rng = new Rng(seed)
    this.max = maxPayload
    this.min = min
    this.mid = Math.min(1024, maxPayload) - min + 1
  }
  next() {
    const r = this.rng.next()
    const pick = r & 4095
    if (pick === 0) return this.max
    if ((pick & 15) === 1) return this.min + ((r >>> 12) % this.mid)
    return this.min + ((r >>> 12) % 57)
  }
}

/** Fill bytes[from, to) with a stream seeded by `seed`; return its FNV-1a checksum. */
export function fillBytes(bytes, from, to, seed) {
  let x = Math.imul(seed, 0x9e3779b1) | 1
  let h = 0x811c9dc5
  for (let k = from; k < to; k++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    const b = x & 0xff
    bytes[k] = b
    h = Math.imul(h ^ b, 0x01000193)
  }
  return h | 0
}

/** FNV-1a checksum of bytes[from, to), as fillBytes computes it. */
export function checksum(bytes, from, to) {
  let h = 0x811c9dc5
  for (let k = from; k < to; k++) h = Math.imul(h ^ bytes[k], 0x01000193)
  return h | 0
}
