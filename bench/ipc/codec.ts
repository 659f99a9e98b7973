/**
 * The session value codec (src/session/codec.ts) against its peers, one thread,
 * benchmark.js: encode into a ring-like SharedArrayBuffer view and decode from it,
 * against `v8.deserialize(v8.serialize(v))` and against `structuredClone(v)`, for
 * the values sessions mostly carry. Plus the heap bytes one encode allocates and
 * the scavenges 1M encodes cause (0 and 0 when the hot path allocates nothing).
 *
 *     node dist/bench/ipc/codec.js [--quick]
 *
 * or from a suite: `const figures = await codecFigures(quick)`.
 */
import { PerformanceObserver } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { deserialize, serialize, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import Benchmark from 'benchmark'
import { decodeValue, encodeValue } from '../../src/session/codec.js'

export interface CodecCase {
  name: string
  /** Encoded size in the codec's format. */
  bytes: number
  /** encode + decode per second, each path. */
  codecHz: number
  v8Hz: number
  structuredCloneHz: number
  /** codecHz / v8Hz and codecHz / structuredCloneHz. */
  vsV8: number
  vsStructuredClone: number
  /** Relative margin of error (%) of the codec's figure. */
  rme: number
}

export interface CodecAllocation {
  value: string
  /** Heap bytes per encode, over `ops` encodes with no GC in between (NaN if one ran). */
  encodeBytesPerOp: number
  /** The same for v8.serialize of the same value, for scale. */
  v8SerializeBytesPerOp: number
  ops: number
  /** GCs (scavenges) observed during 1M encodes of the value. */
  gcsPer1MEncodes: number
}

export interface CodecFigures {
  cases: CodecCase[]
  allocation: CodecAllocation[]
}

/** A JSON-like record of about 1 KB (JSON.stringify length). */
function kilobyteObject(): unknown {
  return {
    id: 120_034,
    kind: 'order',
    status: 'shipped',
    total: 1234.56,
    paid: true,
    customer: { id: 77, name: 'Ada Lovelace', email: 'ada@example.org', vip: false },
    address: { street: '12 St James Square', city: 'London', zip: 'SW1Y 4JH', country: 'UK' },
    items: Array.from({ length: 7 }, (_, i) => ({
      sku: `SKU-${1000 + i}`,
      title: `Widget number ${i}`,
      qty: i + 1,
      price: 9.99 + i,
      tags: ['blue', 'small'],
    })),
    notes: 'Leave the parcel with the neighbour if nobody answers the door.',
    history: [1_700_000_000, 1_700_000_500, 1_700_003_600],
  }
}

export const CODEC_VALUES: readonly { name: string; value: unknown }[] = [
  { name: 'small int (42)', value: 42 },
  { name: "short string ('hello')", value: 'hello' },
  { name: '{ n: 1 }', value: { n: 1 } },
  {
    name: "{ id: 7, name: 'abc', tags: ['x','y'] }",
    value: { id: 7, name: 'abc', tags: ['x', 'y'] },
  },
  {
    name: `1 KB JSON-like object (${JSON.stringify(kilobyteObject()).length} B JSON)`,
    value: kilobyteObject(),
  },
  { name: '64-byte Uint8Array', value: Uint8Array.from({ length: 64 }, (_, i) => i) },
]

const ring = new Uint8Array(new SharedArrayBuffer(1 << 16), 8, 1 << 15)
let sink = 0

function codecRoundTrip(value: unknown): () => void {
  return () => {
    const end = encodeValue(value, ring, 16, ring.length)
    if (decodeValue(ring, 16, end - 16) === sink) sink++
  }
}

function v8RoundTrip(value: unknown): () => void {
  return () => {
    if (deserialize(serialize(value)) === sink) sink++
  }
}

function cloneRoundTrip(value: unknown): () => void {
  return () => {
    if (structuredClone(value) === sink) sink++
  }
}

function run(name: string, fn: () => void, quick: boolean): Benchmark {
  const b = new Benchmark(name, fn, {
    minSamples: quick ? 5 : 30,
    maxTime: quick ? 0.15 : 1,
    initCount: 1000,
  })
  b.run({ async: false })
  if (b.error) throw b.error
  return b
}

/** `gc()` without --expose-gc on the command line. */
function gcFunction(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/** GCs that happen while `fn` runs (the observer reports them asynchronously). */
async function countGcs(fn: () => void): Promise<number> {
  let count = 0
  const obs = new PerformanceObserver((list) => {
    count += list.getEntries().length
  })
  obs.observe({ entryTypes: ['gc'] })
  fn()
  await new Promise((resolve) => setTimeout(resolve, 50))
  obs.disconnect()
  return count
}

/** Heap bytes per call of `fn` over `ops` calls; NaN if a GC ran in between. */
async function bytesPerOp(fn: () => void, ops: number, gc: () => void): Promise<number> {
  for (let i = 0; i < 10_000; i++) fn() // warm: compiled, caches filled
  gc()
  let before = 0
  let after = 0
  const gcs = await countGcs(() => {
    before = process.memoryUsage().heapUsed
    for (let i = 0; i < ops; i++) fn()
    after = process.memoryUsage().heapUsed
  })
  return gcs === 0 ? (after - before) / ops : NaN
}

async function allocation(name: string, value: unknown, quick: boolean): Promise<CodecAllocation> {
  const gc = gcFunction()
  const encode = (): void => {
    sink += encodeValue(value, ring, 16, ring.length)
  }
  const ops = quick ? 20_000 : 100_000
  const encodeBytesPerOp = await bytesPerOp(encode, ops, gc)
  const v8SerializeBytesPerOp = await bytesPerOp(
    () => {
      sink += serialize(value).length
    },
    ops >> 2,
    gc,
  )
  gc()
  const million = quick ? 200_000 : 1_000_000
  const gcs = await countGcs(() => {
    for (let i = 0; i < million; i++) encode()
  })
  return {
    value: name,
    encodeBytesPerOp,
    v8SerializeBytesPerOp,
    ops,
    gcsPer1MEncodes: (gcs * 1_000_000) / million,
  }
}

export async function codecFigures(quick: boolean): Promise<CodecFigures> {
  const cases: CodecCase[] = []
  for (const { name, value } of CODEC_VALUES) {
    const ours = run(`codec ${name}`, codecRoundTrip(value), quick)
    const v8 = run(`v8 ${name}`, v8RoundTrip(value), quick)
    const clone = run(`structuredClone ${name}`, cloneRoundTrip(value), quick)
    cases.push({
      name,
      bytes: encodeValue(value, ring, 0, ring.length),
      codecHz: ours.hz,
      v8Hz: v8.hz,
      structuredCloneHz: clone.hz,
      vsV8: ours.hz / v8.hz,
      vsStructuredClone: ours.hz / clone.hz,
      rme: ours.stats.rme,
    })
  }
  const allocations: CodecAllocation[] = []
  for (const i of [2, 3, 4]) {
    allocations.push(await allocation(CODEC_VALUES[i].name, CODEC_VALUES[i].value, quick))
  }
  return { cases, allocation: allocations }
}

function fmt(hz: number): string {
  return hz >= 1e6 ? `${(hz / 1e6).toFixed(2)} M/s` : `${(hz / 1e3).toFixed(0)} k/s`
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const f = await codecFigures(quick)
  console.log('encode + decode, one thread (codec into a SharedArrayBuffer view)')
  for (const c of f.cases) {
    console.log(
      `${c.name.padEnd(56)} ${String(c.bytes).padStart(5)} B  codec ${fmt(c.codecHz).padStart(11)}` +
        ` ±${c.rme.toFixed(1)}%  v8 ${fmt(c.v8Hz).padStart(10)} (x${c.vsV8.toFixed(1)})` +
        `  structuredClone ${fmt(c.structuredCloneHz).padStart(10)} (x${c.vsStructuredClone.toFixed(1)})`,
    )
  }
  console.log('heap allocated per encode (the decoded value itself is not counted)')
  for (const a of f.allocation) {
    console.log(
      `${a.value.padEnd(56)} encode ${a.encodeBytesPerOp.toFixed(2)} B/op over ${a.ops} ops` +
        ` (v8.serialize ${a.v8SerializeBytesPerOp.toFixed(0)} B/op);` +
        ` ${a.gcsPer1MEncodes} GCs per 1M encodes`,
    )
  }
  if (sink === 0.5) console.log('')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
