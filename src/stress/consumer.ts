/**
 * Stress consumer: a worker thread that polls frames off the MPMC ring until every
 * producer is done and the ring is empty, checking each frame (length, checksum,
 * producer id), recording its sequence number in a per-producer bitmap (duplicates,
 * per-producer order as this consumer saw it) and its latency in a histogram.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js'
import { Doorbell, MpmcRing } from '../ring/index.js'
import { consumerCounter, DONE, NOT_EMPTY_OFFSET, NOT_FULL_OFFSET, START } from './control.js'
import { checkFrame } from './frame.js'
import { sharedClock, type ConsumerReport, type WorkerSetup } from './protocol.js'
import { Waiter } from './wait.js'

const setup = workerData as WorkerSetup
const port = parentPort
if (port === null) throw new Error('the stress consumer runs as a worker thread')

const MAX_PROBLEMS = 5
const ring = new MpmcRing(setup.ring)
const ctrl = new Int32Array(setup.control)
const notFull = new Doorbell(setup.control, NOT_FULL_OFFSET)
const waiter = new Waiter(
  setup.wait,
  new Doorbell(setup.control, NOT_EMPTY_OFFSET),
  setup.spin,
  ctrl,
)
const now = sharedClock(setup.origin)
const P = setup.producers
const size = setup.frameSize
const counter = consumerCounter(setup, setup.index)
const bytes = ring.bytes
const view = ring.view
// Latencies in ns, 3 significant digits; the histogram grows to whatever it meets.
const histogram = build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, autoResize: true })

// Bitmaps sized to the quota when known, grown by doubling otherwise (duration mode).
const seen: Uint32Array[] = []
const last = new Float64Array(P).fill(-1)
const expect = setup.quota >= 0 ? setup.quota : 1 << 16
for (let p = 0; p < P; p++) seen.push(new Uint32Array(Math.max(1, Math.ceil(expect / 32))))

let received = 0
let corrupt = 0
let duplicates = 0
let outOfOrder = 0
let emptyStalls = 0
const problems: string[] = []
const note = (what: string): void => {
  if (problems.length < MAX_PROBLEMS) problems.push(`consumer ${setup.index}: ${what}`)
}

let polled = -1
const pollReady = (): boolean => {
  polled = ring.poll()
  return polled >= 0 || Atomics.load(ctrl, DONE) === P
}

function take(at: number): void {
  const length = ring.frameLength
  if (length !== size) {
    corrupt++
    note(`a frame of ${length} bytes, expected ${size}`)
    return
  }
  if (!checkFrame(bytes, view, at, size)) {
    corrupt++
    note(
      `checksum mismatch (frame claims producer ${view.getUint32(at, true)}, seq ${view.getUint32(at + 4, true)})`,
    )
    return
  }
  const id = view.getUint32(at, true)
  const seq = view.getUint32(at + 4, true)
  if (id >= P) {
    corrupt++
    note(`a frame from unknown producer ${id}`)
    return
  }
  const ns = Math.round((now() - view.getFloat64(at + 8, true)) * 1e6)
  histogram.recordValue(ns > 0 ? ns : 1)
  let bits = seen[id]
  const word = seq >>> 5
  if (word >= bits.length) {
    const grown = new Uint32Array(Math.max(word + 1, bits.length * 2))
    grown.set(bits)
    seen[id] = bits = grown
  }
  const bit = 1 << (seq & 31)
  if ((bits[word] & bit) !== 0) {
    duplicates++
    note(`producer ${id} frame ${seq} arrived twice`)
  } else {
    bits[word] |= bit
    if (seq < last[id]) {
      outOfOrder++
      note(`producer ${id} frame ${seq} after frame ${last[id]}`)
    }
  }
  if (seq > last[id]) last[id] = seq
}

port.postMessage({ role: 'ready' })
while (Atomics.load(ctrl, START) === 0) Atomics.wait(ctrl, START, 0, 100)

const startMs = now()
for (;;) {
  let at = ring.poll()
  if (at < 0) {
    // Every producer published its last commit before counting itself done, so
    // after seeing DONE === P an empty poll means empty for good.
    if (Atomics.load(ctrl, DONE) === P) {
      at = ring.poll()
      if (at < 0) break
    } else {
      emptyStalls++
      waiter.wait(pollReady)
      at = polled
      if (at < 0) continue
    }
  }
  take(at)
  ring.release()
  if (waiter.rings) notFull.ring()
  received++
  if ((received & 255) === 0) Atomics.store(ctrl, counter, received)
}
Atomics.store(ctrl, counter, received)
const endMs = now()

const report: ConsumerReport = {
  role: 'consumer',
  index: setup.index,
  received,
  corrupt,
  duplicates,
  outOfOrder,
  seen: seen.map((b) => b.buffer as ArrayBuffer),
  histogram: encodeIntoCompressedBase64(histogram),
  casRetries: ring.casRetries,
  emptySpins: ring.emptySpins,
  emptyStalls,
  sleeps: waiter.bell.sleeps,
  yields: waiter.yields,
  notifies: notFull.notifies,
  problems,
  startMs,
  endMs,
}
port.postMessage(report, report.seen)
