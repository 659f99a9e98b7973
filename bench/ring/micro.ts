/**
 * Single-thread costs of the SPSC ring's hot path, measured with benchmark.js:
 * producer and consumer are two SpscRing instances over the same buffer in one thread
 * (each thread builds its own instance in real use; here one thread plays both).
 *
 * push and pop alone would fill (drain) the ring, so they use the ring's documented
 * layout (src/ring/spsc.ts: tail at int32 16, head at int32 32 of the ring header):
 *   push: when reserve() finds the ring full, an instant consumer stores head := tail
 *         (one store per ~2700 frames), so only reserve+write+publish is measured;
 *   pop:  the ring is filled once with exactly one lap of frames; when poll() finds
 *         it empty, tail += capacity republishes that same lap (the bytes are still
 *         there and the lap layout repeats), so only poll+read+release is measured.
 */
import Benchmark from 'benchmark'
import { RingBuffer } from 'ringbuf.js'
import { SpscRing } from '../../src/ring/index.js'

const CAPACITY = 1 << 16
const PAYLOAD = 16
const BATCH = 64
const TAIL = 16
const HEAD = 32

export interface MicroResult {
  name: string
  hz: number
  rme: number
  samples: number
  /** Frames per operation (BATCH for the batch figure). */
  framesPerOp: number
  /** ringbuf.js doing the same operation, when it applies. */
  peer?: { name: string; hz: number; rme: number; samples: number }
}

function pair(): { p: SpscRing; c: SpscRing; hdr: Int32Array } {
  const p = SpscRing.create(CAPACITY)
  const c = new SpscRing(p.buffer, 0)
  return { p, c, hdr: new Int32Array(p.buffer, 0, 48) }
}

// Results are folded into this sink so no work is dead code.
let sink = 0

function encodeInt32(): () => void {
  const { p } = pair()
  const w = p.reserve(PAYLOAD) >> 2
  const i32 = p.i32
  let x = 0
  return () => {
    i32[w] = x
    i32[w + 1] = x + 1
    i32[w + 2] = x + 2
    i32[w + 3] = x + 3
    x = (x + 1) | 0
  }
}

function encodeSet(): () => void {
  const { p } = pair()
  const at = p.reserve(PAYLOAD)
  const bytes = p.bytes
  const src = new Uint8Array(PAYLOAD)
  let x = 0
  return () => {
    src[0] = x
    bytes.set(src, at)
    x = (x + 1) & 255
  }
}

function push(): () => void {
  const { p, hdr } = pair()
  const i32 = p.i32
  let x = 0
  return () => {
    let at = p.reserve(PAYLOAD)
    if (at < 0) {
      Atomics.store(hdr, HEAD, Atomics.load(hdr, TAIL))
      at = p.reserve(PAYLOAD)
    }
    const w = at >> 2
    i32[w] = x
    i32[w + 1] = 1
    i32[w + 2] = 2
    i32[w + 3] = 3
    p.publish()
    x = (x + 1) | 0
  }
}

function pop(): () => void {
  const { p, c, hdr } = pair()
  // Exactly one lap: frames from offset 0 until reserve() refuses (a wrap marker
  // fills the rest), so the lap's layout repeats at every multiple of CAPACITY.
  let n = 0
  for (let at = p.reserve(PAYLOAD); at >= 0; at = p.reserve(PAYLOAD)) p.i32[at >> 2] = n++
  p.publish()
  if (Atomics.load(hdr, TAIL) !== CAPACITY) throw new Error('pop setup: not exactly one lap')
  const i32 = c.i32
  return () => {
    let at = c.poll()
    if (at < 0) {
      Atomics.store(hdr, TAIL, (Atomics.load(hdr, TAIL) + CAPACITY) | 0)
      at = c.poll()
    }
    sink = (sink + i32[at >> 2]) | 0
    c.release()
  }
}

