/**
 * "The hot path allocates nothing per message", as a measured figure: run N
 * push+pop pairs (reserve or reserveMany, write 16 B, publish, poll, read, release;
 * and MPMC claim, commit, poll, release) in one thread
 * after a warm-up and a full GC, and report the garbage collections seen by a
 * PerformanceObserver on 'gc' entries and the growth of V8's used heap
 * (v8.getHeapStatistics) across the run. The same probe around the copying
 * tryPush/tryPop (which allocates a Uint8Array per pop) shows that it detects
 * allocation when there is some.
 */
import { PerformanceObserver } from 'node:perf_hooks'
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { MpmcRing, SpscRing } from '../../src/ring/index.js'

export interface AllocResult {
  name: string
  messages: number
  gcs: number
  heapGrowth: number
  bytesPerMessage: number
}

type Pump = (n: number) => number

function spscPump(): Pump {
  const p = SpscRing.create(1 << 16)
  const c = new SpscRing(p.buffer, 0)
  const pi = p.i32
  const ci = c.i32
  return (n) => {
    let s = 0
    for (let i = 0; i < n; i++) {
      const w = p.reserve(16) >> 2
      pi[w] = i
      pi[w + 1] = 1
      pi[w + 2] = 2
      pi[w + 3] = 3
      p.publish()
      s = (s + ci[c.poll() >> 2]) | 0
      c.release()
    }
    return s
  }
}

function spscBatchPump(): Pump {
  const p = SpscRing.create(1 << 16)
  const c = new SpscRing(p.buffer, 0)
  const pi = p.i32
  const ci = c.i32
  return (n) => {
    let s = 0
    for (let i = 0; i < n; i += 64) {
      for (let k = 0; k < 64; k++) {
        const w = p.reserve(16) >> 2
        pi[w] = i + k
        pi[w + 1] = 1
        pi[w + 2] = 2
        pi[w + 3] = 3
      }
      p.publish()
      for (let k = 0; k < 64; k++) s = (s + ci[c.poll() >> 2]) | 0
      c.release()
    }
    return s
  }
}

function spscManyPump(): Pump {
  const p = SpscRing.create(1 << 16)
  const c = new SpscRing(p.buffer, 0)
  const pi = p.i32
  const ci = c.i32
  return (n) => {
    let s = 0
    for (let i = 0; i < n; i += 64) {
      let left = 64
      while (left > 0) {
        const at = p.reserveMany(16, left)
        const got = p.reservedFrames
        for (let k = 0, w = at >> 2; k < got; k++, w += 6) {
          pi[w] = i + k
          pi[w + 1] = 1
          pi[w + 2] = 2
          pi[w + 3] = 3
        }
        left -= got
      }
      p.publish()
      for (let k = 0; k < 64; k++) s = (s + ci[c.poll() >> 2]) | 0
      c.release()
    }
    return s
  }
}

function mpmcPump(): Pump {
  const q = MpmcRing.create({ slots: 256, slotBytes: 64 })
  const i32 = q.i32
  return (n) => {
    let s = 0
    for (let i = 0; i < n; i++) {
      const w = q.claim(16) >> 2
      i32[w] = i
      q.commit()
      s = (s + i32[q.poll() >> 2]) | 0
      q.release()
    }
    return s
  }
}

function copyingPump(): Pump {
  const r = SpscRing.create(1 << 16)
  const payload = new Uint8Array(16)
  return (n) => {
    let s = 0
    for (let i = 0; i < n; i++) {
      payload[0] = i
      r.tryPush(payload)
      const out = r.tryPop()
      if (out) s = (s + out[0]) | 0
    }
    return s
  }
}

function forceGc(): () => void {
  setFlagsFromString('--expose-gc')
  const gc: unknown = runInNewContext('gc')
  if (typeof gc !== 'function') throw new Error('could not expose gc')
  return () => {
    ;(gc as () => void)()
  }
}

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20))
}

async function probe(name: string, pump: Pump, n: number, gc: () => void): Promise<AllocResult> {
  let sink = pump(200_000) // warm-up: let the optimizing compiler finish with it
  sink ^= pump(200_000)
  gc()
  await tick()
  let gcs = 0
  const obs = new PerformanceObserver((list) => {
    gcs += list.getEntries().length
  })
  obs.observe({ entryTypes: ['gc'] })
  const before = getHeapStatistics().used_heap_size
  sink ^= pump(n)
  const after = getHeapStatistics().used_heap_size
  await tick()
  obs.disconnect()
  if (sink === 0x7fffffff) process.stdout.write('')
  const heapGrowth = after - before
  return { name, messages: n, gcs, heapGrowth, bytesPerMessage: Math.max(0, heapGrowth) / n }
}

export async function runAlloc(quick: boolean): Promise<AllocResult[]> {
  const gc = forceGc()
  const n = quick ? 400_000 : 4_000_000
  return [
    await probe('SPSC push+pop, 1 per publish', spscPump(), n, gc),
    await probe('SPSC 64 per publish', spscBatchPump(), n, gc),
    await probe('SPSC reserveMany 64 per publish', spscManyPump(), n, gc),
    await probe('MPMC claim/commit/poll/release', mpmcPump(), n, gc),
    await probe('copying tryPush/tryPop (control)', copyingPump(), quick ? n : n >> 2, gc),
  ]
}