function batch(): () => void {
  const { p, c } = pair()
  const pi = p.i32
  const ci = c.i32
  let x = 0
  return () => {
    for (let k = 0; k < BATCH; k++) {
      const w = p.reserve(PAYLOAD) >> 2
      pi[w] = x
      pi[w + 1] = 1
      pi[w + 2] = 2
      pi[w + 3] = 3
      x = (x + 1) | 0
    }
    p.publish()
    let s = 0
    for (let k = 0; k < BATCH; k++) s = (s + ci[c.poll() >> 2]) | 0
    c.release()
    sink = (sink + s) | 0
  }
}

function batchMany(): () => void {
  const { p, c } = pair()
  const pi = p.i32
  const ci = c.i32
  const step = (PAYLOAD + 8) >> 2
  let x = 0
  return () => {
    let left = BATCH
    while (left > 0) {
      const at = p.reserveMany(PAYLOAD, left)
      const n = p.reservedFrames
      for (let k = 0, w = at >> 2; k < n; k++, w += step) {
        pi[w] = x
        pi[w + 1] = 1
        pi[w + 2] = 2
        pi[w + 3] = 3
        x = (x + 1) | 0
      }
      left -= n
    }
    p.publish()
    let s = 0
    for (let k = 0; k < BATCH; k++) s = (s + ci[c.poll() >> 2]) | 0
    c.release()
    sink = (sink + s) | 0
  }
}

function ringbufBatch(): () => void {
  const rb = new RingBuffer(RingBuffer.getStorageForCapacity(CAPACITY >> 2, Int32Array), Int32Array)
  const words = PAYLOAD >> 2
  const src = new Int32Array(BATCH * words)
  const dst = new Int32Array(BATCH * words)
  let x = 0
  return () => {
    for (let k = 0; k < BATCH; k++) {
      const w = k * words
      src[w] = x
      src[w + 1] = 1
      src[w + 2] = 2
      src[w + 3] = 3
      x = (x + 1) | 0
    }
    rb.push(src)
    rb.pop(dst)
    let s = 0
    for (let k = 0; k < BATCH; k++) s = (s + dst[k * words]) | 0
    sink = (sink + s) | 0
  }
}

function run(name: string, fn: () => void, quick: boolean): Benchmark {
  const b = new Benchmark(name, fn, {
    minSamples: quick ? 5 : 40,
    maxTime: quick ? 0.15 : 2,
    initCount: 1000,
  })
  b.run({ async: false })
  if (b.error) throw b.error
  return b
}

function toResult(b: Benchmark, framesPerOp: number): MicroResult {
  return {
    name: String(b.name),
    hz: b.hz,
    rme: b.stats.rme,
    samples: b.stats.sample.length,
    framesPerOp,
  }
}

export function runMicro(quick: boolean): MicroResult[] {
  const out: MicroResult[] = []
  out.push(toResult(run('encode 16 B (4 Int32 stores)', encodeInt32(), quick), 1))
  out.push(toResult(run('encode 16 B (Uint8Array.set)', encodeSet(), quick), 1))
  out.push(toResult(run('push (reserve + write 16 B + publish)', push(), quick), 1))
  out.push(toResult(run('pop (poll + read + release)', pop(), quick), 1))
  out.push(
    toResult(
      run('batch of 64 (reserve+write x64, publish; poll x64, release)', batch(), quick),
      64,
    ),
  )
  const ours = toResult(
    run('batch of 64 (reserveMany+write, publish; poll x64, release)', batchMany(), quick),
    64,
  )
  const peer = run('ringbuf.js batch of 64 (push 64, pop 64)', ringbufBatch(), quick)
  ours.peer = {
    name: 'ringbuf',
    hz: peer.hz,
    rme: peer.stats.rme,
    samples: peer.stats.sample.length,
  }
  out.push(ours)
  if (sink === 0x7fffffff) process.stdout.write('')
  return out
}
